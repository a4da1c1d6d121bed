"""What the API takes and returns for SLA policies and business hours.

Inputs forbid unknown fields. The schema states the shapes; the service checks the rest
and names the field: a time zone or country it does not know, a subdivision of another
country, an interval ending before it starts or overlapping the next (`hours.mon`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, Field, Strict, StrictBool, WithJsonSchema

from tandem.campaigns.models import TouchpointKind
from tandem.people.schemas import StrictIn
from tandem.sla.models import SlaUnit
from tandem.sla.validation import MAX_MINUTES, countries, time_zones

# What a schema can state is stated (time zones, countries, kinds, times of day), so a
# client knows before sending; the services check again and add what no schema can say.
CLOCK = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
Clock = Annotated[str, Field(pattern=CLOCK, description="HH:MM, 00:00 to 24:00")]
Interval = tuple[Clock, Clock]
Share = Annotated[float, Strict()]  # a JSON number (an integer too), never a string
COUNTRY_CODES = sorted({"", *countries(), *(c.lower() for c in countries())})


def _one_of(values: Any, what: str) -> Any:
    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"“{value}” is not {what}.")
        return value

    return check


TimeZone = Annotated[
    str,
    AfterValidator(_one_of(frozenset(time_zones()), "a time zone; use e.g. Europe/Berlin")),
    WithJsonSchema({"type": "string", "enum": list(time_zones())}),
]
Kind = Annotated[
    str,
    AfterValidator(_one_of(frozenset(["", *TouchpointKind.values]), "a touchpoint kind")),
    WithJsonSchema({"type": "string", "enum": ["", *TouchpointKind.values]}),
]
HolidayCountry = Annotated[
    str,
    AfterValidator(_one_of(frozenset(COUNTRY_CODES), "a country with known public holidays")),
    WithJsonSchema({"type": "string", "enum": COUNTRY_CODES}),
]

KIND_HELP = "A touchpoint kind (" + ", ".join(TouchpointKind.values) + "); empty matches any."
SOURCE_HELP = "A person's source as stored (compared without case); empty matches any."
AMOUNT_HELP = (
    "How many `unit`s. Minutes and hours are business minutes of the team's calendar; "
    "days are business days: due at the same clock time that many open days later."
)
SHARE_HELP = "Remind the owner when this share of the business time has passed; 0: never."
POSITION_HELP = "Where in the order (1 = checked first); the first matching policy applies."


class SlaPolicyIn(StrictIn):
    name: str = Field(min_length=1, max_length=100, pattern=r"\S")
    amount: int = Field(ge=1, le=MAX_MINUTES, description=AMOUNT_HELP)
    unit: SlaUnit = SlaUnit.MINUTES
    source: str = Field("", max_length=100, description=SOURCE_HELP)
    touchpoint_kind: Kind = Field("", description=KIND_HELP)
    remind_at_share: Share = Field(0.5, ge=0, lt=1, description=SHARE_HELP)
    reassign_on_breach: StrictBool = False
    is_active: StrictBool = True
    position: int | None = Field(
        None, ge=1, le=10_000, description=POSITION_HELP + " Default: last."
    )


class SlaPolicyPatch(StrictIn):
    """Only the fields sent change (none is nullable; None marks "not sent")."""

    name: str = Field(None, min_length=1, max_length=100, pattern=r"\S")  # type: ignore[assignment]
    amount: int = Field(None, ge=1, le=MAX_MINUTES, description=AMOUNT_HELP)  # type: ignore[assignment]
    unit: SlaUnit = None  # type: ignore[assignment]
    source: str = Field(None, max_length=100, description=SOURCE_HELP)  # type: ignore[assignment]
    touchpoint_kind: Kind = Field(None, description=KIND_HELP)  # type: ignore[assignment]
    remind_at_share: Share = Field(None, ge=0, lt=1, description=SHARE_HELP)  # type: ignore[assignment]
    reassign_on_breach: StrictBool = None  # type: ignore[assignment]
    is_active: StrictBool = None  # type: ignore[assignment]
    position: int = Field(None, ge=1, le=10_000, description=POSITION_HELP)  # type: ignore[assignment]


class SlaPolicyOut(Schema):
    id: int
    name: str
    position: int
    source: str
    touchpoint_kind: str
    amount: int
    unit: SlaUnit
    minutes: int = Field(description="`amount` in minutes of its unit (a day counts 1,440).")
    time_display: str = Field(description='As the pages show it: "5 business days".')
    remind_at_share: float
    reassign_on_breach: bool
    is_active: bool


class SlaPolicyPage(Schema):
    items: list[SlaPolicyOut]
    count: int
    count_exact: bool
    next_cursor: str | None
    limit: int
    offset: int


class ClosingDay(StrictIn):
    date: dt.date = Field(examples=["2026-12-24"])
    name: str = Field("", max_length=100)


DAY_HELP = 'Open intervals, local time, in order: [["09:00", "12:00"], ["13:00", "17:00"]].'


class Week(StrictIn):
    """A weekday left out or empty is closed; "24:00" closes at midnight. Each interval
    ends after it starts and before the next starts; the week has at least one."""

    mon: list[Interval] = Field(default_factory=list, description=DAY_HELP)
    tue: list[Interval] = Field(default_factory=list, description=DAY_HELP)
    wed: list[Interval] = Field(default_factory=list, description=DAY_HELP)
    thu: list[Interval] = Field(default_factory=list, description=DAY_HELP)
    fri: list[Interval] = Field(default_factory=list, description=DAY_HELP)
    sat: list[Interval] = Field(default_factory=list, description=DAY_HELP)
    sun: list[Interval] = Field(default_factory=list, description=DAY_HELP)


HOURS_HELP = (
    'Open intervals per weekday, local time: {"mon": [["09:00", "12:00"], ["13:00", '
    '"17:00"]], …}; a day left out or empty is closed; "24:00" closes at midnight.'
)


class BusinessHoursIn(StrictIn):
    time_zone: TimeZone = Field(description="IANA name, e.g. Europe/Berlin.")
    country: HolidayCountry = Field("", description="ISO code whose public holidays close.")
    subdivision: str = Field(
        "", max_length=40, description="A state or region of `country` (its holidays too)."
    )
    hours: Week = Field(description=HOURS_HELP)
    closing_days: list[ClosingDay] = Field(
        default_factory=list, description="The company's own days off, besides public holidays."
    )


class CalendarTeam(Schema):
    id: int
    name: str


class BusinessHoursOut(Schema):
    team: CalendarTeam | None = Field(description="null: the company default.")
    uses: Literal["team", "company", "built_in"] = Field(
        description="Where these hours come from: the team's own, the company default, or "
        "the built-in week (Monday to Friday 09:00-17:00, server time zone) when none is set."
    )
    time_zone: str
    country: str
    subdivision: str
    hours: dict[str, list[list[str]]]
    closing_days: list[dict[str, str]]
    open_minutes_per_week: int
    updated_at: dt.datetime | None


class BusinessHoursPage(Schema):
    items: list[BusinessHoursOut]
    count: int

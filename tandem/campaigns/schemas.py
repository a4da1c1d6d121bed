"""What the API takes and returns for campaigns (fields listed by name).

Inputs forbid unknown fields (a misspelt field is a 422 naming it). What a
schema can state is stated here (lengths, kinds, dates); the rest is the
service's: a key taken by another campaign answers 409; an end before the
start, or an empty key with a name that makes none (no letter or digit), 422.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.conf import settings
from django.urls import reverse
from ninja import Schema
from pydantic import BeforeValidator, Field, StrictBool

from tandem.campaigns.models import Campaign, CampaignKind
from tandem.people.schemas import StrictIn, UserRef


def _iso_date(value: Any) -> Any:
    """A date as the schema says (YYYY-MM-DD), not a time or a number read as one."""
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(value)
    raise ValueError("Give a date as YYYY-MM-DD, e.g. 2026-03-01.")


Day = Annotated[dt.date, BeforeValidator(_iso_date)]
KEY_PATTERN = r"^$|[A-Za-z0-9]"  # empty (made from the name) or with a letter or digit
KEY_HELP = (
    "What utm_campaign values map to; stored as a lower-case slug "
    "('Spring Fair' → spring-fair). Made from the name when empty."
)


Money = Annotated[
    Decimal,
    Field(
        ge=0,
        max_digits=14,
        decimal_places=2,
        description="Base currency (TANDEM_BASE_CURRENCY), ≥ 0, at most two decimals; "
        'send a string ("1250.00") to keep it exact.',
    ),
]
CampaignRefId = Annotated[int, Field(ge=1, le=2**63 - 1, description="A campaign id")]
UTM_MAPPINGS_HELP = (
    "Further UTM tags that map touchpoints to this campaign, beside its key; the whole "
    "list replaces the campaign's mappings. A blank tag matches any value; the most "
    "specific mapping wins."
)


class UtmMappingIn(StrictIn):
    utm_campaign: str = Field("", max_length=100, description="Kept as a lower-case slug.")
    utm_source: str = Field("", max_length=200, description="Kept lower-case; blank: any.")
    utm_medium: str = Field("", max_length=200, description="Kept lower-case; blank: any.")


class UtmMappingOut(Schema):
    id: int
    utm_campaign: str
    utm_source: str
    utm_medium: str


class CampaignIn(StrictIn):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S", description="Not blank.")
    key: str = Field("", max_length=100, pattern=KEY_PATTERN, description=KEY_HELP)
    kind: CampaignKind = CampaignKind.OTHER
    description: str = ""
    starts_on: Day | None = None
    ends_on: Day | None = Field(None, description="Not before `starts_on`.")
    is_active: StrictBool = True
    parent: CampaignRefId | None = Field(None, description="The campaign this one sits under.")
    planned_budget: Money | None = None
    utm_mappings: list[UtmMappingIn] = Field(
        default_factory=list, max_length=200, description=UTM_MAPPINGS_HELP
    )


class CampaignPatch(StrictIn):
    """Only the fields sent change; `null` clears a date, the parent or the budget.

    The other fields are not nullable (the schema says so, and null is a 422);
    their None default only marks "not sent" for `exclude_unset`.
    """

    name: str = Field(None, min_length=1, max_length=200, pattern=r"\S")  # type: ignore[assignment]
    key: str = Field(None, max_length=100, pattern=r"[A-Za-z0-9]", description=KEY_HELP)  # type: ignore[assignment]
    kind: CampaignKind = None  # type: ignore[assignment]
    description: str = None  # type: ignore[assignment]
    starts_on: Day | None = None
    ends_on: Day | None = Field(None, description="Not before `starts_on`.")
    is_active: StrictBool = None  # type: ignore[assignment]
    parent: CampaignRefId | None = Field(
        None, description="`null`: top level. Not this campaign nor one under it."
    )
    planned_budget: Money | None = Field(None, description="`null`: no budget.")
    utm_mappings: list[UtmMappingIn] = Field(
        None,  # type: ignore[arg-type]
        max_length=200,
        description=UTM_MAPPINGS_HELP,
    )


class CampaignRef(Schema):
    id: int
    name: str
    key: str


class CampaignOut(Schema):
    id: int
    name: str
    key: str
    kind: CampaignKind
    description: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    owner: UserRef | None
    is_active: bool
    created_at: dt.datetime
    form_count: int = Field(description="Web forms that credit this campaign.")
    touchpoint_count: int
    people_count: int = Field(description="Distinct people with a touchpoint of this campaign.")
    parent: CampaignRef | None
    planned_budget: Decimal | None = Field(description="Base currency; null: no budget.")
    actual_cost: Decimal = Field(description="The sum of its cost lines (base currency).")
    budget_left: Decimal | None = Field(
        description="planned_budget − actual_cost (negative: over budget); null: no budget."
    )
    currency: str = Field(description="The base currency of the budget and the costs.")
    utm_mappings: list[UtmMappingOut]
    url: str = Field(description="The campaign's page in the web app.")

    @staticmethod
    def resolve_budget_left(obj: Campaign) -> Decimal | None:
        if obj.planned_budget is None:
            return None
        return obj.planned_budget - obj.actual_cost  # type: ignore[attr-defined]

    @staticmethod
    def resolve_currency(obj: Campaign) -> str:
        return str(settings.TANDEM_BASE_CURRENCY)

    @staticmethod
    def resolve_utm_mappings(obj: Campaign) -> list[Any]:
        return list(obj.utm_mappings.all())

    @staticmethod
    def resolve_url(obj: Campaign, context: dict[str, Any]) -> str:
        return context["request"].build_absolute_uri(reverse("campaigns:detail", args=[obj.pk]))


class CampaignPage(Schema):
    items: list[CampaignOut]
    count: int
    count_exact: bool = Field(description="False when the count is capped.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    limit: int
    offset: int


class CostIn(StrictIn):
    spent_on: Day = Field(description="The day it was spent.")
    amount: Money
    note: str = Field("", max_length=300)


class CostPatch(StrictIn):
    """Only the fields sent change; none of them is nullable."""

    spent_on: Day = None  # type: ignore[assignment]
    amount: Money = None  # type: ignore[assignment]
    note: str = Field(None, max_length=300)  # type: ignore[assignment]


class CostOut(Schema):
    id: int
    spent_on: dt.date
    amount: Decimal = Field(description="Base currency.")
    note: str
    created_by: UserRef | None
    created_at: dt.datetime


class CostPage(Schema):
    items: list[CostOut]
    count: int
    total: Decimal = Field(description="The sum of all the campaign's cost lines.")
    currency: str
    limit: int
    offset: int

"""What /api/v1/deals, /api/v1/pipelines and /api/v1/deal-reasons take and return.

Inputs refuse unknown fields (a misspelt field is a 422 naming it). Money goes in as a
number or a decimal string and comes out as a decimal string with two places
("12500.00"), so no client rounds it through a float. The services check everything
again, and the rules no schema can state (a stage of that pipeline, a rate for a
currency other than the base one, a lost reason).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from django.urls import NoReverseMatch, reverse
from ninja import Schema
from pydantic import BeforeValidator, Field, Strict, StrictBool

from tandem.deals.models import (
    ContactRole,
    Deal,
    DealContact,
    DealStageChange,
    DealStatus,
    Pipeline,
    PipelineStage,
)
from tandem.deals.services import COMPETITOR_MAX, NAME_MAX, NOTE_MAX, TEXT_MAX
from tandem.people.schemas import NOT_BLANK, CompanyRef, IdOrName, Moment, StrictIn, UserRef


def _whole(value: Any) -> Any:
    """A whole number sent as 30.0 is the integer 30, as JSON Schema reads it; a boolean or
    a numeric string stays refused (StrictInt), and 30.5 too."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


# The bounds first, then strictness and the whole-number reading: in this order pydantic
# keeps the bounds in the schema (minimum, maximum) and checks them.
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1), Strict(), BeforeValidator(_whole)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Rate = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=8)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$", description="ISO 4217, e.g. EUR")]
Probability = Annotated[
    int,
    Field(ge=0, le=100, description="Percent, 0 to 100"),
    Strict(),
    BeforeValidator(_whole),
]
Position = Annotated[int, Field(ge=0, le=1_000_000), Strict(), BeforeValidator(_whole)]
ReasonName = Annotated[str, Field(min_length=1, max_length=100, pattern=NOT_BLANK)]
OWNER_HELP = "User id or user name; null for nobody. Left out on create: the caller."
RATE_HELP = (
    "Base-currency units per one unit of `currency`: 1 for the base currency (it may be "
    "left out), needed for any other."
)


def money(value: Decimal) -> str:
    return f"{value:.2f}"


# --- deals ---------------------------------------------------------------------------------


class DealContactIn(StrictIn):
    person: RecordId = Field(description="Person id")
    role: ContactRole = ContactRole.OTHER
    is_primary: StrictBool = False


class DealIn(StrictIn):
    name: str = Field(min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK)
    pipeline: RecordId | None = Field(None, description="Pipeline id; the default one if left out")
    stage: RecordId | None = Field(None, description="Stage id; the pipeline's first if left out")
    company: RecordId | None = Field(None, description="Company id")
    owner: IdOrName | None = Field(None, description=OWNER_HELP)
    amount: Amount = Field(Decimal("0"), description="In `currency`, up to 2 decimal places")
    currency: Currency | None = Field(None, description="ISO 4217; the base currency if left out")
    exchange_rate: Rate | None = Field(None, description=RATE_HELP)
    expected_close_on: dt.date | None = None
    description: str = Field("", max_length=TEXT_MAX)
    contacts: list[DealContactIn] = Field(
        default_factory=list,
        max_length=100,
        description="People on the deal with their roles; sal (and earlier) move to opportunity",
    )
    created_at: Moment | None = Field(
        None, description="When it was opened (imports); now if left out; not in the future"
    )


class DealPatch(StrictIn):
    """Only the fields sent change. `stage` (or `pipeline`) moves an open deal; close and
    reopen it with their own endpoints."""

    name: str = Field(None, min_length=1, max_length=NAME_MAX, pattern=NOT_BLANK)  # type: ignore[assignment]
    pipeline: RecordId = Field(None, description="Moves the deal to this pipeline's first stage")  # type: ignore[assignment]
    stage: RecordId = Field(None, description="Moves the open deal to this stage")  # type: ignore[assignment]
    company: RecordId | None = Field(None, description="Company id; null for none")
    owner: IdOrName | None = Field(None, description="User id or user name; null for nobody")
    amount: Amount = Field(None)  # type: ignore[assignment]
    currency: Currency = Field(None)  # type: ignore[assignment]
    exchange_rate: Rate = Field(None, description=RATE_HELP)  # type: ignore[assignment]
    expected_close_on: dt.date | None = None
    description: str | None = Field(None, max_length=TEXT_MAX)
    competitor: str | None = Field(None, max_length=COMPETITOR_MAX)
    close_note: str | None = Field(None, max_length=TEXT_MAX)
    close_reason: RecordId | None = Field(
        None, description="A closed deal's reason (of its won or lost list)"
    )


class DealMoveIn(StrictIn):
    stage: RecordId = Field(description="An active stage (of another pipeline: the deal moves)")
    note: str = Field("", max_length=NOTE_MAX)


class DealCloseIn(StrictIn):
    status: Literal["won", "lost"]
    reason_id: RecordId | None = Field(
        None, description="An active reason of that kind (GET /deal-reasons); needed for lost"
    )
    competitor: str = Field("", max_length=COMPETITOR_MAX)
    note: str = Field("", max_length=TEXT_MAX)
    closed_at: Moment | None = Field(None, description="Now if left out; not in the future")


class DealReopenIn(StrictIn):
    stage: RecordId | None = Field(None, description="The stage it was closed from if left out")


class DealContactOut(Schema):
    person_id: int
    name: str
    role: ContactRole
    is_primary: bool

    @staticmethod
    def resolve_name(obj: DealContact) -> str:
        return str(obj.person)


class DealStageRef(Schema):
    id: int
    name: str
    probability: int


class DealPipelineRef(Schema):
    id: int
    name: str


class DealReasonRef(Schema):
    id: int
    name: str


class DealOut(Schema):
    id: int
    name: str
    pipeline: DealPipelineRef
    stage: DealStageRef
    status: DealStatus
    company: CompanyRef | None
    owner: UserRef | None
    amount: str = Field(description="In `currency`, two decimal places")
    currency: str
    exchange_rate: str
    amount_base: str = Field(description="amount × exchange_rate in the base currency, to the cent")
    weighted_amount: str = Field(
        description="Open: amount_base × the stage's probability; won: amount_base; lost: 0"
    )
    expected_close_on: dt.date | None
    close_reason: DealReasonRef | None
    close_note: str
    competitor: str
    description: str
    contacts: list[DealContactOut]
    created_at: dt.datetime
    updated_at: dt.datetime
    stage_changed_at: dt.datetime | None
    closed_at: dt.datetime | None
    url: str = Field(description="The deal's page in the web app.")

    @staticmethod
    def resolve_amount(obj: Deal) -> str:
        return money(obj.amount)

    @staticmethod
    def resolve_amount_base(obj: Deal) -> str:
        return money(obj.amount_base)

    @staticmethod
    def resolve_exchange_rate(obj: Deal) -> str:
        return f"{obj.exchange_rate:.8f}"

    @staticmethod
    def resolve_weighted_amount(obj: Deal) -> str:
        if obj.status == DealStatus.WON:
            return money(obj.amount_base)
        if obj.status == DealStatus.LOST:
            return "0.00"
        weighted = obj.amount_base * obj.stage.probability / 100
        return money(weighted.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))

    @staticmethod
    def resolve_contacts(obj: Deal) -> list[DealContact]:
        return list(obj.contacts.all())

    @staticmethod
    def resolve_url(obj: Deal, context: dict) -> str:
        try:
            path = reverse("deals:detail", args=[obj.pk])
        except NoReverseMatch:  # the deal pages are another module's; the path is agreed
            path = f"/deals/{obj.pk}/"
        return context["request"].build_absolute_uri(path)


class DealTotals(Schema):
    open_amount: str = Field(description="Open deals, base currency")
    weighted_amount: str = Field(description="Open deals × their stage's probability")
    won_amount: str = Field(description="Won deals, base currency")


class DealPage(Schema):
    items: list[DealOut]
    count: int
    count_exact: bool = Field(description="False when the count is capped.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    limit: int
    offset: int
    totals: DealTotals = Field(description="Over every matching deal, not only this page.")


class DealStageChangeOut(Schema):
    from_stage: DealStageRef | None
    to_stage: DealStageRef | None
    from_status: str
    to_status: DealStatus
    changed_at: dt.datetime
    changed_by: UserRef | None
    note: str


class DealStageHistory(Schema):
    items: list[DealStageChangeOut]


def history_rows(deal: Deal) -> list[DealStageChange]:
    return list(
        DealStageChange.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )


# --- pipelines -----------------------------------------------------------------------------


class PipelineStageIn(StrictIn):
    name: ReasonName
    probability: Probability = 10


class PipelineStageAddIn(StrictIn):
    name: ReasonName
    probability: Probability = 10
    position: Position | None = Field(None, description="Last if left out")


class PipelineStagePatch(StrictIn):
    name: ReasonName = Field(None)  # type: ignore[assignment]
    probability: Probability = Field(None)  # type: ignore[assignment]
    position: Position = Field(None)  # type: ignore[assignment]
    is_active: StrictBool = Field(None, description="false archives the stage")  # type: ignore[assignment]
    move_open_deals_to: RecordId | None = Field(
        None, description="Archiving a stage with open deals: the stage they move to"
    )


class PipelineIn(StrictIn):
    name: ReasonName
    is_default: StrictBool = False
    is_active: StrictBool = True
    position: Position | None = None
    stages: list[PipelineStageIn] | None = Field(
        None, min_length=1, max_length=50, description="In order; four defaults if left out"
    )


class PipelinePatch(StrictIn):
    name: ReasonName = Field(None)  # type: ignore[assignment]
    is_default: StrictBool = Field(None, description="true makes it the default")  # type: ignore[assignment]
    is_active: StrictBool = Field(None, description="false archives it")  # type: ignore[assignment]
    position: Position = Field(None)  # type: ignore[assignment]


class PipelineStageOut(Schema):
    id: int
    name: str
    position: int
    probability: int
    is_active: bool


class PipelineOut(Schema):
    id: int
    name: str
    is_default: bool
    is_active: bool
    position: int
    stages: list[PipelineStageOut]

    @staticmethod
    def resolve_stages(obj: Pipeline) -> list[PipelineStage]:
        return list(obj.stages.order_by("position", "id"))


class PipelineList(Schema):
    items: list[PipelineOut]


# --- reasons -------------------------------------------------------------------------------


class DealReasonIn(StrictIn):
    kind: Literal["won", "lost"]
    name: ReasonName
    position: Position | None = Field(None, description="Last in its list if left out")
    is_active: StrictBool = True


class DealReasonPatch(StrictIn):
    name: ReasonName = Field(None)  # type: ignore[assignment]
    position: Position = Field(None)  # type: ignore[assignment]
    is_active: StrictBool = Field(None, description="false retires it")  # type: ignore[assignment]


class DealReasonOut(Schema):
    id: int
    kind: str
    name: str
    position: int
    is_active: bool


class DealReasonList(Schema):
    items: list[DealReasonOut]

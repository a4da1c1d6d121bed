"""The filter of GET /api/v1/deals, its page and its totals (set-based: one count, one sum).

The deal list page (deals-ui) may use `DealFilter.apply` too; the filter keeps every
rule in one place: an unknown pipeline, stage, owner, company or person is a 422 naming
the parameter, never an empty list that looks like "no deals".
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from pydantic import Field

from tandem.accounts.models import User
from tandem.core.pagination import Page, SortSpec, paginate
from tandem.deals.models import Deal, DealContact, DealStatus, Pipeline, PipelineStage
from tandem.people.filters import QueryFilter
from tandem.people.models import Company, Person

BIGINT_MAX = 2**63 - 1
MONEY_MAX = 99_999_999_999_999
NEWEST = SortSpec(columns=("created_at",), descending=True)
OLDEST = SortSpec(columns=("created_at",), descending=False)
SORTS = {"newest": NEWEST, "oldest": OLDEST}


def _owner(ref: str, viewer: User | None) -> Q:
    value = ref.strip()
    if value.lower() == "me":
        if viewer is None:
            raise ValidationError({"owner": "'me' needs a signed-in user."})
        return Q(owner_id=viewer.pk)
    if value.lower() == "none":
        return Q(owner__isnull=True)
    if value.isascii() and value.isdigit():
        if len(value) < 19 and User.objects.filter(pk=int(value)).exists():
            return Q(owner_id=int(value))
    elif User.objects.filter(username=value).exists():
        return Q(owner__username=value)
    raise ValidationError({"owner": f"There is no user {value!r}."})


class DealFilter(QueryFilter):
    pipeline: int | None = Field(None, ge=1, le=BIGINT_MAX, description="Pipeline id")
    stage: int | None = Field(None, ge=1, le=BIGINT_MAX, description="Stage id")
    status: DealStatus | None = Field(None, description="open, won or lost")
    owner: str | None = Field(
        None, max_length=150, description="`me`, a user id or user name, or `none`"
    )
    company: int | None = Field(None, ge=1, le=BIGINT_MAX, description="Company id")
    person: int | None = Field(
        None, ge=1, le=BIGINT_MAX, description="Person id: deals they are a contact on"
    )
    amount_min: float | None = Field(
        None, ge=0, le=MONEY_MAX, description="At least this amount in the base currency"
    )
    amount_max: float | None = Field(
        None, ge=0, le=MONEY_MAX, description="At most this amount in the base currency"
    )
    close_from: dt.date | None = Field(None, description="Expected to close on or after")
    close_to: dt.date | None = Field(None, description="Expected to close on or before")
    q: str | None = Field(None, max_length=200, description="Words in the deal's or company's name")
    sort: Literal["newest", "oldest"] | None = Field(
        None, description="newest (the default) or oldest"
    )

    def apply(self, qs: QuerySet, *, viewer: User | None) -> QuerySet:
        errors: dict[str, str] = {}
        if self.pipeline:
            if not Pipeline.objects.filter(pk=self.pipeline).exists():
                errors["pipeline"] = f"There is no pipeline {self.pipeline}."
            qs = qs.filter(pipeline_id=self.pipeline)
        if self.stage:
            if not PipelineStage.objects.filter(pk=self.stage).exists():
                errors["stage"] = f"There is no stage {self.stage}."
            qs = qs.filter(stage_id=self.stage)
        if self.status:
            qs = qs.filter(status=self.status)
        if self.owner and self.owner.strip():
            try:
                qs = qs.filter(_owner(self.owner, viewer))
            except ValidationError as err:
                errors["owner"] = err.message_dict["owner"][0]
        if self.company:
            if not Company.objects.filter(pk=self.company).exists():
                errors["company"] = f"There is no company {self.company}."
            qs = qs.filter(company_id=self.company)
        if self.person:
            if not Person.objects.filter(pk=self.person).exists():
                errors["person"] = f"There is no person {self.person}."
            qs = qs.filter(
                pk__in=DealContact.objects.filter(person_id=self.person).values("deal_id")
            )
        if self.amount_min is not None:
            qs = qs.filter(amount_base__gte=Decimal(repr(self.amount_min)))
        if self.amount_max is not None:
            if self.amount_min is not None and self.amount_max < self.amount_min:
                errors["amount_max"] = "Not below amount_min."
            qs = qs.filter(amount_base__lte=Decimal(repr(self.amount_max)))
        if self.close_from:
            qs = qs.filter(expected_close_on__gte=self.close_from)
        if self.close_to:
            if self.close_from and self.close_to < self.close_from:
                errors["close_to"] = "Not before close_from."
            qs = qs.filter(expected_close_on__lte=self.close_to)
        if self.q and self.q.strip():
            for word in self.q.split()[:10]:
                qs = qs.filter(Q(name__icontains=word) | Q(company__name__icontains=word))
        if errors:
            raise ValidationError(errors)
        return qs


def totals(qs: QuerySet) -> dict[str, Any]:
    """In the base currency, over the matching deals: the open amount, the open amount
    weighted by each stage's probability (the forecast), and the amount won."""
    money = DecimalField(max_digits=18, decimal_places=2)
    weighted = ExpressionWrapper(F("amount_base") * F("stage__probability") / Value(100), money)
    zero = Value(Decimal("0"), money)
    open_ = qs.filter(status=DealStatus.OPEN).aggregate(
        amount=Coalesce(Sum("amount_base"), zero), weighted=Coalesce(Sum(weighted), zero)
    )
    won = qs.filter(status=DealStatus.WON).aggregate(amount=Coalesce(Sum("amount_base"), zero))
    cent = Decimal("0.01")
    return {
        "open_amount": Decimal(open_["amount"]).quantize(cent, rounding=ROUND_HALF_UP),
        "weighted_amount": Decimal(open_["weighted"]).quantize(cent, rounding=ROUND_HALF_UP),
        "won_amount": Decimal(won["amount"]).quantize(cent, rounding=ROUND_HALF_UP),
    }


def deals_page(
    *, viewer: User | None, filters: DealFilter, limit: int, cursor: str | None, offset: int
) -> Page:
    qs = filters.apply(Deal.objects.all(), viewer=viewer)
    spec = SORTS.get(filters.sort or "newest", NEWEST)
    page = paginate(
        qs.select_related("pipeline", "stage", "owner", "company", "close_reason").prefetch_related(
            "contacts__person"
        ),
        spec=spec,
        limit=limit,
        cursor=cursor,
        offset=offset,
    )
    page.extra["totals"] = totals(qs)
    return page

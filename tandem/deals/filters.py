"""The one filter of the deal list: the Deals list page and its totals (and the API list).

Amounts are compared in the base currency (`amount_base`), so "deals over 10,000" means
the same thing whatever currency a deal was agreed in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from pydantic import Field, model_validator

from tandem.accounts.models import User
from tandem.core.pagination import SortSpec
from tandem.deals.models import DealStatus, Pipeline, PipelineStage
from tandem.followups.filters import owner_condition
from tandem.people.filters import QueryFilter
from tandem.people.models import Company

BIGINT_MAX = 2**63 - 1
AMOUNT_MAX = Decimal("99999999999999.99")

DealSort = Literal["-created_at", "created_at", "name", "-name", "-updated_at", "updated_at"]
DEAL_SORTS: dict[str, SortSpec] = {
    "-created_at": SortSpec(("created_at",), descending=True),
    "created_at": SortSpec(("created_at",)),
    "name": SortSpec(("name",)),
    "-name": SortSpec(("name",), descending=True),
    "-updated_at": SortSpec(("updated_at",), descending=True),
    "updated_at": SortSpec(("updated_at",)),
}
SORT_LABELS = [
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("name", "Name, A–Z"),
    ("-name", "Name, Z–A"),
    ("-updated_at", "Recently updated"),
]


class DealFilter(QueryFilter):
    pipeline: int | None = Field(None, ge=1, le=BIGINT_MAX, description="Pipeline id")
    stage: int | None = Field(None, ge=1, le=BIGINT_MAX, description="Stage id")
    status: DealStatus | None = Field(None, description="open, won or lost")
    owner: str | None = Field(
        None, max_length=150, description="`me`, a user id or user name, or `none` for unowned"
    )
    company: int | None = Field(None, ge=1, le=BIGINT_MAX, description="Company id")
    close_from: dt.date | None = Field(None, description="Expected to close on or after (date)")
    close_to: dt.date | None = Field(None, description="Expected to close on or before (date)")
    amount_min: Decimal | None = Field(
        None,
        ge=0,
        le=AMOUNT_MAX,
        decimal_places=2,
        description="Amount in the base currency, at least",
    )
    amount_max: Decimal | None = Field(
        None,
        ge=0,
        le=AMOUNT_MAX,
        decimal_places=2,
        description="Amount in the base currency, at most",
    )
    q: str | None = Field(None, max_length=200, description="Words in the deal's or company's name")
    sort: DealSort = "-created_at"

    @model_validator(mode="after")
    def _ranges_in_order(self) -> DealFilter:
        if self.close_from and self.close_to and self.close_from > self.close_to:
            raise ValueError("close_to: Pick an end on or after the start.")
        if (
            self.amount_min is not None
            and self.amount_max is not None
            and self.amount_min > self.amount_max
        ):
            raise ValueError("amount_max: Give a maximum at least the minimum.")
        return self

    @classmethod
    def from_query(cls, params: dict[str, str]) -> DealFilter:
        """As QueryFilter's, with the range checks named by the field they concern."""
        try:
            return super().from_query(params)
        except ValidationError as err:
            fixed: dict[str, list[str]] = {}
            for key, messages in err.message_dict.items():
                for message in messages:
                    name, text = key, message
                    head, _, rest = message.removeprefix("Value error, ").partition(": ")
                    if rest and head in cls.model_fields:
                        name, text = head, rest
                    fixed.setdefault(name, []).append(text)
            raise ValidationError(fixed) from None

    @property
    def sort_spec(self) -> SortSpec:
        return DEAL_SORTS[self.sort]

    @property
    def is_filtered(self) -> bool:
        return any(
            [
                self.pipeline,
                self.stage,
                self.status,
                self.owner,
                self.company,
                self.close_from,
                self.close_to,
                self.amount_min is not None,
                self.amount_max is not None,
                self.q and self.q.strip(),
            ]
        )

    def apply(self, qs: QuerySet, *, viewer: User | None) -> QuerySet:
        """Narrow `qs` (deals); an id that names nothing is an error naming its field."""
        if self.pipeline:
            if not Pipeline.objects.filter(pk=self.pipeline).exists():
                raise ValidationError({"pipeline": f"There is no pipeline {self.pipeline}."})
            qs = qs.filter(pipeline_id=self.pipeline)
        if self.stage:
            if not PipelineStage.objects.filter(pk=self.stage).exists():
                raise ValidationError({"stage": f"There is no stage {self.stage}."})
            qs = qs.filter(stage_id=self.stage)
        if self.status:
            qs = qs.filter(status=self.status)
        if self.owner and self.owner.strip():
            qs = qs.filter(owner_condition(self.owner, viewer))
        if self.company:
            if not Company.objects.filter(pk=self.company).exists():
                raise ValidationError({"company": f"There is no company {self.company}."})
            qs = qs.filter(company_id=self.company)
        if self.close_from:
            qs = qs.filter(expected_close_on__gte=self.close_from)
        if self.close_to:
            qs = qs.filter(expected_close_on__lte=self.close_to)
        if self.amount_min is not None:
            qs = qs.filter(amount_base__gte=self.amount_min)
        if self.amount_max is not None:
            qs = qs.filter(amount_base__lte=self.amount_max)
        if self.q and self.q.strip():
            for word in self.q.split():
                qs = qs.filter(Q(name__icontains=word) | Q(company__name__icontains=word))
        return qs

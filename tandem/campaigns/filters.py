"""The one filter for the campaign list: the HTML list and the API list share it (ADR 0001)."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q, QuerySet
from pydantic import Field

from tandem.campaigns.models import CampaignKind
from tandem.core.pagination import SortSpec
from tandem.people.filters import QueryFilter

CampaignSort = Literal["-created_at", "created_at", "name", "-name"]

CAMPAIGN_SORTS: dict[str, SortSpec] = {
    "-created_at": SortSpec(("created_at",), descending=True),
    "created_at": SortSpec(("created_at",)),
    "name": SortSpec(("name",)),
    "-name": SortSpec(("name",), descending=True),
}


class CampaignFilter(QueryFilter):
    q: str | None = Field(None, max_length=200, description="Name or key prefix, any case")
    kind: CampaignKind | None = None
    is_active: bool | None = Field(None, description="true: running campaigns; false: ended")
    parent: str | None = Field(
        None,
        pattern=r"^(none|[1-9][0-9]{0,17})$",
        description="Campaigns directly under this campaign id; 'none': top-level ones",
    )
    sort: CampaignSort = "-created_at"

    @property
    def sort_spec(self) -> SortSpec:
        return CAMPAIGN_SORTS[self.sort]

    @property
    def is_filtered(self) -> bool:
        return bool(
            (self.q and self.q.strip()) or self.kind or self.is_active is not None or self.parent
        )

    def apply(self, qs: QuerySet) -> QuerySet:
        if self.q and self.q.strip():
            text = self.q.strip()
            qs = qs.filter(Q(name__istartswith=text) | Q(key__startswith=text.lower()))
        if self.kind:
            qs = qs.filter(kind=self.kind)
        if self.is_active is not None:
            qs = qs.filter(is_active=self.is_active)
        if self.parent == "none":
            qs = qs.filter(parent__isnull=True)
        elif self.parent:
            qs = qs.filter(parent_id=int(self.parent))
        return qs

"""The one filter for the people list: the HTML list, the API list and exports share it."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Concat
from ninja import Schema
from pydantic import ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticError

from tandem.core.pagination import SortSpec
from tandem.people import extensions
from tandem.people.models import Company, Stage
from tandem.people.normalize import name_key, normalize_email
from tandem.people.schemas import in_utc, iso_8601, state_storable

PersonSort = Literal[
    "name", "-name", "last_name", "-last_name", "created_at", "-created_at",
    "updated_at", "-updated_at", "email", "-email",
    # Owned by scoring (extensions.ListSort, ADR 0005); unscored people come last.
    "-score", "score", "-fit_score", "fit_score", "-engagement_score", "engagement_score",
]  # fmt: skip

PERSON_SORTS: dict[str, SortSpec] = {
    "name": SortSpec(("last_name_key", "first_name_key")),
    "-name": SortSpec(("last_name_key", "first_name_key"), descending=True),
    "last_name": SortSpec(("last_name_key", "first_name_key")),
    "-last_name": SortSpec(("last_name_key", "first_name_key"), descending=True),
    "created_at": SortSpec(("created_at",)),
    "-created_at": SortSpec(("created_at",), descending=True),
    "updated_at": SortSpec(("updated_at",)),
    "-updated_at": SortSpec(("updated_at",), descending=True),
    "email": SortSpec(("email",)),
    "-email": SortSpec(("email",), descending=True),
}
COMPANY_SORTS: dict[str, SortSpec] = {
    "name": SortSpec(("name_key",)),
    "-name": SortSpec(("name_key",), descending=True),
    "created_at": SortSpec(("created_at",)),
    "-created_at": SortSpec(("created_at",), descending=True),
    "updated_at": SortSpec(("updated_at",)),
    "-updated_at": SortSpec(("updated_at",), descending=True),
}


def prefix_range(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, as a range both SQLite and PostgreSQL (C collation) seek in an index."""
    if ord(prefix[-1]) >= 0x10FFFF:  # no next character to bound the range with
        return Q(**{f"{field}__startswith": prefix})
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})


def _prefix_ranges(q: str) -> list[tuple[tuple[str, str], ...]]:
    """The search as AND-ed (field, prefix) pairs, one tuple per index range (OR-ed)."""
    key = name_key(q)
    if not key:
        return []
    words = key.split()
    ranges: list[tuple[tuple[str, str], ...]] = [
        (("last_name_key", key),),
        (("first_name_key", key),),
    ]
    if "@" in key or "." in key or len(words) == 1:
        ranges.append((("email", key),))
    if len(words) >= 2:
        first, rest = words[0], " ".join(words[1:])
        ranges.append((("first_name_key", first), ("last_name_key", rest)))
        ranges.append((("last_name_key", first), ("first_name_key", rest)))
    return ranges


def walk_sort_index(
    qs: QuerySet, q: str, index: int, sort_columns: tuple[str, ...]
) -> QuerySet | None:
    """Condition `index` of `name_conditions(q)` through expressions no index serves,
    so the database walks the list's sort index instead (see paginate_any_of).

    None for a range on the sort's leading column (its index is the sort order)
    and for the company condition (an id list, cheap either way).
    """
    ranges = _prefix_ranges(q)
    if index >= len(ranges) or ranges[index][0][0] == sort_columns[0]:
        return None
    for field, prefix in ranges[index]:
        alias = f"{field}_unindexed"
        qs = qs.alias(**{alias: Concat(F(field), Value(""))}).filter(prefix_range(alias, prefix))
    return qs


def name_conditions(q: str) -> list[Q]:
    """Name, email or company starting with `q`, one condition per index ("ada love" matches
    first and last name prefixes).

    They are kept apart, not OR-ed: each runs as its own index range in the
    list's order and the pages are merged (ADR 0004); an OR of ranges makes both
    SQLite and PostgreSQL read and sort every match. Company matches are taken
    from the first 200 companies whose name starts with `q`: a quick search, not
    a report; filter by company for all its people.
    """
    key = name_key(q)
    if not key:
        return []
    conditions = []
    for ranges in _prefix_ranges(q):
        cond = Q()
        for field, prefix in ranges:
            cond &= prefix_range(field, prefix)
        conditions.append(cond)
    company_ids = list(
        Company.objects.filter(prefix_range("name_key", key), deleted_at__isnull=True)
        .order_by("name_key", "id")
        .values_list("id", flat=True)[:200]
    )
    if company_ids:
        conditions.append(Q(company_id__in=company_ids))
    return conditions


def name_query(q: str) -> Q:
    """All of `name_conditions` as one condition (for small sets and exports)."""
    combined = Q(pk__in=[])
    for cond in name_conditions(q):
        combined |= cond
    return combined


class QueryFilter(Schema):
    model_config = ConfigDict(json_schema_extra=state_storable)  # the schema says: no NUL

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value):
        """PostgreSQL text cannot hold NUL; refuse it here rather than fail in the query."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Must not contain NUL characters.")
        return value

    @field_validator("updated_since", mode="before", check_fields=False)
    @classmethod
    def _iso_8601(cls, value: object) -> object:
        return iso_8601(value)

    @field_validator("updated_since", mode="after", check_fields=False)
    @classmethod
    def _in_utc_unless_told(cls, value: dt.datetime | None) -> dt.datetime | None:
        """A time without an offset is read as UTC, as every time the API returns is."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return in_utc(value)

    @classmethod
    def from_query(cls, params: dict[str, str]):
        """Build from GET parameters; empty values mean "no filter". Errors name the field."""
        data = {k: v for k, v in params.items() if k in cls.model_fields and v not in ("", None)}
        try:
            return cls(**data)
        except PydanticError as exc:
            raise ValidationError(
                {".".join(str(p) for p in e["loc"]) or "filter": e["msg"] for e in exc.errors()}
            ) from None


class PersonFilter(QueryFilter):
    q: str | None = Field(None, max_length=200, description="Name, email or company prefix")
    email: str | None = Field(None, max_length=254, description="Exact email, any case or spacing")
    stage: Stage | None = None
    owner: str | None = Field(
        None, max_length=150, description="Owner's user id or user name; 'none' for unowned"
    )
    company: int | None = Field(None, ge=1, le=2**63 - 1, description="Company id")
    updated_since: dt.datetime | None = Field(
        None, description="Changed at or after this time (ISO 8601; UTC without an offset)"
    )
    may_email: str | None = Field(
        None,
        max_length=60,
        description=(
            "Consent purpose key: only people who may be emailed for it (consent granted, "
            "confirmed where double opt-in applies; not pending, not withdrawn; a primary email "
            "that is not suppressed)"
        ),
    )
    min_score: int | None = Field(
        None, ge=-(10**9), le=10**9, description="Combined score at least this (scoring)"
    )
    min_fit_score: int | None = Field(
        None, ge=-(10**9), le=10**9, description="Fit score at least this (scoring)"
    )
    min_engagement_score: int | None = Field(
        None, ge=-(10**9), le=10**9, description="Engagement score at least this (scoring)"
    )
    sent_back_reason: str | None = Field(
        None,
        max_length=500,
        description=(
            "Sent back by sales for this reason (routing): a send-back reason key, or a "
            "send-back report's drill-down (reason, campaign or source or segment, period)"
        ),
    )
    campaign: str | None = Field(
        None,
        max_length=100,
        description="With a touchpoint of this campaign (campaigns): its id or key",
    )
    sort: PersonSort = "name"

    @property
    def sort_spec(self) -> SortSpec:
        if self.sort in PERSON_SORTS:
            return PERSON_SORTS[self.sort]
        return extensions.list_sort(self.sort)  # scores are scoring's (ADR 0005)

    @property
    def is_filtered(self) -> bool:
        return any(
            [
                self.q,
                self.email,
                self.stage,
                self.owner,
                self.company,
                self.updated_since,
                self.may_email,
                self.min_score is not None,
                self.min_fit_score is not None,
                self.min_engagement_score is not None,
                self.sent_back_reason,
                self.campaign,
            ]
        )

    @property
    def search_conditions(self) -> list[Q] | None:
        """The q search as separate conditions, or None when there is no search."""
        if not (self.q and self.q.strip()):
            return None
        return name_conditions(self.q)

    def apply(self, qs: QuerySet, *, with_search: bool = True) -> QuerySet:
        if with_search and self.q and self.q.strip():
            qs = qs.filter(name_query(self.q))
        if self.email and self.email.strip():
            qs = qs.filter(emails__email_normalized=normalize_email(self.email))
        if self.stage:
            qs = qs.filter(stage=self.stage)
        if self.owner:
            owner = self.owner.strip()
            if owner.lower() == "none":
                qs = qs.filter(owner__isnull=True)
            elif owner.isascii() and owner.isdigit() and len(owner) < 19:  # an id that fits
                qs = qs.filter(owner_id=int(owner))
            else:
                qs = qs.filter(owner__username=owner)
        if self.company:
            qs = qs.filter(company_id=self.company)
        if self.updated_since:
            qs = qs.filter(updated_at__gte=self.updated_since)
        if self.may_email and self.may_email.strip():
            # Consent lives in capture, above people: capture gives the condition (ADR 0005).
            qs = qs.filter(extensions.list_condition("may_email", self.may_email))
        # Scores are scoring's, above people: it gives the conditions (ADR 0005).
        for param in ("min_score", "min_fit_score", "min_engagement_score"):
            value = getattr(self, param)
            if value is not None:
                qs = qs.filter(extensions.list_condition(param, str(value)))
        if self.sent_back_reason and self.sent_back_reason.strip():
            # Hand-offs are routing's, above people: it gives the condition (ADR 0005).
            qs = qs.filter(extensions.list_condition("sent_back_reason", self.sent_back_reason))
        if self.campaign and self.campaign.strip():
            # Touchpoints are campaigns', above people: it gives the condition (ADR 0005).
            qs = qs.filter(extensions.list_condition("campaign", self.campaign))
        return qs


class CompanyFilter(QueryFilter):
    q: str | None = Field(None, max_length=200, description="Name or domain prefix")
    domain: str | None = Field(None, max_length=253)
    owner: str | None = Field(None, max_length=150)
    country: str | None = Field(None, max_length=2)
    updated_since: dt.datetime | None = Field(
        None, description="Changed at or after this time (ISO 8601; UTC without an offset)"
    )
    sort: Literal["name", "-name", "created_at", "-created_at", "updated_at", "-updated_at"] = (
        "name"
    )

    @property
    def sort_spec(self) -> SortSpec:
        return COMPANY_SORTS[self.sort]

    @property
    def is_filtered(self) -> bool:
        return any([self.q, self.domain, self.owner, self.country, self.updated_since])

    def apply(self, qs: QuerySet) -> QuerySet:
        from tandem.people.normalize import normalize_domain

        if self.q and self.q.strip():
            key = name_key(self.q)
            qs = qs.filter(
                prefix_range("name_key", key) | prefix_range("domain", normalize_domain(key) or key)
            )
        if self.domain and self.domain.strip():
            qs = qs.filter(domain=normalize_domain(self.domain))
        if self.owner:
            owner = self.owner.strip()
            if owner.lower() == "none":
                qs = qs.filter(owner__isnull=True)
            elif owner.isascii() and owner.isdigit() and len(owner) < 19:  # an id that fits
                qs = qs.filter(owner_id=int(owner))
            else:
                qs = qs.filter(owner__username=owner)
        if self.country:
            qs = qs.filter(country=self.country.strip().upper())
        if self.updated_since:
            qs = qs.filter(updated_at__gte=self.updated_since)
        return qs

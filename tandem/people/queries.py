"""Reads for people and companies: lists, detail, timeline, funnel counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, QuerySet, prefetch_related_objects

from tandem.accounts.models import User
from tandem.core.pagination import Page, paginate, paginate_any_of
from tandem.core.spreadsheet import safe_cell
from tandem.people import extensions
from tandem.people.custom_fields import definitions
from tandem.people.filters import CompanyFilter, PersonFilter, walk_sort_index
from tandem.people.models import (
    Activity,
    Company,
    CustomField,
    CustomFieldEntity,
    Person,
    PersonEmail,
    PersonPhone,
    Stage,
    StageChange,
)


def people_for_list(
    *, viewer: User | None, filters: PersonFilter, with_search: bool = True
) -> QuerySet[Person]:
    """Live people the viewer may see, filtered. Inside the company everyone sees everyone
    (principle 1); consultants' scope arrives with the consultant role."""
    qs = Person.objects.filter(deleted_at__isnull=True)
    return filters.apply(qs, with_search=with_search).select_related("company", "owner")


def people_page(
    *,
    viewer: User | None,
    filters: PersonFilter,
    limit: int = 50,
    cursor: str | None = None,
    offset: int = 0,
) -> Page:
    """One page of the people list; a name/email/company search merges one index range per
    condition instead of OR-ing them (ADR 0004)."""
    conditions = filters.search_conditions
    if conditions is None:
        qs = people_for_list(viewer=viewer, filters=filters)
        return paginate(qs, spec=filters.sort_spec, limit=limit, cursor=cursor, offset=offset)
    qs = people_for_list(viewer=viewer, filters=filters, with_search=False)
    q = filters.q or ""
    return paginate_any_of(
        qs,
        conditions,
        walk_sort_index=lambda base, i: walk_sort_index(base, q, i, filters.sort_spec.columns),
        spec=filters.sort_spec,
        limit=limit,
        cursor=cursor,
        offset=offset,
    )


def person_detail(pk: int, *, include_deleted: bool = False) -> Person:
    """One person with what the person page shows; raises Person.DoesNotExist."""
    qs = Person.objects.select_related("company", "owner").prefetch_related(
        Prefetch("emails", queryset=PersonEmail.objects.order_by("-is_primary", "id")),
        Prefetch("phones", queryset=PersonPhone.objects.order_by("-is_primary", "id")),
    )
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    return qs.get(pk=pk)


def stage_history(person: Person) -> list[StageChange]:
    return list(
        StageChange.objects.filter(person=person)
        .select_related("actor")
        .order_by("-changed_at", "-id")
    )


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a person's or company's timeline, whatever its source."""

    kind: str  # note, call, meeting, email, stage, touchpoint
    at: dt.datetime
    actor_label: str
    title: str
    body: str = ""
    outcome: str = ""
    source_id: int = 0
    person_id: int | None = None
    interest: str = ""  # a touchpoint's interest level (quick capture), "" when none

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at,
            "actor": self.actor_label,
            "title": self.title,
            "body": self.body,
            "outcome": self.outcome,
            "id": self.source_id,
            "person_id": self.person_id,
        }


def _activity_entry(a: Activity) -> TimelineEntry:
    return TimelineEntry(
        kind=a.kind,
        at=a.occurred_at,
        actor_label=a.actor_label,
        title=a.subject or a.get_kind_display(),
        body=a.body,
        outcome=a.outcome,
        source_id=a.pk,
        person_id=a.person_id,
    )


def person_timeline(
    person: Person, *, limit: int = 100, before: dt.datetime | None = None
) -> list[TimelineEntry]:
    """Activities, stage changes and what other apps add (touchpoints), newest first, in one list."""
    activities = Activity.objects.filter(person=person)
    changes = StageChange.objects.filter(person=person)
    if before is not None:
        activities = activities.filter(occurred_at__lt=before)
        changes = changes.filter(changed_at__lt=before)
    entries = [_activity_entry(a) for a in activities.order_by("-occurred_at", "-id")[:limit]]
    for c in changes.order_by("-changed_at", "-id")[:limit]:
        from_label = Stage(c.from_stage).label if c.from_stage else ""
        title = (
            f"{from_label} → {Stage(c.to_stage).label}"
            if from_label
            else f"Entered as {Stage(c.to_stage).label}"
        )
        entries.append(
            TimelineEntry(
                kind="stage",
                at=c.changed_at,
                actor_label=c.actor_label,
                title=title,
                body=c.reason,
                source_id=c.pk,
                person_id=c.person_id,
            )
        )
    for source in extensions.timeline_sources():  # touchpoints, from campaigns (ADR 0005)
        entries += source.entries(person, before, limit)
    entries.sort(key=lambda e: (e.at, e.source_id), reverse=True)
    return entries[:limit]


def latest_interest(entries: list[TimelineEntry]) -> TimelineEntry | None:
    """The newest touchpoint in `entries` that says how interested the person was."""
    return next((e for e in entries if e.kind == "touchpoint" and e.interest), None)


def company_timeline(company: Company, *, limit: int = 100) -> list[TimelineEntry]:
    """Activities logged on the company and on its people, newest first."""
    direct = Activity.objects.filter(company=company).order_by("-occurred_at", "-id")[:limit]
    via_people = Activity.objects.filter(
        person__company=company, person__deleted_at__isnull=True
    ).order_by("-occurred_at", "-id")[:limit]
    entries = [_activity_entry(a) for a in [*direct, *via_people]]
    entries.sort(key=lambda e: (e.at, e.source_id), reverse=True)
    return entries[:limit]


def companies_for_list(*, viewer: User | None, filters: CompanyFilter) -> QuerySet[Company]:
    qs = Company.objects.filter(deleted_at__isnull=True)
    return filters.apply(qs).select_related("owner")


def companies_page(
    *,
    viewer: User | None,
    filters: CompanyFilter,
    limit: int = 50,
    cursor: str | None = None,
    offset: int = 0,
) -> Page:
    qs = companies_for_list(viewer=viewer, filters=filters)
    return paginate(qs, spec=filters.sort_spec, limit=limit, cursor=cursor, offset=offset)


def company_detail(pk: int, *, include_deleted: bool = False) -> Company:
    qs = Company.objects.select_related("owner")
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    return qs.get(pk=pk)


def company_people(company: Company, *, limit: int = 100) -> list[Person]:
    return list(
        Person.objects.filter(company=company, deleted_at__isnull=True)
        .select_related("owner")
        .order_by("last_name_key", "first_name_key", "id")[:limit]
    )


@dataclass(frozen=True)
class StageCount:
    stage: Stage
    count: int
    share: float  # of the largest stage, for the bar width


def lifecycle_counts() -> list[StageCount]:
    """People per stage, in funnel order (one GROUP BY over the stage index)."""
    rows = dict(
        Person.objects.filter(deleted_at__isnull=True)
        .order_by()
        .values_list("stage")
        .annotate(n=Count("id"))
        .values_list("stage", "n")
    )
    top = max(rows.values(), default=0) or 1
    return [StageCount(stage=s, count=rows.get(s, 0), share=rows.get(s, 0) / top) for s in Stage]


def with_contact_details(people: list[Person]) -> list[Person]:
    """Load every listed person's emails and phones in two queries (the API list shows them)."""
    prefetch_related_objects(
        people,
        Prefetch("emails", queryset=PersonEmail.objects.order_by("-is_primary", "id")),
        Prefetch("phones", queryset=PersonPhone.objects.order_by("-is_primary", "id")),
    )
    return people


EXPORT_COLUMNS = (
    "id", "first_name", "last_name", "email", "phone", "title", "company", "street", "city",
    "postcode", "region", "country", "stage", "owner", "source", "created_at", "updated_at",
)  # fmt: skip


def people_export_rows(*, viewer: User | None, filters: PersonFilter) -> Iterator[list[str]]:
    """The filtered people list as spreadsheet rows (a header first), in the list's order,
    with one column per person custom field, then the columns other apps add (consent per
    purpose, ADR 0005); every text cell formula-safe.

    The query is built here, so a filter value the database refuses (an unknown
    consent purpose) raises ValidationError before the download starts; the rows
    are then streamed in chunks: a million people do not sit in memory, and the
    added columns are subqueries of the same query, not a query per row.
    """
    custom = [f.key for f in definitions(CustomFieldEntity.PERSON)]
    added = extensions.export_columns()
    names = [f"extension_{i}" for i in range(len(added))]
    qs = (
        filters.sort_spec.ordered(people_for_list(viewer=viewer, filters=filters))
        .annotate(**{name: expr for name, (_, expr) in zip(names, added, strict=True)})
        .values_list(
            "id", "first_name", "last_name", "email", "phone", "title", "company__name",
            "street", "city", "postcode", "region", "country", "stage", "owner__username",
            "source", "created_at", "updated_at", "custom_fields", *names,
        )
    )  # fmt: skip
    header = [*EXPORT_COLUMNS, *custom, *(title for title, _ in added)]
    return _export_stream(header, qs, custom, len(added))


def _export_stream(
    header: list[str], qs: QuerySet, custom: list[str], n_added: int
) -> Iterator[list[str]]:
    yield header
    for row in qs.iterator(chunk_size=2000):
        *plain, created, updated, extra = row[: len(row) - n_added]
        # The phone is checked E.164 (digits after a "+"): a spreadsheet cannot run it,
        # and a quote before it would spoil a re-import. Free text is made safe.
        pk, first, last, email, phone, *text = plain
        cells: list[str] = [str(pk), safe_cell(first), safe_cell(last), safe_cell(email)]
        cells.append(str(phone or ""))
        cells += [safe_cell(v) for v in text]
        cells += [created.isoformat(), updated.isoformat()]
        cells += [safe_cell((extra or {}).get(key, "")) for key in custom]
        cells += [safe_cell(v) for v in row[len(row) - n_added :]]
        yield cells


def custom_fields_by_entity() -> list[tuple[str, str, list[CustomField]]]:
    """(entity key, entity label, its fields in form order) for people, then companies."""
    fields = list(CustomField.objects.order_by("entity", "position", "id"))
    return [
        (entity.value, entity.label, [f for f in fields if f.entity == entity.value])
        for entity in CustomFieldEntity
    ]

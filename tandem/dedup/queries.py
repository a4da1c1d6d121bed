"""Reads for the review queue, the merge screen and the merge history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.db.models import Q, QuerySet

from tandem.accounts.models import User
from tandem.accounts.permissions import can
from tandem.campaigns.models import Touchpoint
from tandem.capture.models import Consent
from tandem.core.pagination import Page, SortSpec, paginate
from tandem.dedup.models import CandidateStatus, DuplicateCandidate, Merge
from tandem.dedup.services import CUSTOM_PREFIX, MERGE_FIELDS, MERGED, SURVIVOR, default_choices
from tandem.people.models import Activity, CustomField, Person, PersonEmail, PersonPhone, Stage

QUEUE_SORT = SortSpec(("score",), descending=True)
MERGES_SORT = SortSpec(("at",), descending=True)
FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "title": "Job title",
    "company": "Company",
    "street": "Street",
    "city": "City",
    "postcode": "Postcode",
    "region": "Region",
    "country": "Country",
    "owner": "Owner",
    "source": "Source",
    "stage": "Stage",
    "email": "Primary email",
    "phone": "Primary phone",
}


class _SomeoneElses:
    """A record owned by a user who is never the viewer: may the viewer merge *any* pair?"""

    owner_id = -1


def _mergeable_by(viewer: User) -> Q | None:
    """None: every pair; else the condition on both people (own or unowned)."""
    if can(viewer, "people.merge", _SomeoneElses()):
        return None
    if not can(viewer, "people.merge"):
        return Q(pk__in=[])
    return (Q(person_a__owner__isnull=True) | Q(person_a__owner=viewer)) & (
        Q(person_b__owner__isnull=True) | Q(person_b__owner=viewer)
    )


def queue_for(*, viewer: User) -> QuerySet[DuplicateCandidate]:
    """Open pairs of two live people that the viewer may merge, best first."""
    qs = DuplicateCandidate.objects.filter(
        status=CandidateStatus.OPEN,
        person_a__deleted_at__isnull=True,
        person_b__deleted_at__isnull=True,
    )
    condition = _mergeable_by(viewer)
    if condition is not None:
        qs = qs.filter(condition)
    return qs.select_related("person_a__company", "person_b__company")


def queue_page(*, viewer: User, limit: int, cursor: str | None = None) -> Page:
    return paginate(queue_for(viewer=viewer), spec=QUEUE_SORT, limit=limit, cursor=cursor)


def merges_page(*, limit: int, cursor: str | None = None) -> Page:
    qs = Merge.objects.select_related("survivor", "merged", "actor")
    return paginate(qs, spec=MERGES_SORT, limit=limit, cursor=cursor)


def pair_people(candidate: DuplicateCandidate) -> tuple[Person, Person]:
    people = {
        p.pk: p
        for p in Person.objects.select_related("company", "owner").filter(
            pk__in=[candidate.person_a_id, candidate.person_b_id]
        )
    }
    return people[candidate.person_a_id], people[candidate.person_b_id]


def pretty_phone(number: str) -> str:
    try:
        return phonenumbers.format_number(
            phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        return number


def _shown(person: Person, name: str) -> str:
    if name == "company":
        return person.company.name if person.company else ""
    if name == "owner":
        return (person.owner.get_full_name() or person.owner.username) if person.owner else ""
    if name == "stage":
        return Stage(person.stage).label if person.stage in Stage.values else person.stage
    if name == "phone":
        return pretty_phone(person.phone) if person.phone else ""
    value = getattr(person, name)
    return "" if value in (None, "") else str(value)


def _raw(person: Person, name: str) -> Any:
    return getattr(person, f"{name}_id") if name in ("company", "owner") else getattr(person, name)


@dataclass
class FieldRow:
    name: str
    label: str
    survivor_value: str
    merged_value: str
    choice: str
    differs: bool
    error: str = ""

    @property
    def is_choice(self) -> bool:
        """Shown as a pick: the values differ, or the reviewer's pick was refused."""
        return self.differs or bool(self.error)


@dataclass
class MergePreview:
    survivor: Person
    merged: Person
    rows: list[FieldRow]
    emails: list[PersonEmail]
    phones: list[dict[str, Any]]
    phones_kept: list[str]
    touchpoints: list[Touchpoint]
    touchpoint_count: int
    activities: list[Activity]
    activity_count: int
    stage_change_count: int
    consents: list[Consent]
    errors: dict[str, str] = field(default_factory=dict)


def merge_preview(
    survivor: Person,
    merged: Person,
    *,
    picked: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> MergePreview:
    """Both people side by side, the preselected pick per field, and what moves over."""
    errors = errors or {}
    defaults = default_choices(survivor, merged)
    picked = {**defaults, **{k: v for k, v in (picked or {}).items() if v in (SURVIVOR, MERGED)}}
    rows = []
    for name in MERGE_FIELDS:
        rows.append(
            FieldRow(
                name=name,
                label=FIELD_LABELS[name],
                survivor_value=_shown(survivor, name),
                merged_value=_shown(merged, name),
                choice=picked[name],
                differs=_raw(survivor, name) != _raw(merged, name),
                error=errors.get(name, ""),
            )
        )
    labels = dict(CustomField.objects.filter(entity="person").values_list("key", "label"))
    mine, theirs = survivor.custom_fields or {}, merged.custom_fields or {}
    for key in sorted(set(mine) | set(theirs)):
        name = CUSTOM_PREFIX + key
        rows.append(
            FieldRow(
                name=name,
                label=labels.get(key, key),
                survivor_value="" if mine.get(key) in (None, "") else str(mine.get(key)),
                merged_value="" if theirs.get(key) in (None, "") else str(theirs.get(key)),
                choice=picked.get(name, SURVIVOR),
                differs=mine.get(key) != theirs.get(key),
                error=errors.get(name, ""),
            )
        )
    have = set(PersonPhone.objects.filter(person=survivor).values_list("number", flat=True))
    phones, kept = [], []
    for phone in PersonPhone.objects.filter(person=merged).order_by("-is_primary", "id"):
        if phone.number in have:
            kept.append(pretty_phone(phone.number))
        else:
            phones.append({"phone": phone, "pretty": pretty_phone(phone.number)})
    touchpoints = Touchpoint.objects.filter(person=merged).select_related("campaign")
    activities = Activity.objects.filter(person=merged)
    return MergePreview(
        survivor=survivor,
        merged=merged,
        rows=rows,
        emails=list(PersonEmail.objects.filter(person=merged).order_by("-is_primary", "id")),
        phones=phones,
        phones_kept=kept,
        touchpoints=list(touchpoints[:20]),
        touchpoint_count=touchpoints.count(),
        activities=list(activities[:20]),
        activity_count=activities.count(),
        stage_change_count=merged.stage_changes.count(),
        consents=list(Consent.objects.filter(person=merged).select_related("purpose")),
        errors=errors,
    )

"""First contact: the earliest call, email or meeting a person logged on a lead since it was
routed stops its SLA clock (`Handoff.first_contact_at`).

Only people count: an activity whose actor is a user (an API token counts as its
user). An automatic email is logged by the system (no actor) and never counts;
a note is not contact. An activity dated before the hand-off's `routed_at` was
contact for an earlier hand-off, not this one.

Fed by people's `PeopleTouchedStep` (ADR 0005): one UPDATE for all the people a
transaction touched, inside that transaction, so a rolled-back activity leaves
no first contact behind.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, Min, OuterRef, Q, QuerySet, Subquery

from tandem.people.models import Activity, ActivityKind
from tandem.routing.models import Handoff, HandoffStatus

CONTACT_KINDS = (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING)

# The `why` of people's extension point that means "activities were logged"
# (people/activities.py log_activity); other writes add no activity.
ACTIVITY_WHY = "activity"


def _contacts() -> QuerySet[Activity]:
    """Human contact activities on the outer hand-off's person since it was routed."""
    return Activity.objects.filter(
        person_id=OuterRef("person_id"),
        kind__in=CONTACT_KINDS,
        actor__isnull=False,
        occurred_at__gte=OuterRef("routed_at"),
    )


def record_first_contacts(person_ids: Iterable[int]) -> int:
    """Set (or move earlier) the current hand-off's first contact of these people from their
    logged activities; one UPDATE. Returns how many hand-offs changed."""
    ids = sorted({int(i) for i in person_ids})
    if not ids:
        return 0
    contacts = _contacts()
    earliest = Subquery(
        contacts.order_by()
        .values("person_id")
        .annotate(first=Min("occurred_at"))
        .values("first")[:1]
    )
    earlier = Exists(contacts.filter(occurred_at__lt=OuterRef("first_contact_at")))
    return (
        Handoff.objects.filter(person_id__in=ids, is_current=True)
        .exclude(status=HandoffStatus.REASSIGNED)
        .filter((Q(first_contact_at__isnull=True) & Exists(contacts)) | earlier)
        .update(first_contact_at=earliest)
    )


def people_touched(person_ids: list[int], why: str) -> None:
    """people's extension point: activities were logged on these people."""
    if why != ACTIVITY_WHY:
        return
    record_first_contacts(person_ids)

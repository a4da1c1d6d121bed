"""J4's follow-up half: every lead met at a booth or in a store and not sold on the spot
gets a contact task, due by the SLA for its touchpoint kind (a trade-show lead: within 5
business days, say), for the person who met them, else the lead's owner.

A lead routed to sales gets its task from the engine with the hand-off; this covers the
leads that are not (yet) MQLs, so none met in person is forgotten. One task per
touchpoint (keyed), so a repeated look adds none.
"""

from __future__ import annotations

import logging

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.campaigns.models import Touchpoint, TouchpointKind
from tandem.followups.services import create_task
from tandem.people.models import Person, Stage
from tandem.routing.models import Handoff
from tandem.sla.services import add_business_days, start_clock

log = logging.getLogger(__name__)

MET_IN_PERSON = (TouchpointKind.BOOTH_SCAN.value, TouchpointKind.STORE_VISIT.value)
OPEN_STAGES = (Stage.SUBSCRIBER, Stage.LEAD, Stage.MQL, Stage.RECYCLED)
FALLBACK_DAYS = 5  # no SLA for the kind: "within the week"
CHUNK = 5000


def contact_tasks(person_ids: list[int]) -> int:
    """Give each of these people met in person and still open (not sold, not routed) a
    contact task; returns how many tasks were made."""
    made = 0
    for start in range(0, len(person_ids), CHUNK):
        part = person_ids[start : start + CHUNK]
        routed = set(
            Handoff.objects.filter(person_id__in=part, is_current=True).values_list(
                "person_id", flat=True
            )
        )
        rows = list(
            Touchpoint.objects.filter(
                person_id__in=part,
                kind__in=MET_IN_PERSON,
                person__stage__in=OPEN_STAGES,
                person__deleted_at__isnull=True,
            )
            .exclude(person_id__in=routed)
            .order_by("person_id", "occurred_at", "id")
            .values_list("pk", "person_id", "kind", "occurred_at", "credited_to_id")
        )
        if not rows:
            continue
        people = Person.objects.in_bulk({row[1] for row in rows})
        owners = {row[4] for row in rows} | {p.owner_id for p in people.values()}
        users = User.objects.in_bulk({uid for uid in owners if uid is not None})
        actor = Actor.system("routing")
        for pk, person_id, kind, occurred_at, credited_to in rows:
            person = people[person_id]
            owner = users.get(credited_to or person.owner_id or 0)
            team_id = owner.team_id if owner is not None else None
            clock = start_clock(
                team_id=team_id, source=person.source, touchpoint_kind=kind, start=occurred_at
            )
            due = clock.due_at or add_business_days(team_id, occurred_at, FALLBACK_DAYS)
            where = "at the booth" if kind == TouchpointKind.BOOTH_SCAN else "in the store"
            create_task(
                actor,
                kind="call",
                title=f"Contact {person}, met {where}",
                owner=owner,
                due_at=due,
                person=person,
                key=f"met-in-person:{pk}",
            )
            made += 1
    return made


def safely(person_ids: list[int]) -> None:
    """After another app's commit: a failure is logged, never raised into the write."""
    try:
        contact_tasks(person_ids)
    except Exception:
        log.exception("contact tasks for %s people met in person failed", len(person_ids))

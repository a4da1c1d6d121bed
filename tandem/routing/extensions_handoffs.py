"""What the hand-off answer adds to people's screens (ADR 0005): a card on the person
page with Accept / Send back, and the people list's `sent_back_reason` filter."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from tandem.people import extensions
from tandem.people.models import Person
from tandem.routing.handoffs import NOTE_MAX_LENGTH, active_reasons, reason_labels
from tandem.routing.models import Handoff, HandoffStatus
from tandem.routing.reports import FILTER_PARAM, reason_choices, sent_back_condition

SECTION_KEY = "handoff_answer"


def person_handoff(person: Person) -> dict[str, Any]:
    """The person's current hand-off for their page (one query; two more once sent back)."""
    handoff = (
        Handoff.objects.filter(person_id=person.pk, is_current=True)
        .select_related("owner", "responded_by")
        .first()
    )
    if handoff is None:
        return {"handoff": None}
    # A deleted person's page shows the hand-off, not the buttons (restore them first).
    is_open = handoff.status == HandoffStatus.OPEN and person.deleted_at is None
    return {
        "handoff": handoff,
        "is_open": is_open,
        "is_overdue": is_open
        and handoff.first_contact_at is None
        and handoff.due_at is not None
        and handoff.due_at <= timezone.now(),
        "reason_label": reason_labels().get(handoff.send_back_reason, handoff.send_back_reason)
        if handoff.send_back_reason
        else "",
        "reasons": [(r.key, r.label) for r in active_reasons()] if is_open else [],
        "note_max": NOTE_MAX_LENGTH,
    }


def register() -> None:
    extensions.register_person_section(
        extensions.PersonSection(
            key=SECTION_KEY, template="routing/_person_handoff.html", load=person_handoff
        )
    )
    extensions.register_list_condition(
        extensions.ListCondition(
            param=FILTER_PARAM,
            label="Sent back as",
            any_label="Any or none",
            choices=reason_choices,
            condition=sent_back_condition,
        )
    )

"""Reads for the salesperson's inbox ("My leads", issue 20 point 6).

Each open hand-off comes with its context (principle 3): why the person became an
MQL and who routed them, the score explanation, the latest touchpoints and notes,
and consent. Consent is capture's, above routing's layer: it is read through the
person section capture registers with people (ADR 0005), never by importing capture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from tandem.accounts.models import Role, User
from tandem.campaigns.models import Touchpoint
from tandem.people import extensions
from tandem.people.models import Activity
from tandem.routing.models import Handoff, HandoffStatus
from tandem.scoring.queries import person_score

PAGE_SIZE = 25
CONTEXT_ROWS = 3  # touchpoints and notes shown per lead


@dataclass
class InboxLead:
    handoff: Handoff
    is_overdue: bool
    score: Any = None
    touchpoints: list[Touchpoint] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    consents: list[Any] = field(default_factory=list)
    has_consent_section: bool = False
    form: Any = None  # the send-back form of this card (set by the view)

    @property
    def person(self) -> Any:
        return self.handoff.person


def open_handoffs_of(owner: User) -> QuerySet[Handoff]:
    """An owner's open current hand-offs, soonest due first (none due: last)."""
    return (
        Handoff.objects.filter(
            owner=owner,
            is_current=True,
            status=HandoffStatus.OPEN,
            person__deleted_at__isnull=True,
        )
        .select_related("person", "person__company")
        .order_by(F("due_at").asc(nulls_last=True), "id")
    )


def _latest_per_person(qs: QuerySet, person_ids: list[int], order: list[Any]) -> dict[int, list]:
    """The newest CONTEXT_ROWS rows of each person, in one query (a window per person)."""
    ranked = qs.filter(person_id__in=person_ids).annotate(
        row=Window(RowNumber(), partition_by=[F("person_id")], order_by=order)
    )
    out: dict[int, list] = {pk: [] for pk in person_ids}
    for item in ranked.filter(row__lte=CONTEXT_ROWS).order_by("person_id", "row"):
        out[item.person_id].append(item)
    return out


def inbox_leads(owner: User, *, limit: int = PAGE_SIZE) -> list[InboxLead]:
    """The inbox's leads with their context.

    Queries: the hand-offs (1), touchpoints (1) and activities (1) of all of them,
    then per lead the score card (scoring's person_score) and consent (capture's
    section), which have no batch read yet.
    """
    now = timezone.now()
    handoffs = list(open_handoffs_of(owner)[:limit])
    ids = [h.person_id for h in handoffs]
    touchpoints = _latest_per_person(
        Touchpoint.objects.select_related("campaign"),
        ids,
        [F("occurred_at").desc(), F("id").desc()],
    )
    activities = _latest_per_person(
        Activity.objects.all(), ids, [F("occurred_at").desc(), F("id").desc()]
    )
    consent_section = extensions.person_section("consents")
    leads = []
    for h in handoffs:
        lead = InboxLead(
            handoff=h,
            is_overdue=h.due_at is not None and h.due_at <= now,
            score=person_score(h.person),
            touchpoints=touchpoints[h.person_id],
            activities=activities[h.person_id],
            has_consent_section=consent_section is not None,
        )
        if consent_section is not None:
            lead.consents = list(consent_section.load(h.person))
        leads.append(lead)
    return leads


def inbox_owner_choices(viewer: User) -> list[User]:
    """Whose inbox `viewer` may open: their own; a manager their team's; an admin anyone's."""
    if viewer.is_admin:
        return list(
            User.objects.filter(is_active=True).filter(
                Q(role__in=[Role.SALESPERSON, Role.MANAGER]) | Q(pk=viewer.pk)
            )
        )
    if viewer.role == Role.MANAGER and viewer.team_id is not None:
        return list(User.objects.filter(is_active=True, team_id=viewer.team_id))
    return [viewer]


def may_open_inbox(viewer: User, owner: User) -> bool:
    if owner.pk == viewer.pk or viewer.is_admin:
        return True
    return (
        viewer.role == Role.MANAGER
        and viewer.team_id is not None
        and owner.team_id == viewer.team_id
    )

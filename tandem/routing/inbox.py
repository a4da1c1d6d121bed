"""Reads for the salesperson's inbox ("My leads", issue 20 point 6).

Each open hand-off comes with its context (principle 3): why the person became an
MQL and who routed them, the score explanation, the latest touchpoints and notes,
and consent. The page's queries do not grow with its leads: hand-offs with their
people, companies and stored scores (1), touchpoints (1) and activities (1).

Consent is capture's, above routing's layer: it is read through the person section
capture registers with people (ADR 0005), never by importing capture, and per
person, so each lead's consent loads when its panel is opened (`lead_consent`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from tandem.accounts.models import Role, User
from tandem.campaigns.models import Touchpoint
from tandem.people import extensions
from tandem.people.models import Activity
from tandem.routing.handoffs import team_queue
from tandem.routing.models import Handoff, HandoffStatus
from tandem.scoring.queries import Reason

PAGE_SIZE = 25
CONTEXT_ROWS = 3  # touchpoints and notes shown per lead


@dataclass
class InboxLead:
    handoff: Handoff
    is_overdue: bool
    score: Any = None  # scoring's stored PersonScore row, None while not scored
    reasons: list[Reason] = field(default_factory=list)
    touchpoints: list[Touchpoint] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)

    @property
    def person(self) -> Any:
        return self.handoff.person

    @property
    def uid(self) -> str:
        """The prefix of this card's form ids, unique on the page."""
        return f"lead{self.handoff.pk}"


def _open_of(owner: User) -> QuerySet[Handoff]:
    """The owner's open hand-offs, and those waiting in their team's queue: they are told
    of those and may accept them (accepting takes the lead), so they are listed too."""
    waiting = Q(owner=owner)
    queue = team_queue(owner)
    if queue is not None:
        waiting |= queue
    return Handoff.objects.filter(
        waiting,
        is_current=True,
        status=HandoffStatus.OPEN,
        person__deleted_at__isnull=True,
    )


def _late(now: Any) -> Q:
    """Overdue: the SLA's first contact has not happened and its time is up. A lead called
    in time but not yet accepted or sent back is waiting, not late."""
    return Q(first_contact_at__isnull=True, due_at__isnull=False, due_at__lte=now)


def open_handoffs_of(owner: User, *, now: Any = None) -> QuerySet[Handoff]:
    """An owner's open current hand-offs: the overdue ones first, then soonest due (none
    due: last). Overdue first, because a lead called in time but not answered for months
    would otherwise sit above every late one, and push some off the first page."""
    now = now or timezone.now()
    return (
        _open_of(owner)
        .select_related("person", "person__company", "person__score_row", "team")
        .annotate(late=Case(When(_late(now), then=Value(0)), default=Value(1)))
        .order_by("late", F("due_at").asc(nulls_last=True), "id")
    )


@dataclass(frozen=True)
class InboxCounts:
    waiting: int  # every open hand-off, not only the page shown
    overdue: int


def inbox_counts(owner: User, *, now: Any = None) -> InboxCounts:
    """How many leads wait for this owner, and how many of them are overdue (one query)."""
    now = now or timezone.now()
    counts = _open_of(owner).aggregate(waiting=Count("id"), overdue=Count("id", filter=_late(now)))
    return InboxCounts(waiting=counts["waiting"], overdue=counts["overdue"])


def _latest_per_person(qs: QuerySet, person_ids: list[int], order: list[Any]) -> dict[int, list]:
    """The newest CONTEXT_ROWS rows of each person, in one query (a window per person)."""
    ranked = qs.filter(person_id__in=person_ids).annotate(
        row=Window(RowNumber(), partition_by=[F("person_id")], order_by=order)
    )
    out: dict[int, list] = {pk: [] for pk in person_ids}
    for item in ranked.filter(row__lte=CONTEXT_ROWS).order_by("person_id", "row"):
        out[item.person_id].append(item)
    return out


def _reasons(row: Any, now: Any) -> list[Reason]:
    """The stored explanation in scoring's words; an override that has lapsed since the last
    scoring is left out, as on the person page (scoring.queries.person_score)."""
    lapsed = row.override_expires_at is not None and row.override_expires_at <= now
    return [
        Reason(
            rule=str(item.get("rule", "")),
            points=int(item.get("points") or 0),
            detail=str(item.get("detail", "")),
            kind=str(item.get("kind", "")),
        )
        for item in row.explanation or []
        if not (lapsed and item.get("kind") == "override")
    ]


def inbox_leads(owner: User, *, limit: int = PAGE_SIZE, offset: int = 0) -> list[InboxLead]:
    """A page of the inbox's leads with their context, in three queries whatever their
    number (`offset`: the leads before the page)."""
    now = timezone.now()
    handoffs = list(open_handoffs_of(owner, now=now)[offset : offset + limit])
    ids = [h.person_id for h in handoffs]
    touchpoints = _latest_per_person(
        Touchpoint.objects.select_related("campaign"),
        ids,
        [F("occurred_at").desc(), F("id").desc()],
    )
    activities = _latest_per_person(
        Activity.objects.all(), ids, [F("occurred_at").desc(), F("id").desc()]
    )
    leads = []
    for h in handoffs:
        row = getattr(h.person, "score_row", None)
        leads.append(
            InboxLead(
                handoff=h,
                is_overdue=h.first_contact_at is None and h.due_at is not None and h.due_at <= now,
                score=row,
                reasons=_reasons(row, now) if row is not None else [],
                touchpoints=touchpoints[h.person_id],
                activities=activities[h.person_id],
            )
        )
    return leads


def lead_consent(person: Any) -> list[Any] | None:
    """The person's consent as capture's section gives it; None without capture."""
    section = extensions.person_section("consents")
    return None if section is None else list(section.load(person))


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

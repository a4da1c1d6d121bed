"""The salesperson's answer to a hand-off: accept it, or send it back to marketing with a reason.

Principle 3: a hand-off is a conversation. Accepting moves the person to `sal`;
sending back moves them to `recycled` (back to nurture, J3), clears their owner
so they are marketing's again, and tells marketing why. Only the owner, the
owner's team manager or an admin may answer (`routing.respond` on the person); a lead in
a team's queue, also that team's salespeople and managers (accepting takes it).

Who hears of a send-back: the owner of the campaign that brought the lead in
(the latest touchpoint with a campaign at or before the routing, the same one the
send-back report groups by); when that campaign has no owner, or there is none,
every active marketer.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.models import Role, User
from tandem.accounts.permissions import can
from tandem.campaigns.models import Campaign, Touchpoint
from tandem.core.audit import record_audit
from tandem.notifications.services import notify
from tandem.people import services as people
from tandem.people.models import FUNNEL_ORDER, Person, Stage
from tandem.routing.models import Handoff, HandoffStatus, SendBackReason

NOTE_MAX_LENGTH = 2000


# --- reads ----------------------------------------------------------------------------


def open_handoff(person: Person) -> Handoff | None:
    """The person's current hand-off while it waits for its owner's answer, else None."""
    return (
        Handoff.objects.filter(person_id=person.pk, is_current=True, status=HandoffStatus.OPEN)
        .select_related("owner")
        .first()
    )


def active_reasons() -> QuerySet[SendBackReason]:
    return SendBackReason.objects.filter(is_active=True).order_by("position", "id")


def reason_labels() -> dict[str, str]:
    """Every reason's label by key, retired ones included (past send-backs keep their words)."""
    return dict(SendBackReason.objects.values_list("key", "label"))


def handoff_campaign_id() -> Subquery:
    """The campaign a hand-off is credited to, for a queryset of Handoff: the latest
    touchpoint with a campaign at or before the routing (what brought the lead to MQL).

    Later touchpoints do not move it, so the send-back report does not shift as the
    person keeps engaging after being sent back.
    """
    return Subquery(
        Touchpoint.objects.filter(
            person_id=OuterRef("person_id"),
            campaign__isnull=False,
            occurred_at__lte=OuterRef("routed_at"),
        )
        .order_by("-occurred_at", "-id")
        .values("campaign_id")[:1]
    )


# --- checks ---------------------------------------------------------------------------


def clean_reason(key: str | None) -> SendBackReason:
    """The active reason `key` names; a ValidationError naming `reason` otherwise."""
    key = (key or "").strip()
    if not key:
        raise ValidationError({"reason": "Choose why the lead goes back to marketing."})
    reason = active_reasons().filter(key=key).first()
    if reason is None:
        keys = ", ".join(active_reasons().values_list("key", flat=True))
        raise ValidationError({"reason": f"{key!r} is not a send-back reason; use one of: {keys}."})
    return reason


def clean_note(note: str | None) -> str:
    note = (note or "").strip()
    if "\x00" in note:
        raise ValidationError({"note": "Must not contain NUL characters."})
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": f"At most {NOTE_MAX_LENGTH} characters (got {len(note)})."})
    return note


def _lock_open_handoff(person: Person) -> Handoff:
    """The open current hand-off, locked: two answers at once give one answer and one 422."""
    handoff = (
        Handoff.objects.select_for_update()
        .filter(person_id=person.pk, is_current=True, status=HandoffStatus.OPEN)
        .first()
    )
    if handoff is None:
        raise ValidationError(
            {
                "person": f"{person} has no open hand-off to answer (accepted, sent back or not routed)."
            }
        )
    return handoff


def _locked_person(person: Person) -> Person:
    locked = Person.objects.select_for_update().get(pk=person.pk)
    if locked.deleted_at is not None:
        raise ValidationError({"person": "This person is deleted; restore them first."})
    return locked


# --- who may answer ---------------------------------------------------------------------

_QUEUE_ROLES = (Role.SALESPERSON, Role.MANAGER)


def may_respond(who: Actor | User | None, person: Person) -> bool:
    """Whether `who` may accept or send back `person`'s hand-off: the owner, the owner's
    team manager or an admin (`routing.respond` on the person); and for a lead waiting in
    a team's queue (routed to the team, no owner yet), that team's salespeople and
    managers, who are told of it: accepting takes the lead."""
    if can(who, "routing.respond", person):
        return True
    user = who.user if isinstance(who, Actor) else who
    queue = team_queue(user)
    if queue is None or person.owner_id is not None:
        return False
    return Handoff.objects.filter(
        queue, person_id=person.pk, is_current=True, status=HandoffStatus.OPEN
    ).exists()


def team_queue(user: User | None) -> Q | None:
    """The hand-offs waiting in `user`'s team's queue (routed to the team, no owner yet,
    on the hand-off or the person), which that team's salespeople and managers may
    answer; None for anyone else."""
    if user is None or not user.is_active or user.team_id is None:
        return None
    role = Role.ADMIN if user.is_superuser else user.role
    if role not in _QUEUE_ROLES:
        return None
    return Q(owner__isnull=True, team_id=user.team_id, person__owner__isnull=True)


def require_respond(who: Actor | User | None, person: Person) -> None:
    if not may_respond(who, person):
        raise PermissionDenied("Not allowed: routing.respond")


# --- writes ---------------------------------------------------------------------------


def accept_handoff(*, actor: Actor, person: Person) -> Handoff:
    """The owner takes the lead: the person moves to `sal` (sales accepted).

    A person already past `sal` (an opportunity opened meanwhile) keeps their stage:
    accepting never moves anyone backwards.
    """
    require_respond(actor, person)
    with transaction.atomic():
        person = _locked_person(person)
        require_respond(actor, person)  # again: the owner may have changed meanwhile
        handoff = _lock_open_handoff(person)
        claimed = handoff.owner_id is None and actor.user is not None
        if claimed:  # from the team's queue: the lead is theirs now
            people.update_person(actor=actor, person=person, data={"owner": actor.user})
            handoff.owner = actor.user
        rank = FUNNEL_ORDER.get(person.stage)
        if rank is None or rank < FUNNEL_ORDER[Stage.SAL]:
            people.change_stage(
                person=person, to_stage=Stage.SAL, actor=actor, reason="Accepted the hand-off."
            )
        handoff.status = HandoffStatus.ACCEPTED
        handoff.responded_at = timezone.now()
        handoff.responded_by = actor.user
        handoff.save(
            update_fields=[
                "status",
                "responded_at",
                "responded_by",
                *(["owner"] if claimed else []),
            ]
        )
        changes: dict[str, list[object]] = {
            "status": [HandoffStatus.OPEN.value, HandoffStatus.ACCEPTED.value]
        }
        if claimed:
            changes["owner"] = [None, handoff.owner_id]
        record_audit(actor=actor, event="handoff_accepted", target=handoff, changes=changes)
    return handoff


def send_back_handoff(
    *, actor: Actor, person: Person, reason: str | None, note: str = ""
) -> Handoff:
    """The owner declines the lead: back to marketing's nurture (J3), with the reason.

    The person moves to `recycled` with the reason as the stage change's why, the
    salesperson's note is logged on the timeline, the owner is cleared (the lead is
    marketing's again; the hand-off keeps who had it and who sent it back), and
    marketing is told.
    """
    require_respond(actor, person)
    chosen = clean_reason(reason)
    note = clean_note(note)
    with transaction.atomic():
        person = _locked_person(person)
        require_respond(actor, person)  # again: the owner may have changed meanwhile
        handoff = _lock_open_handoff(person)
        people.log_activity(
            actor=actor,
            kind="note",
            person=person,
            subject=f"Sent back to marketing: {chosen.label}",
            body=note,
        )
        if person.stage != Stage.RECYCLED:
            people.change_stage(
                person=person,
                to_stage=Stage.RECYCLED,
                actor=actor,
                reason=f"Sent back to marketing: {chosen.label}",
            )
        if person.owner_id is not None:
            people.update_person(actor=actor, person=person, data={"owner": None})
        handoff.status = HandoffStatus.SENT_BACK
        handoff.responded_at = timezone.now()
        handoff.responded_by = actor.user
        handoff.send_back_reason = chosen.key
        handoff.send_back_note = note
        handoff.save(
            update_fields=[
                "status",
                "responded_at",
                "responded_by",
                "send_back_reason",
                "send_back_note",
            ]
        )
        record_audit(
            actor=actor,
            event="handoff_sent_back",
            target=handoff,
            changes={
                "status": [HandoffStatus.OPEN.value, HandoffStatus.SENT_BACK.value],
                "send_back_reason": [None, chosen.key],
                "send_back_note": [None, note],
            },
        )
        _tell_marketing(handoff, person, chosen, note, actor)
    return handoff


def send_back_recipients(handoff: Handoff) -> list[User]:
    """The campaign owner of the hand-off's campaign, else every active marketer."""
    campaign_id = (
        Handoff.objects.filter(pk=handoff.pk)
        .annotate(campaign_id=handoff_campaign_id())
        .values_list("campaign_id", flat=True)
        .first()
    )
    if campaign_id is not None:
        owner = (
            Campaign.objects.filter(pk=campaign_id, owner__is_active=True)
            .values_list("owner_id", flat=True)
            .first()
        )
        if owner is not None:
            return list(User.objects.filter(pk=owner))
    return list(User.objects.filter(role=Role.MARKETER, is_active=True))


def _tell_marketing(
    handoff: Handoff, person: Person, reason: SendBackReason, note: str, actor: Actor
) -> None:
    body = f"{actor.label} sent {person} back: {reason.label}."
    if note:
        body += f"\n\n“{note}”"
    notify(
        send_back_recipients(handoff),
        kind="send_back",
        title=f"{person} sent back: {reason.label}",
        body=body,
        key=f"send_back:{handoff.pk}",
        url=reverse("people:detail", args=[person.pk]),
    )

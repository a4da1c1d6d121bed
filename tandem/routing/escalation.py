"""Escalation: the owner is reminded at the SLA's reminder time, and at the due time the
owner and the team's managers hear of the breach; a lead whose SLA says so is handed on.

A worker loop (core.worker_start) runs `tick()` every TANDEM_SLA_POLL_SECONDS (60).
Each step claims its hand-offs with one conditional UPDATE (`reminded_at` /
`breached_at` from NULL to this tick's stamp), so two workers never both claim a
hand-off; then it notifies what it claimed (notifications.notify_many, one batch),
in the same transaction: a failure leaves the leads to the next tick. Notifications
are keyed (`sla_breach:<id>`), so no one is ever told twice.

Only a lead still waiting counts: its current hand-off, not sent back or handed
on, with no first contact yet (first_contact.py).

Reassigning needs the routing engine, which sits beside this module: it
registers `register_breach_reassign(fn)`; `fn(handoff_ids)` runs after the claim's
commit with the breached hand-offs whose SLA says `reassign_on_breach`.
`breached_for_reassignment()` lists those still waiting, for a sweep.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from tandem.accounts.models import Role, User
from tandem.core.env import env_int
from tandem.notifications.services import News, notify_many
from tandem.routing.models import Handoff, HandoffStatus
from tandem.sla.services import calendar_for

log = logging.getLogger(__name__)

# At most this many hand-offs are claimed per step and tick (the next tick takes the rest).
BATCH = 500

_reassign_hooks: dict[str, Callable[[list[int]], object]] = {}


def register_breach_reassign(key: str, hook: Callable[[list[int]], object]) -> None:
    """Run `hook(handoff_ids)` after each committed breach claim, with the breached hand-offs
    whose SLA reassigns on breach (the routing engine hands them on)."""
    _reassign_hooks[key] = hook


def poll_seconds() -> int:
    return env_int("TANDEM_SLA_POLL_SECONDS", 60, minimum=1)


def waiting() -> QuerySet[Handoff]:
    """Current hand-offs nobody has contacted yet, still with their owner."""
    return Handoff.objects.filter(is_current=True, first_contact_at__isnull=True).exclude(
        status__in=(HandoffStatus.SENT_BACK, HandoffStatus.REASSIGNED)
    )


def breached_for_reassignment(now: dt.datetime | None = None) -> list[int]:
    """Breached hand-offs still waiting whose SLA says to hand them on, oldest due first."""
    now = now or timezone.now()
    return list(
        waiting()
        .filter(reassign_on_breach=True, breached_at__isnull=False, due_at__lte=now)
        .order_by("due_at", "id")
        .values_list("id", flat=True)[:BATCH]
    )


def _claim(field: str, due: Q, now: dt.datetime) -> list[Handoff]:
    """Hand-offs due for `field`, claimed by this caller: one conditional UPDATE from NULL
    to a stamp of this call, then the rows carrying that stamp."""
    candidates = list(
        waiting()
        .filter(due, **{f"{field}__isnull": True})
        .order_by("id")
        .values_list("id", flat=True)[:BATCH]
    )
    if not candidates:
        return []
    # Each call stamps its own instant, so the rows it won are the ones with its stamp.
    stamp = now + dt.timedelta(microseconds=threading.get_ident() % 997)
    claimed = (
        waiting()
        .filter(due, pk__in=candidates, **{f"{field}__isnull": True})
        .update(**{field: stamp})
    )
    if not claimed:
        return []
    return list(
        Handoff.objects.filter(pk__in=candidates, **{field: stamp})
        .select_related("person", "owner")
        .order_by("due_at", "id")
    )


def _person_url(handoff: Handoff) -> str:
    return reverse("people:detail", args=[handoff.person_id])


def _when(handoff: Handoff, zones: dict[int | None, Any]) -> str:
    """The due time as the team reads it: in its business calendar's time zone."""
    if handoff.due_at is None:
        return "—"
    if handoff.team_id not in zones:
        zones[handoff.team_id] = calendar_for(handoff.team_id).tz
    return timezone.localtime(handoff.due_at, zones[handoff.team_id]).strftime("%a %d %b %H:%M %Z")


@transaction.atomic
def send_reminders(now: dt.datetime | None = None) -> int:
    """Remind owners whose leads reached the SLA's reminder time; returns how many.

    The claim and the notifications commit together: a failure leaves the leads to the
    next tick."""
    now = now or timezone.now()
    claimed = _claim("reminded_at", Q(remind_at__lte=now), now)
    zones: dict[int | None, Any] = {}
    notify_many(
        News(
            user=handoff.owner_id,
            kind="sla_reminder",
            title=f"Contact {handoff.person} by {_when(handoff, zones)}",
            body=f"{handoff.sla_name or 'SLA'}: first contact due {_when(handoff, zones)}.",
            key=f"sla_reminder:{handoff.pk}",
            url=_person_url(handoff),
        )
        for handoff in claimed
        if handoff.owner_id is not None  # a team queue: the breach tells the managers
    )
    return len(claimed)


@dataclass(frozen=True)
class _Managers:
    by_team: dict[int, list[int]]

    def of(self, handoff: Handoff) -> list[int]:
        team_id = handoff.team_id or (handoff.owner.team_id if handoff.owner else None)
        return self.by_team.get(team_id, []) if team_id else []


def _managers(handoffs: list[Handoff]) -> _Managers:
    teams = {h.team_id for h in handoffs if h.team_id}
    teams |= {h.owner.team_id for h in handoffs if h.owner and h.owner.team_id}
    by_team: dict[int, list[int]] = {}
    for uid, team_id in User.objects.filter(
        team_id__in=teams, role=Role.MANAGER, is_active=True
    ).values_list("id", "team_id"):
        by_team.setdefault(team_id, []).append(uid)
    return _Managers(by_team)


def announce_breaches(now: dt.datetime | None = None) -> int:
    """Tell owners and their team's managers of leads past due with no contact; hand on
    those whose SLA says so (after the commit). Returns how many breaches were claimed."""
    with transaction.atomic():
        claimed = _announce_breaches(now or timezone.now())
    to_reassign = [h.pk for h in claimed if h.reassign_on_breach]
    if to_reassign:
        for key, hook in list(_reassign_hooks.items()):
            try:
                hook(to_reassign)
            except Exception:
                log.exception("reassigning %s breached leads (%s) failed", len(to_reassign), key)
    return len(claimed)


def _announce_breaches(now: dt.datetime) -> list[Handoff]:
    """The claim and the notifications, in the caller's transaction. No audit event: nobody
    acted; the hand-off's `breached_at` and the notifications are the record."""
    claimed = _claim("breached_at", Q(due_at__lte=now), now)
    if not claimed:
        return []
    managers = _managers(claimed)
    news = []
    zones: dict[int | None, Any] = {}
    for handoff in claimed:
        body = f"{handoff.sla_name or 'SLA'}: first contact was due {_when(handoff, zones)}" + (
            f"; owner {handoff.owner}." if handoff.owner else "; in the team's queue."
        )
        news += [
            News(
                user=uid,
                kind="sla_breach",
                title=f"SLA breached: nobody has contacted {handoff.person}",
                body=body,
                key=f"sla_breach:{handoff.pk}",
                url=_person_url(handoff),
            )
            for uid in {handoff.owner_id, *managers.of(handoff)}
            if uid is not None
        ]
    notify_many(news)
    return claimed


def tick(now: dt.datetime | None = None) -> tuple[int, int]:
    """One beat: reminders, then breaches. Returns (reminded, breached)."""
    return send_reminders(now), announce_breaches(now)


def escalation_loop(stop: threading.Event, *, seconds: float | None = None) -> None:
    """The worker's SLA beat (registered with core.worker_start)."""
    wait = seconds if seconds is not None else poll_seconds()
    while not stop.is_set():
        try:
            tick()
        except Exception:
            log.exception("SLA escalation tick failed")
        finally:
            close_old_connections()
        stop.wait(wait)

"""The demo's sales desk (issue 20): business hours, SLAs and routing rules, then the
hand-offs of the last months replayed through the apps' services: leads routed when they
became MQLs, called in time or late, accepted or sent back with a reason, some never
touched (the escalation announces their breach), and the tasks that follow.

Every row is written by the routing, SLA and tasks apps' public services, each at the
moment it happened (`now=` and `occurred_at=`), so the SLA report, the untouched list,
My leads and the send-back report are not empty on a fresh demo.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from tandem.accounts.actor import Actor
from tandem.accounts.models import Team, User
from tandem.followups.services import complete_task, create_task
from tandem.people.activities import log_activity
from tandem.people.models import Person
from tandem.routing import escalation
from tandem.routing.handoffs import accept_handoff, send_back_handoff
from tandem.routing.models import Handoff
from tandem.routing.mql import qualify
from tandem.routing.reasons import ensure_default_reasons
from tandem.routing.services_rules import create_rule, set_capacity
from tandem.sla.services import add_business_minutes, create_sla_policy, set_business_hours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
SEND_BACK = (
    ("not_decision_maker", "Reads the guides, but purchasing decides; asked for an intro."),
    ("no_budget", "Interested, no budget before next fiscal year."),
    ("bad_timing", "Mid-migration; call again in spring."),
    ("not_a_fit", "Twelve employees, no plans to grow the team."),
)


def set_up_sales_desk(system: Actor, sales_team: Team, first_seller: User, manager: User) -> None:
    """Berlin business hours, three SLAs and four routing rules; the sales manager takes no
    leads in turn (capacity 0) but hears of breaches and answers for the team."""
    set_capacity(actor=system, user=manager, max_open_handoffs=0)
    set_business_hours(
        actor=system,
        team=None,
        time_zone="Europe/Berlin",
        hours={day: [["09:00", "17:00"]] for day in WEEKDAYS},
        country="DE",
        subdivision="BE",
    )
    for data in (
        {"name": "Asked for contact on a form", "touchpoint_kind": "form_fill",
         "amount": 1, "unit": "hours"},
        {"name": "Trade-show lead", "touchpoint_kind": "booth_scan", "amount": 5,
         "unit": "days"},
        {"name": "Every other lead", "amount": 1, "unit": "days", "reassign_on_breach": True},
    ):  # fmt: skip
        create_sla_policy(actor=system, data=data)
    rules: tuple[dict[str, Any], ...] = (
        {"name": "Named accounts", "kind": "named_accounts"},
        {"name": "DACH to Sam", "kind": "territory", "countries": ["DE", "AT", "CH"],
         "user": first_seller.pk, "team": sales_team.pk},
        {"name": "Everyone else in turn", "kind": "round_robin", "team": sales_team.pk},
        {"name": "Sales queue", "kind": "fallback", "team": sales_team.pk},
    )  # fmt: skip
    for rule in rules:
        create_rule(actor=system, data=rule)


def replay_handoffs(
    *, system: Actor, rng: random.Random, now: dt.datetime, marketer: User
) -> dict[str, int]:
    """Route the people the demo history made MQLs at the moment they became one, then
    what their owners did: a first call in time or late, accepted or sent back; a quarter
    left untouched, whose breach the escalation announces (and reassigns where the SLA
    says so)."""
    counts = {"handoffs": 0, "first_calls": 0, "accepted": 0, "sent_back": 0, "tasks": 0}
    ensure_default_reasons()  # the send-back reasons list (its migration seeds it)
    mql = list(
        Person.objects.filter(stage="mql", deleted_at__isnull=True)
        .order_by("stage_changed_at", "id")
        .values_list("pk", "stage_changed_at")
    )
    for pk, at in mql:
        when = min(at or now, now - dt.timedelta(hours=1))
        qualify(reasons={pk: "Marked MQL in the demo's history"}, actor=system, now=when)
    handoffs = list(
        Handoff.objects.filter(is_current=True, owner__isnull=False)
        .select_related("owner", "person")
        .order_by("routed_at", "id")
    )
    counts["handoffs"] = len(handoffs)
    for handoff in handoffs:
        owner, person = handoff.owner, handoff.person
        assert owner is not None
        seller = Actor.for_user(owner)
        roll = rng.random()
        if roll < 0.25 or handoff.routed_at > now - dt.timedelta(days=2):
            continue  # untouched: the escalation below announces the breach when due
        # The first call: mostly within the SLA's hour, some late.
        minutes = rng.choice((12, 25, 40, 55, 75, 150, 300))
        called = add_business_minutes(handoff.team_id, handoff.routed_at, minutes)
        if called >= now:
            continue
        log_activity(
            actor=seller,
            kind="call",
            person=person,
            subject="First call",
            outcome="Reached" if rng.random() < 0.7 else "Left a voicemail",
            occurred_at=called,
        )
        counts["first_calls"] += 1
        if roll < 0.55:
            accept_handoff(actor=seller, person=person)
            counts["accepted"] += 1
            task = create_task(
                seller,
                kind=rng.choice(("call", "meeting")),
                title=f"Discovery with {person}",
                owner=owner,
                due_at=now + dt.timedelta(days=rng.randint(-3, 6), hours=rng.randint(0, 6)),
                person=person,
            )
            counts["tasks"] += 1
            if rng.random() < 0.3:
                complete_task(seller, task=task, outcome="Booked a demo", log=True)
        elif roll < 0.75:
            reason, note = rng.choice(SEND_BACK)
            send_back_handoff(actor=seller, person=person, reason=reason, note=note)
            counts["sent_back"] += 1
    reminded, breached = escalation.tick(now)
    counts |= {"sla_reminders": reminded, "sla_breaches": breached}
    # A to-do for marketing, so the Tasks page is not only sales'.
    create_task(
        Actor.for_user(marketer),
        kind="todo",
        title="Review this month's send-back reasons with sales",
        owner=marketer,
        due_at=now + dt.timedelta(days=2),
    )
    counts["tasks"] += 1
    return counts


def write(*, system: Actor, users: dict[str, Any], rng: random.Random, now: dt.datetime) -> dict:
    sales1 = users["sales1"]
    set_up_sales_desk(system, sales1.team, sales1, users["manager"])
    return replay_handoffs(system=system, rng=rng, now=now, marketer=users["marketer"])

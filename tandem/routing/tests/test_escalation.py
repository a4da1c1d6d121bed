"""Escalation: the owner is reminded at the reminder time, at the due time the owner and the
team's managers hear of the breach — each exactly once — and a lead whose SLA says so goes
to the reassignment hook. Time is driven with time_machine; the due times are set as a
business-hours SLA would set them (over an evening, a weekend, a public holiday)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from conftest import make_user
from tandem.accounts.actor import Actor
from tandem.accounts.models import Role, Team
from tandem.core.models import AuditEvent
from tandem.notifications.models import Notification
from tandem.people.activities import log_activity
from tandem.routing import escalation
from tandem.routing.models import Handoff, HandoffStatus
from tandem.routing.tests.escalate_factories import T0, routed

pytestmark = pytest.mark.django_db


def told(kind: str) -> list[tuple[str, str]]:
    return sorted(Notification.objects.filter(kind=kind).values_list("user__username", "key"))


@pytest.fixture
def north(db):
    return Team.objects.create(name="North")


def test_reminder_at_the_reminder_time_then_breach_for_owner_and_team_managers(
    north, salesperson, manager
):
    salesperson.team = manager.team = north
    salesperson.save()
    manager.save()
    make_user("other_manager", Role.MANAGER)  # no team: not told
    handoff = routed(owner=salesperson, minutes=60)  # reminder at 30 min, due at 60
    with time_machine.travel(T0 + dt.timedelta(minutes=29), tick=False):
        assert escalation.tick() == (0, 0)
    with time_machine.travel(T0 + dt.timedelta(minutes=30), tick=False):
        assert escalation.tick() == (1, 0)
    assert told("sla_reminder") == [("sam", f"sla_reminder:{handoff.pk}")]
    note = Notification.objects.get(kind="sla_reminder")
    assert note.url == f"/people/{handoff.person_id}/"
    assert note.title == "Contact Lead Person by Tue 01 Dec 10:00 UTC", note.title
    with time_machine.travel(T0 + dt.timedelta(minutes=45), tick=False):
        assert escalation.tick() == (0, 0)  # reminded once
    with time_machine.travel(T0 + dt.timedelta(minutes=60), tick=False):
        assert escalation.tick() == (0, 1)
        assert escalation.tick() == (0, 0)  # breached once
    assert told("sla_breach") == [
        ("max", f"sla_breach:{handoff.pk}"),
        ("sam", f"sla_breach:{handoff.pk}"),
    ]
    fresh = Handoff.objects.get(pk=handoff.pk)
    assert fresh.breached_at is not None and fresh.reminded_at is not None
    assert not AuditEvent.objects.filter(event__startswith="routing.").exists()  # nobody acted


def test_a_contacted_lead_is_neither_reminded_nor_breached(salesperson):
    handoff = routed(owner=salesperson, minutes=60)
    log_activity(
        actor=Actor.for_user(salesperson),
        kind="call",
        person=handoff.person,
        body="Left a voicemail",
        occurred_at=T0 + dt.timedelta(minutes=10),
    )
    with time_machine.travel(T0 + dt.timedelta(hours=5), tick=False):
        assert escalation.tick() == (0, 0)
    assert not Notification.objects.exists()


def test_a_lead_sent_back_is_not_escalated(salesperson):
    routed(owner=salesperson, minutes=60, status=HandoffStatus.SENT_BACK)
    with time_machine.travel(T0 + dt.timedelta(hours=5), tick=False):
        assert escalation.tick() == (0, 0)
    assert not Notification.objects.exists()


def test_a_team_queue_breach_tells_the_team_managers(north, manager, other_salesperson):
    manager.team = north
    manager.save()
    handoff = routed(owner=None, team=north, minutes=60)
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        assert escalation.tick() == (1, 1)
    assert told("sla_reminder") == []  # nobody owns it yet
    assert told("sla_breach") == [("max", f"sla_breach:{handoff.pk}")]


def test_a_lead_without_sla_is_never_escalated(salesperson):
    routed(owner=salesperson, minutes=None)
    with time_machine.travel(T0 + dt.timedelta(days=30), tick=False):
        assert escalation.tick() == (0, 0)


def test_a_claim_is_taken_once():
    """What a second worker finds after the first claimed: nothing (a conditional UPDATE)."""
    handoff = routed(minutes=60)
    later = T0 + dt.timedelta(hours=2)
    from django.db.models import Q

    first = escalation._claim("breached_at", Q(due_at__lte=later), later)
    second = escalation._claim("breached_at", Q(due_at__lte=later), later)
    assert [h.pk for h in first] == [handoff.pk] and second == []


def test_breach_hands_on_the_leads_whose_sla_reassigns(salesperson):
    seen: list[list[int]] = []
    # The hook alone (the engine's own, which routes them again, is tested with the engine).
    engine_hook = escalation._reassign_hooks.pop("routing.engine", None)
    escalation.register_breach_reassign("test", seen.append)
    try:
        keep = routed(owner=salesperson, minutes=60, name="Keep")
        move = routed(owner=salesperson, minutes=60, name="Move", reassign_on_breach=True)
        with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
            escalation.tick()
            assert escalation.breached_for_reassignment() == [move.pk]
        assert seen == [[move.pk]]
        assert keep.pk not in seen[0]
    finally:
        escalation._reassign_hooks.pop("test", None)
        if engine_hook is not None:
            escalation.register_breach_reassign("routing.engine", engine_hook)


# --- across an evening, a weekend and a public holiday ----------------------------------
# The due times below are what a business-hours SLA gives (tandem.sla counts them); the
# escalation only compares them with the clock, so these hold whatever the calendar code.

FRI_1630 = dt.datetime(2026, 12, 4, 16, 30, tzinfo=dt.UTC)  # Friday
MON_0930 = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)  # 1 business hour later


@pytest.mark.parametrize(
    ("moment", "reminded", "breached"),
    [
        (dt.datetime(2026, 12, 4, 17, 0, tzinfo=dt.UTC), 1, 0),  # Friday evening: reminder
        (dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC), 1, 0),  # Saturday
        (dt.datetime(2026, 12, 6, 23, 59, tzinfo=dt.UTC), 1, 0),  # Sunday night
        (dt.datetime(2026, 12, 7, 9, 29, tzinfo=dt.UTC), 1, 0),  # Monday 09:29
        (dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC), 1, 1),  # Monday 09:30: breach
    ],
)
def test_a_friday_lead_breaches_on_monday_morning_not_over_the_weekend(
    salesperson, moment, reminded, breached
):
    handoff = routed(
        owner=salesperson,
        routed_at=FRI_1630,
        minutes=None,
        due_at=MON_0930,
        remind_at=dt.datetime(2026, 12, 4, 17, 0, tzinfo=dt.UTC),
    )
    with time_machine.travel(moment, tick=False):
        escalation.tick()
    assert len(told("sla_reminder")) == reminded
    assert len(told("sla_breach")) == breached
    assert (Handoff.objects.get(pk=handoff.pk).breached_at is not None) == bool(breached)


def test_a_christmas_eve_lead_waits_out_the_holidays(salesperson):
    """Thursday 24 December, 16:00 in Berlin; the 25th and 26th are public holidays, then
    the weekend: a 2-business-hour SLA is due on Monday the 28th at 11:00 local time."""
    berlin = dt.timezone(dt.timedelta(hours=1))
    routed_at = dt.datetime(2026, 12, 24, 16, 0, tzinfo=berlin)
    due = dt.datetime(2026, 12, 28, 11, 0, tzinfo=berlin)
    handoff = routed(
        owner=salesperson,
        routed_at=routed_at,
        minutes=None,
        due_at=due,
        remind_at=dt.datetime(2026, 12, 28, 10, 0, tzinfo=berlin),
    )
    for moment in (
        dt.datetime(2026, 12, 24, 20, 0, tzinfo=berlin),  # Christmas Eve, evening
        dt.datetime(2026, 12, 25, 12, 0, tzinfo=berlin),  # Christmas Day
        dt.datetime(2026, 12, 26, 12, 0, tzinfo=berlin),  # Boxing Day (Saturday)
        dt.datetime(2026, 12, 27, 12, 0, tzinfo=berlin),  # Sunday
    ):
        with time_machine.travel(moment, tick=False):
            assert escalation.tick() == (0, 0), moment
    with time_machine.travel(dt.datetime(2026, 12, 28, 10, 0, tzinfo=berlin), tick=False):
        assert escalation.tick() == (1, 0)
    with time_machine.travel(dt.datetime(2026, 12, 28, 10, 59, tzinfo=berlin), tick=False):
        assert escalation.tick() == (0, 0)
    with time_machine.travel(dt.datetime(2026, 12, 28, 11, 0, tzinfo=berlin), tick=False):
        assert escalation.tick() == (0, 1)
    assert told("sla_breach") == [("sam", f"sla_breach:{handoff.pk}")]

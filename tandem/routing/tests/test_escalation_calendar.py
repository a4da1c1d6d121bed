"""The escalation on a real SLA clock (tandem.sla.services.start_clock): a team in Berlin,
Monday to Friday 09:00-17:00, German public holidays, a 2-business-hour demo-request SLA
reminded at half time. Time moves with time_machine over an evening, a weekend and
Christmas; the worker's tick reminds and breaches only when business time has run out."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tandem.accounts.actor import Actor
from tandem.accounts.models import Team
from tandem.notifications.models import Notification
from tandem.people import services as people
from tandem.routing import escalation
from tandem.routing.models import Handoff
from tandem.sla import services as sla
from tandem.sla.models import default_hours

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
SYSTEM = Actor.system("test")


@pytest.fixture
def team(db):
    team = Team.objects.create(name="Berlin")
    sla.set_business_hours(
        actor=SYSTEM, team=team, time_zone="Europe/Berlin", hours=default_hours(), country="DE"
    )
    sla.create_sla_policy(
        actor=SYSTEM,
        data={"name": "Demo request", "amount": 2, "unit": "hours", "remind_at_share": 0.5},
    )
    return team


def route(owner, team, at: dt.datetime) -> Handoff:
    person = people.create_person(actor=SYSTEM, data={"last_name": "Lead", "owner": owner})
    clock = sla.start_clock(team_id=team.pk, source="web", touchpoint_kind="", start=at)
    return Handoff.objects.create(
        person=person,
        owner=owner,
        team=team,
        routed_by="Territory: Berlin",
        routed_at=at,
        sla_policy_id=clock.policy_id,
        sla_name=clock.policy_name,
        due_at=clock.due_at,
        remind_at=clock.remind_at,
    )


def kinds() -> list[str]:
    return sorted(Notification.objects.values_list("kind", flat=True))


def tick_at(moment: dt.datetime) -> tuple[int, int]:
    with time_machine.travel(moment, tick=False):
        return escalation.tick()


def test_a_christmas_eve_lead_is_due_after_the_holidays_and_the_weekend(team, salesperson):
    """Thursday 24 December 2026, 16:00: one business hour left that day; the 25th and
    26th are public holidays, the 27th a Sunday: due Monday the 28th at 10:00."""
    handoff = route(salesperson, team, dt.datetime(2026, 12, 24, 16, 0, tzinfo=BERLIN))
    assert handoff.due_at == dt.datetime(2026, 12, 28, 10, 0, tzinfo=BERLIN)
    assert handoff.remind_at == dt.datetime(2026, 12, 24, 17, 0, tzinfo=BERLIN)
    assert tick_at(dt.datetime(2026, 12, 24, 16, 59, tzinfo=BERLIN)) == (0, 0)
    assert tick_at(dt.datetime(2026, 12, 24, 17, 0, tzinfo=BERLIN)) == (1, 0)  # evening
    for day in (25, 26, 27):  # the holidays and Sunday
        assert tick_at(dt.datetime(2026, 12, day, 12, 0, tzinfo=BERLIN)) == (0, 0)
    assert tick_at(dt.datetime(2026, 12, 28, 9, 59, tzinfo=BERLIN)) == (0, 0)
    assert tick_at(dt.datetime(2026, 12, 28, 10, 0, tzinfo=BERLIN)) == (0, 1)
    assert kinds() == ["sla_breach", "sla_reminder"]
    reminder = Notification.objects.get(kind="sla_reminder")
    assert reminder.title == "Contact Lead by Mon 28 Dec 10:00 CET"


def test_a_friday_evening_lead_waits_for_monday(team, salesperson):
    """Friday 4 December, 18:30 (closed): the clock starts on Monday at 09:00."""
    handoff = route(salesperson, team, dt.datetime(2026, 12, 4, 18, 30, tzinfo=BERLIN))
    assert handoff.due_at == dt.datetime(2026, 12, 7, 11, 0, tzinfo=BERLIN)
    assert tick_at(dt.datetime(2026, 12, 5, 12, 0, tzinfo=BERLIN)) == (0, 0)  # Saturday
    assert tick_at(dt.datetime(2026, 12, 7, 10, 0, tzinfo=BERLIN)) == (1, 0)  # half time
    assert tick_at(dt.datetime(2026, 12, 7, 11, 0, tzinfo=BERLIN)) == (0, 1)

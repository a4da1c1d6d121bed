"""Which SLA a lead gets, and the clock it starts: first matching policy in order, due in
business time, reminded at a share of that time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tandem.accounts.models import Team
from tandem.core.models import AuditEvent
from tandem.sla import services
from tandem.sla.models import BusinessCalendar, SlaPolicy
from tandem.sla.tests.factories import SYSTEM, calendar, policy

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def team(db) -> Team:
    team = Team.objects.create(name="Inside sales")
    calendar(team, country="DE", subdivision="BY")
    return team


def test_the_first_matching_policy_wins_and_a_catch_all_takes_the_rest(db):
    demo = policy("Demo requests", 15, source="Website", touchpoint_kind="form_fill")
    show = policy("Trade show", 5, "days", touchpoint_kind="booth_scan")
    anything = policy("Everything else", 1, "days")
    assert services.policy_for("website", "form_fill") == demo  # case does not matter
    assert services.policy_for("Fair 2026", "booth_scan") == show
    assert services.policy_for("Website", "page_visit") == anything
    assert services.policy_for("", "") == anything


def test_an_inactive_policy_is_skipped_and_order_can_change(db):
    catch_all = policy("Everything else", 4, "hours")
    demo = policy("Demo requests", 15, touchpoint_kind="form_fill")
    assert services.policy_for("", "form_fill") == catch_all
    services.move_sla_policy(actor=SYSTEM, policy=demo, position=1)
    assert services.policy_for("", "form_fill") == demo
    assert list(SlaPolicy.objects.values_list("name", "position")) == [
        ("Demo requests", 1),
        ("Everything else", 2),
    ]
    services.update_sla_policy(actor=SYSTEM, policy=demo, data={"is_active": False})
    assert services.policy_for("", "form_fill") == catch_all


def test_no_policy_no_clock(team):
    clock = services.start_clock(
        team_id=team.pk,
        source="Website",
        touchpoint_kind="form_fill",
        start=berlin(2026, 12, 4, 18),
    )
    assert clock == services.NO_SLA


def test_a_demo_request_on_friday_evening_is_due_monday_and_reminded_halfway(team):
    demo = policy("Demo requests", 15, touchpoint_kind="form_fill", reassign_on_breach=True)
    clock = services.start_clock(
        team_id=team.pk,
        source="Website",
        touchpoint_kind="form_fill",
        start=berlin(2026, 12, 4, 18),
    )
    assert clock.policy_id == demo.pk and clock.policy_name == "Demo requests"
    assert clock.due_at == berlin(2026, 12, 7, 9, 15)
    assert clock.remind_at == berlin(2026, 12, 7, 9, 7, 30)
    assert clock.reassign_on_breach is True


def test_a_trade_show_lead_within_five_business_days(team):
    policy("Trade show", 5, "days", touchpoint_kind="booth_scan", remind_at_share=0.8)
    # Met at the booth Thursday 26 November 2026, 14:00.
    clock = services.start_clock(
        team_id=team.pk, source="Fair", touchpoint_kind="booth_scan", start=berlin(2026, 11, 26, 14)
    )
    assert clock.due_at == berlin(2026, 12, 3, 14, 0)
    # 80 % of the 40 business hours: 32 hours in, Wednesday 2 December at 14:00.
    assert clock.remind_at == berlin(2026, 12, 2, 14, 0)


def test_hours_count_business_hours(team):
    policy("Partner leads", 4, "hours", remind_at_share=0)
    clock = services.start_clock(
        team_id=team.pk, source="", touchpoint_kind="referral", start=berlin(2026, 12, 8, 15, 0)
    )
    assert clock.due_at == berlin(2026, 12, 9, 11, 0)
    assert clock.remind_at is None


def test_policies_show_their_time_in_the_unit_people_typed(db):
    assert policy("A", 15).time_display == "15 business minutes"
    assert policy("B", 1, "hours").time_display == "1 business hour"
    five = policy("C", 5, "days")
    assert (five.time_display, five.minutes, five.amount) == ("5 business days", 7200, 5)


def test_every_change_is_audited(db):
    demo = policy("Demo requests", 15)
    services.update_sla_policy(actor=SYSTEM, policy=demo, data={"amount": 30})
    services.delete_sla_policy(actor=SYSTEM, policy=demo)
    events = list(
        AuditEvent.objects.filter(target_type="sla.slapolicy")
        .order_by("id")
        .values_list("event", "changes")
    )
    assert [e for e, _ in events] == [
        "sla_policy_created",
        "sla_policy_changed",
        "sla_policy_deleted",
    ]
    assert events[1][1] == {"minutes": [15, 30]}
    assert events[2][1]["name"] == ["Demo requests", None]


def test_deleting_a_policy_closes_the_gap_in_the_order(db):
    a, b, c = policy("A", 1), policy("B", 2), policy("C", 3)
    services.delete_sla_policy(actor=SYSTEM, policy=b)
    assert list(SlaPolicy.objects.values_list("name", "position")) == [("A", 1), ("C", 2)]
    services.create_sla_policy(actor=SYSTEM, data={"name": "D", "amount": 1, "position": 1})
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["D", "A", "C"]
    assert a and c


def test_business_hours_changes_are_audited(db):
    team = Team.objects.create(name="Branch")
    calendar(team, country="DE")
    calendar(team, country="AT")
    services.reset_business_hours(actor=SYSTEM, team=team)
    events = list(
        AuditEvent.objects.filter(target_type="sla.businesscalendar")
        .order_by("id")
        .values_list("event", "changes")
    )
    assert [e for e, _ in events] == [
        "business_hours_set",
        "business_hours_set",
        "business_hours_reset",
    ]
    assert events[1][1] == {"country": ["DE", "AT"]}
    assert not BusinessCalendar.objects.filter(team=team).exists()


def test_a_batch_of_clocks_reads_policies_once_and_each_calendar_once(
    team, django_assert_num_queries
):
    other = Team.objects.create(name="US East")
    calendar(other, time_zone="America/New_York", country="US")
    policy("Demo requests", 15, touchpoint_kind="form_fill")
    policy("Trade show", 5, "days", touchpoint_kind="booth_scan", remind_at_share=0.8)
    policy("Everything else", 4, "hours", source="Partner")
    kinds = ["form_fill", "booth_scan", "page_visit"]
    requests = [
        services.ClockRequest(
            team_id=(team.pk, other.pk, None)[i % 3],
            source="Partner" if i % 4 else "Web",
            touchpoint_kind=kinds[i % 3],
            start=berlin(2026, 11, 20, 8) + dt.timedelta(minutes=97 * i),
        )
        for i in range(300)
    ]
    with django_assert_num_queries(4):  # the policies; the calendars of two teams and none
        clocks = services.start_clocks(requests)
    assert clocks == [
        services.start_clock(
            team_id=r.team_id, source=r.source, touchpoint_kind=r.touchpoint_kind, start=r.start
        )
        for r in requests
    ]
    assert services.NO_SLA in clocks and len({c.policy_name for c in clocks}) == 4

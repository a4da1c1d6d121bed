"""The SLA settings pages as a sales manager uses them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tandem.accounts.models import Team
from tandem.sla.models import BusinessCalendar, SlaPolicy
from tandem.sla.tests.factories import calendar, policy


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def test_a_manager_adds_a_policy_and_sees_it_in_words(signed_in):
    response = signed_in.post(
        "/settings/sla/policies/new/",
        {
            "name": "Trade show",
            "amount": "5",
            "unit": "days",
            "touchpoint_kind": "booth_scan",
            "remind_percent": "80",
            "reassign_on_breach": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    saved = SlaPolicy.objects.get()
    assert (saved.minutes, saved.unit, saved.remind_at_share) == (7200, "days", 0.8)
    page = signed_in.get("/settings/sla/").content.decode()
    assert "5 business days" in page and "Booth scan" in page and "at 80%" in page
    assert "notify the manager, reassign" in page


def test_a_bad_policy_keeps_the_values_and_says_what_is_wrong(signed_in):
    response = signed_in.post(
        "/settings/sla/policies/new/",
        {"name": "Too long", "amount": "400", "unit": "days", "remind_percent": "50"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "At most a year." in page and 'value="Too long"' in page
    assert not SlaPolicy.objects.exists()


def test_editing_deactivating_and_the_history(signed_in):
    demo = policy("Demo requests", 15)
    response = signed_in.post(
        f"/settings/sla/policies/{demo.pk}/",
        {"name": "Demo requests", "amount": "1", "unit": "hours", "remind_percent": "0"},
    )
    assert response.status_code == 302
    demo.refresh_from_db()
    assert (demo.minutes, demo.is_active, demo.remind_at_share) == (60, False, 0.0)
    page = signed_in.get(f"/settings/sla/policies/{demo.pk}/").content.decode()
    assert "Sla policy changed" in page and "Is active: yes → no" in page


def test_moving_a_policy_up_and_down(signed_in):
    a, b, c = policy("A", 1), policy("B", 2), policy("C", 3)
    signed_in.post(f"/settings/sla/policies/{c.pk}/move/", {"direction": "up"})
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["A", "C", "B"]
    signed_in.post(f"/settings/sla/policies/{a.pk}/move/", {"direction": "down"})
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["C", "A", "B"]
    signed_in.post(f"/settings/sla/policies/{c.pk}/move/", {"direction": "up"})
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["C", "A", "B"]
    assert b


def test_a_manager_sets_a_teams_hours_with_a_lunch_break(signed_in):
    team = Team.objects.create(name="Munich")
    response = signed_in.post(
        f"/settings/sla/hours/{team.pk}/",
        {
            "time_zone": "Europe/Berlin",
            "country": "DE",
            "subdivision": "by",
            "mon": "9:00-12:00, 13:00-17:00",
            "tue": "09:00–12:00; 13:00-17:00",
            "closing_days": "2026-12-24 Christmas Eve\n\n2026-12-31",
        },
    )
    assert response.status_code == 302, response.content.decode()
    saved = BusinessCalendar.objects.get(team=team)
    assert saved.hours == {
        "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
        "tue": [["09:00", "12:00"], ["13:00", "17:00"]],
    }
    assert saved.subdivision == "BY"
    assert saved.closing_days == [
        {"date": "2026-12-24", "name": "Christmas Eve"},
        {"date": "2026-12-31", "name": ""},
    ]
    listing = signed_in.get("/settings/sla/hours/").content.decode()
    assert "Monday: 09:00–12:00, 13:00–17:00" in listing and "own hours" in listing
    form = signed_in.get(f"/settings/sla/hours/{team.pk}/").content.decode()
    assert 'value="09:00-12:00, 13:00-17:00"' in form and "Business hours set" in form


def test_bad_hours_are_shown_next_to_the_day(signed_in):
    response = signed_in.post(
        "/settings/sla/hours/default/",
        {"time_zone": "Europe/Berlin", "mon": "09:00-13:00, 12:00-17:00", "tue": "nine to five"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "“nine to five” is not an interval" in page
    assert not BusinessCalendar.objects.exists()
    response = signed_in.post(
        "/settings/sla/hours/default/",
        {
            "time_zone": "Europe/Berlin",
            "mon": "09:00-13:00, 12:00-17:00",
            "country": "DE",
            "subdivision": "XX",
        },
    )
    page = response.content.decode()
    assert "Monday: 09:00–13:00 overlaps 12:00–17:00." in page
    assert "DE has no subdivision “XX”" in page
    assert 'value="09:00-13:00, 12:00-17:00"' in page


def test_a_week_with_no_hours_is_refused(signed_in):
    response = signed_in.post("/settings/sla/hours/default/", {"time_zone": "UTC"})
    assert response.status_code == 400
    assert "Open at least one interval in the week." in response.content.decode()


def test_a_team_goes_back_to_the_company_hours(signed_in):
    team = Team.objects.create(name="Munich")
    calendar(None, country="DE")
    calendar(team, country="AT", time_zone="Europe/Vienna")
    page = signed_in.get(f"/settings/sla/hours/{team.pk}/").content.decode()
    assert "Use the company's hours" in page
    assert signed_in.post(f"/settings/sla/hours/{team.pk}/reset/").status_code == 302
    assert not BusinessCalendar.objects.filter(team=team).exists()
    page = signed_in.get(f"/settings/sla/hours/{team.pk}/").content.decode()
    assert "works the company" in page and 'value="Europe/Berlin" selected' in page


@time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC), tick=False)
def test_the_hours_page_lists_the_days_off_ahead(signed_in):
    team = Team.objects.create(name="Munich")
    calendar(
        team,
        country="DE",
        subdivision="BY",
        closing_days=[{"date": "2026-12-24", "name": "Christmas Eve"}],
    )
    page = signed_in.get(f"/settings/sla/hours/{team.pk}/").content.decode()
    days_off = page[page.index('id="days-off"') :]
    assert "Thu 24 Dec 2026</time> · Christmas Eve" in days_off
    assert "Fri 25 Dec 2026</time> · Christmas Day" in days_off
    assert "Wed 6 Jan 2027</time> · Epiphany" in days_off  # Bavaria's own
    assert "26 Dec" not in days_off  # a Saturday: closed anyway

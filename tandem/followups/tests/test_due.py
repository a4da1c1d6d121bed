""" "Due today" and "overdue" in the site's time zone, as the clock crosses midnight there.

New York (UTC-5 in November): at 23:30 there it is already 04:30 the next day in UTC,
so a task due at 10:00 New York time tomorrow is "upcoming" for a New York
salesperson, though it is due "today" by the UTC date.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tandem.accounts.services import create_token
from tandem.followups.filters import today_bounds
from tandem.followups.tests import factories

NY = ZoneInfo("America/New_York")
BEFORE_MIDNIGHT = dt.datetime(2026, 11, 17, 23, 30, tzinfo=NY)  # 04:30 UTC on the 18th
AFTER_MIDNIGHT = dt.datetime(2026, 11, 18, 0, 15, tzinfo=NY)  # 05:15 UTC on the 18th


@pytest.fixture
def new_york(settings):
    settings.TIME_ZONE = "America/New_York"


@pytest.fixture
def tasks(system, salesperson):
    def due(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(2026, 11, day, hour, minute, tzinfo=NY)

    with time_machine.travel(BEFORE_MIDNIGHT - dt.timedelta(hours=12), tick=False):
        make = lambda title, at: factories.task(  # noqa: E731
            system, title=title, due_at=at, owner=salesperson
        )
        return {
            "evening call": make("Evening call", due(17, 20)),
            "late call": make("Late call", due(17, 23, 45)),
            "morning call": make("Morning call", due(18, 10)),
            "next week": make("Next week", due(24, 9)),
            "someday": make("Someday", None),
        }


def due_titles(client, token: str, due: str) -> list[str]:
    response = client.get(
        f"/api/v1/tasks?owner=me&due={due}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.content
    return [t["title"] for t in response.json()["items"]]


def page_groups(client) -> dict[str, list[str]]:
    response = client.get("/tasks/")
    assert response.status_code == 200
    return {g.label: [t.title for t in g.tasks] for g in response.context["groups"]}


def test_today_and_overdue_follow_the_new_york_clock_across_midnight(
    client, system, salesperson, new_york, tasks
):
    _, token = create_token(actor=system, user=salesperson, name="t")
    client.force_login(salesperson)

    with time_machine.travel(BEFORE_MIDNIGHT, tick=False):
        assert due_titles(client, token, "overdue") == ["Evening call"]
        assert due_titles(client, token, "today") == ["Late call"]
        # Due tomorrow in New York, though it is the same UTC date already.
        assert due_titles(client, token, "upcoming") == ["Morning call", "Next week", "Someday"]
        assert page_groups(client) == {
            "Overdue": ["Evening call"],
            "Due today": ["Late call"],
            "Upcoming": ["Morning call", "Next week", "Someday"],
        }

    with time_machine.travel(AFTER_MIDNIGHT, tick=False):
        assert due_titles(client, token, "overdue") == ["Evening call", "Late call"]
        assert due_titles(client, token, "today") == ["Morning call"]
        assert due_titles(client, token, "upcoming") == ["Next week", "Someday"]
        groups = page_groups(client)
        assert groups["Due today"] == ["Morning call"]
        page = client.get("/tasks/").content.decode()
        assert page.count('data-overdue="true"') == 2

    with time_machine.travel(dt.datetime(2026, 11, 18, 10, 1, tzinfo=NY), tick=False):
        assert due_titles(client, token, "today") == []
        assert due_titles(client, token, "overdue") == ["Evening call", "Late call", "Morning call"]


def test_in_utc_the_same_moment_is_already_the_next_day(client, system, salesperson, tasks):
    """The contrast: with the site in UTC, 04:30 UTC on the 18th makes the morning call today's."""
    _, token = create_token(actor=system, user=salesperson, name="t")
    with time_machine.travel(BEFORE_MIDNIGHT, tick=False):
        assert due_titles(client, token, "today") == ["Late call", "Morning call"]


def test_done_and_cancelled_tasks_are_never_overdue(client, system, salesperson, new_york, tasks):
    _, token = create_token(actor=system, user=salesperson, name="t")
    from tandem.followups import services

    services.complete_task(system, task=tasks["evening call"])
    services.cancel_task(system, task=tasks["late call"])
    with time_machine.travel(AFTER_MIDNIGHT, tick=False):
        assert due_titles(client, token, "overdue") == []
        response = client.get(
            f"/api/v1/tasks/{tasks['evening call'].pk}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.json()["is_overdue"] is False


def test_a_daylight_saving_day_has_25_hours(new_york):
    start, end = today_bounds(dt.datetime(2026, 11, 1, 12, 0, tzinfo=NY))
    assert end.astimezone(dt.UTC) - start.astimezone(dt.UTC) == dt.timedelta(hours=25)
    assert start == dt.datetime(2026, 11, 1, 4, 0, tzinfo=dt.UTC)

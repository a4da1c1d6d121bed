"""The SLA report: hand-offs routed in the period by source, owner and team — met, breached,
pending — and the median and 90th percentile of the time to first contact.

The contacts below fall on a Tuesday between 09:00 and 17:00 UTC, inside any business
day, so business time equals wall-clock time here whatever the calendar code.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tandem.accounts.actor import Actor
from tandem.accounts.models import Team
from tandem.accounts.services import create_token
from tandem.routing.models import HandoffStatus
from tandem.routing.sla_report import percentile
from tandem.routing.tests.escalate_factories import T0, routed

pytestmark = pytest.mark.django_db
NOW = T0 + dt.timedelta(hours=6)  # Tuesday 15:00


def m(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def handoffs(salesperson, other_salesperson):
    north = Team.objects.create(name="North")
    made = [
        # web, Sam: contacted after 10, 20, 30 minutes (SLA 60) and 90 (breached)
        routed(owner=salesperson, team=north, source="web", first_contact_at=m(10)),
        routed(owner=salesperson, team=north, source="web", first_contact_at=m(20)),
        routed(owner=salesperson, team=north, source="web", first_contact_at=m(30)),
        routed(owner=salesperson, team=north, source="web", first_contact_at=m(90)),
        # fair, Sol: one never contacted and past due, one still waiting (due at 16:00)
        routed(owner=other_salesperson, source="fair", minutes=120),
        routed(owner=other_salesperson, source="fair", routed_at=m(300), minutes=120),
        # fair, Sol: sent back before due, uncontacted: closed, not a miss
        routed(
            owner=other_salesperson,
            source="fair",
            minutes=120,
            status=HandoffStatus.SENT_BACK,
            responded_at=m(5),
        ),
        # no SLA, contacted after 40 minutes
        routed(owner=other_salesperson, source="", minutes=None, first_contact_at=m(40)),
        # routed the day before the period: left out
        routed(owner=salesperson, source="web", routed_at=T0 - dt.timedelta(days=1)),
    ]
    return made


def report(client, user, query):
    _, raw = create_token(actor=Actor.system("t"), user=user, name="t")
    with time_machine.travel(NOW, tick=False):
        return client.get("/api/v1/reports/sla" + query, headers={"Authorization": f"Bearer {raw}"})


def by_label(body):
    return {row["label"]: row for row in body["rows"]}


def test_by_source(client, handoffs, marketer):
    response = report(client, marketer, "?from=2026-12-01&to=2026-12-01&group_by=source")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["from"] == "2026-12-01" and body["group_by"] == "source"
    rows = by_label(body)
    web, fair, none = rows["web"], rows["fair"], rows["(no source)"]
    assert (web["handoffs"], web["met"], web["breached"], web["pending"]) == (4, 3, 1, 0)
    assert web["met_percent"] == 75.0
    assert web["median_seconds"] == 25 * 60  # 10, 20, 30, 90 minutes
    assert web["p90_seconds"] == pytest.approx(72 * 60)  # 30 + 0.7 * (90 - 30)
    assert (fair["handoffs"], fair["met"], fair["breached"], fair["pending"]) == (3, 0, 1, 1)
    assert fair["closed"] == 1 and fair["median_seconds"] is None
    assert (none["handoffs"], none["no_sla"], none["median_seconds"]) == (1, 1, 40 * 60)
    total = body["total"]
    assert (total["handoffs"], total["met"], total["breached"], total["pending"]) == (8, 3, 2, 1)
    assert total["median_seconds"] == 30 * 60  # 10, 20, 30, 40, 90


def test_by_owner_and_by_team(client, handoffs, manager):
    owners = by_label(
        report(client, manager, "?from=2026-12-01&to=2026-12-01&group_by=owner").json()
    )
    assert owners["Sam Sales"]["handoffs"] == 4 and owners["Sol Seller"]["handoffs"] == 4
    teams = by_label(report(client, manager, "?from=2026-12-01&to=2026-12-01&group_by=team").json())
    assert teams["North"]["met"] == 3 and teams["(no team)"]["handoffs"] == 4


def test_the_period_picks_by_routing_day(client, handoffs, admin):
    body = report(client, admin, "?from=2026-11-30&to=2026-11-30").json()
    assert body["total"]["handoffs"] == 1
    assert report(client, admin, "?from=2026-12-01").json()["total"]["handoffs"] == 8
    assert report(client, admin, "").json()["total"]["handoffs"] == 9  # the last 30 days


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=2026-12-02&to=2026-12-01", "to"),
        ("?from=yesterday", "from"),
        ("?group_by=campaign", "group_by"),
    ],
)
def test_bad_input_names_the_field(client, handoffs, admin, query, field):
    response = report(client, admin, query)
    assert response.status_code == 422
    assert field in response.content.decode()


def test_the_page_and_its_csv(client, handoffs, marketer):
    client.force_login(marketer)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/reports/sla/?from=2026-12-01&to=2026-12-01").content.decode()
        csv = b"".join(
            client.get("/reports/sla/export.csv?from=2026-12-01&to=2026-12-01").streaming_content
        ).decode("utf-8-sig")
    assert "web" in html and "75.0 %" in html and "25.0 min" in html
    lines = csv.splitlines()
    assert lines[0].startswith("group,handoffs,met,breached")
    assert "web,4,3,1,0,0,0,75.0,25.0,72.0" in lines
    assert lines[-1].startswith("All,8,3,2,1,1,1")


def test_the_page_names_a_bad_date(client, handoffs, marketer):
    client.force_login(marketer)
    response = client.get("/reports/sla/?from=2026-13-45")
    assert response.status_code == 200
    assert "Write a date as YYYY-MM-DD." in response.content.decode()


def test_a_source_that_looks_like_a_formula_is_quoted_in_the_csv(client, salesperson, admin):
    routed(owner=salesperson, source="=HYPERLINK(1)", routed_at=m(0))
    client.force_login(admin)
    with time_machine.travel(NOW, tick=False):
        csv = b"".join(client.get("/reports/sla/export.csv").streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in csv


def test_percentile():
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5


def test_time_to_first_contact_is_counted_in_the_teams_business_hours(client, salesperson, admin):
    """Routed Friday 16:30 in Berlin, called Monday 09:30: one business hour, not 65."""
    from zoneinfo import ZoneInfo

    from tandem.sla import services as sla
    from tandem.sla.models import default_hours

    berlin = ZoneInfo("Europe/Berlin")
    team = Team.objects.create(name="Berlin")
    sla.set_business_hours(
        actor=Actor.system("t"),
        team=team,
        time_zone="Europe/Berlin",
        hours=default_hours(),
        country="DE",
    )
    routed(
        owner=salesperson,
        team=team,
        routed_at=dt.datetime(2026, 12, 4, 16, 30, tzinfo=berlin),
        minutes=None,
        due_at=dt.datetime(2026, 12, 7, 10, 30, tzinfo=berlin),
        first_contact_at=dt.datetime(2026, 12, 7, 9, 30, tzinfo=berlin),
    )
    body = report(client, admin, "?from=2026-12-04&to=2026-12-04&group_by=team").json()
    row = by_label(body)["Berlin"]
    assert (row["met"], row["median_seconds"], row["p90_seconds"]) == (1, 3600.0, 3600.0)

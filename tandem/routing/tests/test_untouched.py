"""The untouched leads: routed, nobody has contacted them yet, oldest due first (no due date
last), paged with a cursor; managers see everyone's, a salesperson their own and their
team's queue."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tandem.accounts.actor import Actor
from tandem.accounts.models import Team
from tandem.accounts.services import create_token
from tandem.people.activities import log_activity
from tandem.routing.models import HandoffStatus
from tandem.routing.tests.escalate_factories import T0, routed

pytestmark = pytest.mark.django_db
URL = "/api/v1/leads/untouched"


def get(client, user, query=""):
    _, raw = create_token(actor=Actor.system("t"), user=user, name="t")
    return client.get(URL + query, headers={"Authorization": f"Bearer {raw}"})


def names(response):
    assert response.status_code == 200, response.content
    return [item["person_name"] for item in response.json()["items"]]


@pytest.fixture
def leads(salesperson, other_salesperson):
    north = Team.objects.create(name="North")
    salesperson.team = north
    salesperson.save()
    return {
        "late": routed(owner=salesperson, name="Late", minutes=30, team=north),
        "soon": routed(owner=other_salesperson, name="Soon", minutes=90),
        "later": routed(owner=salesperson, name="Later", minutes=240, team=north),
        "queue": routed(owner=None, team=north, name="Queue", minutes=120),
        "no_sla": routed(owner=salesperson, name="NoSla", minutes=None),
        "called": routed(owner=salesperson, name="Called", minutes=10),
        "sent_back": routed(
            owner=salesperson, name="SentBack", minutes=5, status=HandoffStatus.SENT_BACK
        ),
        "old": routed(owner=salesperson, name="Old", minutes=1, is_current=False),
    }


def _call(leads, salesperson):
    log_activity(
        actor=Actor.for_user(salesperson),
        kind="call",
        person=leads["called"].person,
        body="hi",
        occurred_at=T0 + dt.timedelta(minutes=3),
    )


def test_a_manager_sees_every_untouched_lead_oldest_due_first(client, leads, manager, salesperson):
    _call(leads, salesperson)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        response = get(client, manager)
    assert names(response) == [
        "Late Person",
        "Soon Person",
        "Queue Person",
        "Later Person",
        "NoSla Person",
    ]
    body = response.json()
    assert body["all_owners"] is True and body["next_cursor"] is None
    late = body["items"][0]
    assert late["overdue"] is True and body["items"][1]["overdue"] is False
    assert late["owner_name"] == "Sam Sales" and late["team_name"] == "North"
    assert late["routed_by"] == "Territory: Europe" and late["sla_name"] == "Demo request"
    assert late["person_id"] == leads["late"].person_id
    assert body["items"][-1]["due_at"] is None and body["items"][-1]["overdue"] is False


def test_filters_by_owner_and_team(client, leads, manager, other_salesperson):
    assert names(get(client, manager, f"?owner={other_salesperson.pk}")) == ["Soon Person"]
    team = leads["queue"].team_id
    assert names(get(client, manager, f"?team={team}")) == [
        "Late Person",
        "Queue Person",
        "Later Person",
    ]


def test_a_salesperson_sees_their_own_and_their_teams_queue(client, leads, salesperson):
    response = get(client, salesperson)
    assert names(response) == [
        "Called Person",  # not called yet in this test
        "Late Person",
        "Queue Person",
        "Later Person",
        "NoSla Person",
    ]
    assert response.json()["all_owners"] is False
    assert names(get(client, salesperson, f"?owner={salesperson.pk}")) == [
        "Called Person",
        "Late Person",
        "Later Person",
        "NoSla Person",
    ]


def test_a_salesperson_may_not_ask_for_someone_elses(client, leads, salesperson, other_salesperson):
    assert get(client, salesperson, f"?owner={other_salesperson.pk}").status_code == 403
    other_team = Team.objects.create(name="South")
    assert get(client, salesperson, f"?team={other_team.pk}").status_code == 403


def test_keyset_pages_walk_the_whole_list_once(client, leads, manager):
    seen, cursor = [], None
    for _ in range(10):
        response = get(client, manager, "?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        seen += names(response)
        cursor = response.json()["next_cursor"]
        if not cursor:
            break
    assert seen == names(get(client, manager))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?cursor=nonsense", "cursor"),
        ("?cursor=W251bGwsOTk5OTk5OTk5OTk5OTk5OTk5OTk5OTld", "cursor"),  # [null, 999…]: too big
        ("?limit=0", "limit"),
        ("?owner=abc", "owner"),
        ("?team=99999999999999999999999", "team"),
    ],
)
def test_bad_input_names_the_field(client, leads, manager, query, field):
    response = get(client, manager, query)
    assert response.status_code == 422
    assert field in response.content.decode()


def test_the_page_lists_them_with_overdue_marked_and_links(client, leads, manager):
    client.force_login(manager)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        response = client.get("/leads/untouched/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/people/{leads["late"].person_id}/"' in html
    assert html.count("Overdue</strong>") == 2  # Called (not called here) and Late
    assert html.index("Late Person") < html.index("Soon Person") < html.index("NoSla Person")
    assert "SentBack" not in html and "Old Person" not in html


def test_the_page_shows_a_salesperson_only_theirs(client, leads, other_salesperson):
    client.force_login(other_salesperson)
    html = client.get("/leads/untouched/").content.decode()
    assert "Soon Person" in html and "Late Person" not in html
    assert 'name="owner"' not in html


def test_a_call_takes_the_lead_off_the_list_and_a_deleted_person_is_gone(
    client, leads, manager, salesperson
):
    from tandem.people import services as people

    before = names(get(client, manager))
    assert "Called Person" in before and "Late Person" in before
    _call(leads, salesperson)
    people.delete_person(actor=Actor.for_user(manager), person=leads["late"].person)
    after = names(get(client, manager))
    assert "Called Person" not in after and "Late Person" not in after
    assert len(after) == len(before) - 2

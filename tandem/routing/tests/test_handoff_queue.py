"""A lead routed to a team's queue (no owner yet): its team's salespeople and managers are
told of it, so they may answer it; accepting takes it. Before, only an admin could."""

from __future__ import annotations

import pytest

from tandem.accounts.models import Role
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.people.models import Person
from tandem.routing.models import Handoff
from tandem.routing.tests.handoff_factories import handoff, lead, make_user, team_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(salesperson, other_salesperson, manager):
    north = team_with("North", salesperson, manager)
    team_with("South", other_salesperson)
    person = lead(None, last_name="Queued")
    return person, handoff(person, owner=None, team=north)


_TOKENS: dict[int, str] = {}


@pytest.fixture(autouse=True)
def _fresh_tokens():
    _TOKENS.clear()


def _token(system, user) -> str:
    """The user's API token, made once per test (making it is audited)."""
    if user.pk not in _TOKENS:
        _TOKENS[user.pk] = create_token(actor=system, user=user, name="queue")[1]
    return _TOKENS[user.pk]


def _api(client, system, user, path, body=None):
    return client.post(
        f"/api/v1{path}",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {_token(system, user)}"},
    )


def _accept(client, system, user, person) -> int:
    return _api(client, system, user, f"/people/{person.pk}/accept").status_code


def _send_back(client, system, user, person) -> int:
    path = f"/people/{person.pk}/send-back"
    return _api(client, system, user, path, {"reason": "no_budget"}).status_code


def test_a_team_member_accepts_a_queue_lead_and_it_becomes_theirs(
    client, system, queue, salesperson
):
    person, h = queue
    assert _accept(client, system, salesperson, person) == 200
    person.refresh_from_db()
    h.refresh_from_db()
    assert person.owner_id == salesperson.pk and person.stage == "sal"
    assert h.status == "accepted" and h.owner_id == salesperson.pk
    event = AuditEvent.objects.get(event="handoff_accepted", target_id=str(h.pk))
    assert event.changes["owner"] == [None, salesperson.pk]
    owner_change = AuditEvent.objects.get(event="changed", target_id=str(person.pk))
    assert owner_change.changes["owner"] == [None, salesperson.pk]


def test_another_team_or_a_marketer_may_not_answer_a_queue_lead(
    client, system, queue, other_salesperson, marketer
):
    person, h = queue
    for user in (other_salesperson, marketer):
        _token(system, user)
    before = AuditEvent.objects.count()
    for user in (other_salesperson, marketer):
        assert _accept(client, system, user, person) == 403
        assert _send_back(client, system, user, person) == 403
    assert AuditEvent.objects.count() == before
    assert Handoff.objects.get(pk=h.pk).status == "open"
    assert Person.objects.get(pk=person.pk).owner_id is None


def test_once_taken_the_lead_is_no_longer_the_rest_of_the_teams(client, system, queue, salesperson):
    person, _ = queue
    colleague = make_user("nina", Role.SALESPERSON, salesperson.team)
    assert _accept(client, system, salesperson, person) == 200
    assert _send_back(client, system, colleague, person) == 403


def test_the_teams_manager_sends_a_queue_lead_back_from_its_page(
    client, queue, manager, other_salesperson
):
    person, h = queue
    client.force_login(other_salesperson)
    assert "Accept</button>" not in client.get(f"/people/{person.pk}/").content.decode()
    client.force_login(manager)
    assert "Accept</button>" in client.get(f"/people/{person.pk}/").content.decode()
    sent = client.post(
        f"/people/{person.pk}/handoff/send-back/", {"reason": "no_budget", "note": "Not now."}
    )
    assert sent.status_code == 302
    h.refresh_from_db()
    assert h.status == "sent_back" and h.responded_by_id == manager.pk
    assert Person.objects.get(pk=person.pk).stage == "recycled"


def test_my_leads_lists_the_teams_queue_leads_with_the_buttons_until_one_takes_it(
    client, queue, salesperson, other_salesperson, manager
):
    """They are told of a queue lead, so "My leads" shows it to each of the team (counted,
    labelled, with Accept); not to another team. Once one of them accepts it, it waits for
    nobody any more."""
    person, _ = queue
    mine = lead(salesperson, last_name="Owned")
    handoff(mine, owner=salesperson)

    client.force_login(salesperson)
    page = client.get("/leads/")
    body = page.content.decode()
    assert [lead.person.pk for lead in page.context["leads"]] == [person.pk, mine.pk]
    assert page.context["waiting_count"] == 2
    assert "In the North queue" in body and body.count("Accept</button>") == 2

    client.force_login(manager)  # the team's manager, their own inbox
    assert [lead.person.pk for lead in client.get("/leads/").context["leads"]] == [person.pk]

    client.force_login(other_salesperson)  # another team
    south = client.get("/leads/")
    assert south.context["leads"] == [] and south.context["waiting_count"] == 0

    client.force_login(manager)
    assert client.post(f"/people/{person.pk}/handoff/accept/").status_code == 302
    assert Person.objects.get(pk=person.pk).owner_id == manager.pk
    client.force_login(salesperson)
    assert [lead.person.pk for lead in client.get("/leads/").context["leads"]] == [mine.pk]

"""Who may do what on the deal pages, checked on the server for every view (and the
buttons hidden from those who may not): everyone reads deals; salespeople, managers and
admins open them; a salesperson edits, moves, closes and deletes only their own deals,
managers and admins every deal; marketers read only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tandem.accounts.actor import Actor
from tandem.deals import services
from tandem.deals.models import Deal, DealContact, DealStatus
from tandem.deals.tests.test_views import deal, person, stages

pytestmark = pytest.mark.django_db

ROLES = ["admin", "manager", "salesperson", "other_salesperson", "marketer"]
# Sam (the salesperson) owns the deal; Sol (the other salesperson) does not.
OWNER_OR_MANAGERS = {"admin", "manager", "salesperson"}


@pytest.fixture
def sams_deal(system, salesperson) -> Deal:
    ann = person(system, "sal")
    return deal(system, salesperson, contacts=[{"person": ann.pk, "role": "champion"}])


def _close(client, d: Deal) -> Any:
    return client.post(f"/deals/{d.pk}/close/", {"close-status": "won"})


def _reopen(client, d: Deal) -> Any:
    won = services.close_deal(actor=Actor.system("test"), deal=d, status="won", reason_id=None)
    return client.post(f"/deals/{won.pk}/reopen/", {"reopen-stage": ""})


# (name, request, the roles it lets through, the status they get)
WRITES: list[tuple[str, Callable[[Any, Deal], Any], int]] = [
    ("edit page", lambda c, d: c.get(f"/deals/{d.pk}/edit/"), 200),
    (
        "edit",
        lambda c, d: c.post(
            f"/deals/{d.pk}/edit/",
            {
                "name": "Renamed",
                "pipeline": d.pipeline_id,
                "amount": "5",
                "currency": "EUR",
                "owner": d.owner_id,
            },
        ),
        302,
    ),
    (
        "move",
        lambda c, d: c.post(f"/deals/{d.pk}/move/", {"stage": stages()[1].pk, "from": "board"}),
        302,
    ),
    ("close", _close, 302),
    ("reopen", _reopen, 302),
    ("delete page", lambda c, d: c.get(f"/deals/{d.pk}/delete/"), 200),
    ("delete", lambda c, d: c.post(f"/deals/{d.pk}/delete/"), 302),
    (
        "add contact",
        lambda c, d: c.post(
            f"/deals/{d.pk}/contacts/",
            {"contact-email": "", "contact-person": "", "contact-role": "user"},
        ),
        400,  # allowed, but no person given: the form says so
    ),
    (
        "remove contact",
        lambda c, d: c.post(
            f"/deals/{d.pk}/contacts/remove/",
            {"person": DealContact.objects.filter(deal=d).values_list("person_id", flat=True)[0]},
        ),
        302,
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("action", "call", "allowed_status"), WRITES, ids=[w[0] for w in WRITES])
def test_writes_on_a_deal_need_its_owner_or_a_manager(
    client, users_by_role, sams_deal, role, action, call, allowed_status
):
    client.force_login(users_by_role[role])
    response = call(client, sams_deal)
    expected = allowed_status if role in OWNER_OR_MANAGERS else 403
    assert response.status_code == expected, (role, action)
    if expected == 403:
        fresh = Deal.objects.get(pk=sams_deal.pk)
        assert (fresh.name, fresh.stage_id) == (sams_deal.name, sams_deal.stage_id)
        assert fresh.status in (DealStatus.OPEN, DealStatus.WON)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/deals/", "/deals/list/", "/deals/{pk}/"])
def test_everyone_reads_the_board_the_list_and_a_deal(client, users_by_role, sams_deal, role, path):
    client.force_login(users_by_role[role])
    assert client.get(path.format(pk=sams_deal.pk)).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_opening_a_deal_is_for_sales_and_managers(client, users_by_role, role):
    client.force_login(users_by_role[role])
    expected = 403 if role == "marketer" else 200
    assert client.get("/deals/new/").status_code == expected
    posted = client.post("/deals/new/", {"name": "X", "amount": "1", "currency": "EUR"})
    assert posted.status_code == (403 if role == "marketer" else 400)  # 400: no pipeline given


@pytest.mark.parametrize(
    "path", ["/deals/", "/deals/list/", "/deals/new/", "/deals/1/", "/deals/1/edit/"]
)
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_salesperson_cannot_move_someone_elses_deal_by_either_way(
    client, other_salesperson, sams_deal
):
    client.force_login(other_salesperson)
    target = {"stage": stages()[2].pk, "from": "board"}
    assert client.post(f"/deals/{sams_deal.pk}/move/", target).status_code == 403
    htmx = client.post(f"/deals/{sams_deal.pk}/move/", target, headers={"HX-Request": "true"})
    assert htmx.status_code == 403
    assert Deal.objects.get(pk=sams_deal.pk).stage == stages()[0]


def test_the_buttons_show_only_to_who_may_use_them(
    client, system, salesperson, other_salesperson, marketer, sams_deal
):
    sols = deal(system, other_salesperson, "Sol's deal")

    client.force_login(other_salesperson)
    board = client.get("/deals/").content.decode()
    assert f'id="move-{sols.pk}"' in board and f'id="move-{sams_deal.pk}"' not in board
    assert f'data-deal="{sams_deal.pk}" data-stage' in board  # shown, not draggable
    assert f'draggable="true" data-move-url="/deals/{sams_deal.pk}/move/"' not in board
    assert "Open a deal" in board
    page = client.get(f"/deals/{sams_deal.pk}/").content.decode()
    for hidden in ("/edit/", "/delete/", "Close won or lost", "Add a contact", ">Remove<"):
        assert hidden not in page, hidden

    client.force_login(marketer)
    board = client.get("/deals/").content.decode()
    assert "move-form" not in board and "Open a deal" not in board
    assert 'draggable="true"' not in board

    client.force_login(salesperson)
    page = client.get(f"/deals/{sams_deal.pk}/").content.decode()
    for shown in ("/edit/", "/delete/", "Close won or lost", "Add a contact", ">Remove<"):
        assert shown in page, shown

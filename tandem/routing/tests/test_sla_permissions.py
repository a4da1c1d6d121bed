"""Every speed-to-lead endpoint and page × every kind of caller, with the status each gets.

The rules: untouched leads are for everyone signed in, each seeing what is theirs to
call — managers and admins ("routing.view_untouched") every lead, anyone else their
own and their team's queue, 403 when asking for another owner's. The SLA report
("sla.view_report") is for marketers, managers and admins (one set of numbers for
both teams), not salespeople. Both only read, so a read-only token may call them.
Anonymous: 401 from the API, the log-in page for a page.
"""

from __future__ import annotations

import pytest

from tandem.accounts.actor import Actor
from tandem.accounts.context_processors import menu_for
from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.routing.tests.escalate_factories import routed

CALLERS = ["admin", "manager", "marketer", "salesperson", "read_only_token", "anonymous"]
ALL = {"admin", "manager", "marketer", "salesperson", "read_only_token"}
MANAGING = {"admin", "manager", "read_only_token"}  # the token is an admin's
REPORT = {"admin", "manager", "marketer", "read_only_token"}

ENDPOINTS = {
    "untouched": ("/leads/untouched", ALL),
    "untouched, another owner": ("/leads/untouched?owner={sol}", MANAGING),
    "sla report": ("/reports/sla?group_by=owner", REPORT),
}
PAGES = {
    "untouched page": ("/leads/untouched/", ALL),
    "untouched page, another owner": ("/leads/untouched/?owner={sol}", ALL),  # shows own
    "sla report page": ("/reports/sla/", REPORT),
    "sla report csv": ("/reports/sla/export.csv", REPORT),
}


def _acting(caller, users_by_role):
    return users_by_role["admin"] if caller == "read_only_token" else users_by_role.get(caller)


@pytest.fixture
def leads(db, users_by_role):
    return {
        "sam": routed(owner=users_by_role["salesperson"], name="Sams"),
        "sol": routed(owner=users_by_role["other_salesperson"], name="Sols"),
    }


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_api_permission_matrix(client, users_by_role, leads, caller, endpoint):
    path, allowed = ENDPOINTS[endpoint]
    headers = {}
    acting = _acting(caller, users_by_role)
    if acting is not None:
        scope = TokenScope.READ if caller == "read_only_token" else TokenScope.READ_WRITE
        _, raw = create_token(actor=Actor.system("t"), user=acting, name="m", scope=scope)
        headers["Authorization"] = f"Bearer {raw}"
    url = "/api/v1" + path.format(sol=users_by_role["other_salesperson"].pk)
    response = client.get(url, headers=headers)
    expected = 401 if caller == "anonymous" else 200 if caller in allowed else 403
    assert response.status_code == expected, response.content
    if endpoint == "untouched" and expected == 200:
        seen = {item["person_name"] for item in response.json()["items"]}
        if caller in MANAGING:
            assert seen == {"Sams Person", "Sols Person"}
        elif caller == "salesperson":
            assert seen == {"Sams Person"}
        else:
            assert seen == set()  # a marketer owns no leads


@pytest.mark.parametrize("caller", [c for c in CALLERS if c != "read_only_token"])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_permission_matrix(client, users_by_role, leads, caller, page):
    path, allowed = PAGES[page]
    acting = _acting(caller, users_by_role)
    if acting is not None:
        client.force_login(acting)
    response = client.get(path.format(sol=users_by_role["other_salesperson"].pk))
    if caller == "anonymous":
        assert response.status_code == 302 and "/login" in response["Location"]
        return
    assert response.status_code == (200 if caller in allowed else 403)
    if page == "untouched page, another owner" and caller == "salesperson":
        html = response.content.decode()
        assert "Sams Person" in html and "Sols Person" not in html


@pytest.mark.parametrize("caller", ["admin", "manager", "marketer", "salesperson"])
def test_the_menu_shows_what_each_may_open(users_by_role, caller):
    labels = {link["label"] for link in menu_for(users_by_role[caller])}
    assert "Untouched leads" in labels
    assert ("SLA report" in labels) == (caller != "salesperson")

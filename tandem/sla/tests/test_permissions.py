"""Every SLA endpoint and page × every kind of caller, with the status each must get.

The rules (accounts/permissions.py, "sla.manage"): managers and admins set SLA policies and
business hours; everyone signed in reads them over the API (a salesperson knows what they
are held to); the settings pages are for managers and admins only. A read-only token never
writes, an anonymous API caller gets 401 (a page: a redirect to log in). A refused request
changes and records nothing.
"""

from __future__ import annotations

import pytest

from tandem.accounts.models import Team, TokenScope
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.sla.models import BusinessCalendar, SlaPolicy
from tandem.sla.tests.factories import calendar, policy

CALLERS = ["admin", "manager", "marketer", "salesperson", "read_only_token", "anonymous"]
MANAGERS = {"admin", "manager"}
HOURS = {
    "time_zone": "Europe/Vienna",
    "country": "AT",
    "hours": {"mon": [["08:00", "16:00"]]},
}
ENDPOINTS = {
    "list policies": ("get", "/sla-policies", None, "read", 200),
    "get policy": ("get", "/sla-policies/{policy}", None, "read", 200),
    "create policy": ("post", "/sla-policies", {"name": "Demo", "amount": 15}, "manage", 201),
    "edit policy": ("patch", "/sla-policies/{policy}", {"amount": 30}, "manage", 200),
    "delete policy": ("delete", "/sla-policies/{policy}", None, "manage", 204),
    "list hours": ("get", "/business-hours", None, "read", 200),
    "get default hours": ("get", "/business-hours/default", None, "read", 200),
    "put default hours": ("put", "/business-hours/default", HOURS, "manage", 200),
    "get team hours": ("get", "/business-hours/{team}", None, "read", 200),
    "put team hours": ("put", "/business-hours/{team}", HOURS, "manage", 200),
    "reset team hours": ("delete", "/business-hours/{team}", None, "manage", 200),
}


def rows() -> dict[str, int]:
    team = Team.objects.create(name="Inside sales")
    calendar(team)
    return {"policy": policy("Demo requests", 15).pk, "team": team.pk}


def expected_status(caller: str, rule: str, ok: int) -> int:
    if caller == "anonymous":
        return 401
    if rule == "read":
        return ok
    return ok if caller in MANAGERS else 403


def state() -> tuple:
    return (
        AuditEvent.objects.count(),
        list(SlaPolicy.objects.values_list("pk", "minutes")),
        list(BusinessCalendar.objects.values_list("pk", "time_zone", "country")),
    )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_api_permission_matrix(client, system, users_by_role, caller, endpoint):
    method, path, body, rule, ok = ENDPOINTS[endpoint]
    ids = rows()
    acting = users_by_role["admin"] if caller == "read_only_token" else users_by_role.get(caller)
    headers = {}
    if acting is not None:
        scope = TokenScope.READ if caller == "read_only_token" else TokenScope.READ_WRITE
        _, raw = create_token(actor=system, user=acting, name="matrix", scope=scope)
        headers["Authorization"] = f"Bearer {raw}"
    before = state()
    response = getattr(client, method)(
        "/api/v1" + path.format(**ids), body, content_type="application/json", headers=headers
    )
    assert response.status_code == expected_status(caller, rule, ok), response.content
    if response.status_code >= 400 or rule == "read":
        assert state() == before


PAGES = {
    "policies": ("get", "/settings/sla/", 200),
    "new policy form": ("get", "/settings/sla/policies/new/", 200),
    "add policy": ("post", "/settings/sla/policies/new/", 302),
    "edit policy form": ("get", "/settings/sla/policies/{policy}/", 200),
    "save policy": ("post", "/settings/sla/policies/{policy}/", 302),
    "move policy": ("post", "/settings/sla/policies/{policy}/move/", 302),
    "delete policy": ("post", "/settings/sla/policies/{policy}/delete/", 302),
    "hours": ("get", "/settings/sla/hours/", 200),
    "default hours form": ("get", "/settings/sla/hours/default/", 200),
    "save default hours": ("post", "/settings/sla/hours/default/", 302),
    "team hours form": ("get", "/settings/sla/hours/{team}/", 200),
    "save team hours": ("post", "/settings/sla/hours/{team}/", 302),
    "reset team hours": ("post", "/settings/sla/hours/{team}/reset/", 302),
}
POLICY_FORM = {
    "name": "Demo requests",
    "amount": "30",
    "unit": "minutes",
    "remind_percent": "50",
    "is_active": "on",
}
HOURS_FORM = {"time_zone": "Europe/Vienna", "country": "AT", "mon": "08:00-16:00"}


@pytest.mark.parametrize("caller", [c for c in CALLERS if c != "read_only_token"])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_permission_matrix(client, users_by_role, caller, page):
    method, path, ok = PAGES[page]
    ids = rows()
    acting = users_by_role.get(caller)
    if acting is not None:
        client.force_login(acting)
    data = None
    if method == "post":
        data = POLICY_FORM if "policies" in path else HOURS_FORM
        if "move" in path:
            data = {"direction": "up"}
    before = state()
    response = getattr(client, method)(path.format(**ids), data)
    if caller == "anonymous":
        assert response.status_code == 302 and "/login" in response["Location"]
    else:
        assert response.status_code == (ok if caller in MANAGERS else 403)
    if caller not in MANAGERS:
        assert state() == before


@pytest.mark.parametrize("caller", ["admin", "manager", "marketer", "salesperson"])
def test_the_menu_shows_slas_to_those_who_may_open_them(client, users_by_role, caller):
    client.force_login(users_by_role[caller])
    page = client.get("/people/").content.decode()
    assert ('href="/settings/sla/"' in page) == (caller in MANAGERS)

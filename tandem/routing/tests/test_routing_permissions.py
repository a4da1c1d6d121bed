"""Every routing-rules endpoint and page × every kind of caller, with the status each gets.

The rules (accounts/permissions.py): everyone signed in reads the rules and who is
away; managers and admins write, order and delete rules and set capacity
("routing.manage_rules"); anyone records their own out-of-office, only managers and
admins someone else's. A read-only token never writes; an anonymous API caller gets
401 (a page: a redirect to log in). A refused request records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.routing import services_rules
from tandem.routing.models import OutOfOffice, RoutingRule
from tandem.routing.tests.factories import SYSTEM

CALLERS = ["admin", "manager", "marketer", "salesperson", "read_only_token", "anonymous"]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict | None
    rule: str  # read, manage, own (a salesperson's own out-of-office)
    ok: int = 200


RULE = {"name": "DE", "kind": "territory", "countries": ["DE"], "user": "sol"}
ENDPOINTS = {
    "list": Call("get", "/routing-rules", None, "read"),
    "get": Call("get", "/routing-rules/{rule}", None, "read"),
    "availability": Call("get", "/routing-rules/availability", None, "read"),
    "create": Call("post", "/routing-rules", RULE, "manage", 201),
    "patch": Call("patch", "/routing-rules/{rule}", {"name": "Renamed"}, "manage"),
    "delete": Call("delete", "/routing-rules/{rule}", None, "manage", 204),
    "reorder": Call("post", "/routing-rules/reorder", {"ids": ["{second}", "{rule}"]}, "manage"),
    "capacity": Call("put", "/routing-rules/capacity/{sol}", {"max_open_handoffs": 3}, "manage"),
    "own away": Call(
        "post",
        "/routing-rules/out-of-office",
        {"user": "sam", "starts_on": "2099-01-01", "ends_on": "2099-01-02"},
        "own",
        201,
    ),
    "someone's away": Call(
        "post",
        "/routing-rules/out-of-office",
        {"user": "sol", "starts_on": "2099-01-01", "ends_on": "2099-01-02"},
        "manage",
        201,
    ),
    "remove own away": Call("delete", "/routing-rules/out-of-office/{sam_away}", None, "own", 204),
}


def expected_status(caller: str, rule: str, ok: int) -> int:
    if caller == "anonymous":
        return 401
    if rule == "read":
        return ok
    if caller == "read_only_token":
        return 403
    if caller in ("admin", "manager"):
        return ok
    if rule == "own" and caller == "salesperson":
        return ok
    return 403


def rows(users) -> dict[str, int]:
    first = services_rules.create_rule(actor=SYSTEM, data={**RULE, "name": "First"})
    second = services_rules.create_rule(actor=SYSTEM, data={**RULE, "name": "Second"})
    import datetime as dt

    away = services_rules.add_out_of_office(
        actor=SYSTEM,
        user=users["salesperson"],
        starts_on=dt.date(2099, 2, 1),
        ends_on=dt.date(2099, 2, 2),
    )
    return {
        "rule": first.pk,
        "second": second.pk,
        "sol": users["other_salesperson"].pk,
        "sam_away": away.pk,
    }


def _acting(caller: str, users):
    if caller == "read_only_token":
        return users["admin"]
    return users.get(caller)


def _fill(value, ids):
    if isinstance(value, str) and value.startswith("{"):
        return ids[value[1:-1]]
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_api_permission_matrix(client, users_by_role, caller, endpoint):
    call = ENDPOINTS[endpoint]
    ids = rows(users_by_role)
    acting = _acting(caller, users_by_role)
    headers = {}
    if acting is not None:
        scope = TokenScope.READ if caller == "read_only_token" else TokenScope.READ_WRITE
        _, raw = create_token(actor=SYSTEM, user=acting, name="matrix", scope=scope)
        headers["Authorization"] = f"Bearer {raw}"
    audit_before = AuditEvent.objects.count()
    rules_before = list(RoutingRule.objects.values_list("pk", "name", "position"))
    away_before = OutOfOffice.objects.count()
    response = getattr(client, call.method)(
        "/api/v1" + call.path.format(**ids),
        _fill(call.body, ids),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == expected_status(caller, call.rule, call.ok), response.content
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == audit_before
        assert list(RoutingRule.objects.values_list("pk", "name", "position")) == rules_before
        assert OutOfOffice.objects.count() == away_before


PAGES = {
    "rules page": ("get", "/routing/", {}, "read", 200),
    "new rule form": ("get", "/routing/rules/new/", {}, "manage", 200),
    "new rule": (
        "post",
        "/routing/rules/new/",
        {"name": "X", "kind": "fallback", "user": "{sol}"},
        "manage",
        302,
    ),
    "edit rule form": ("get", "/routing/rules/{rule}/edit/", {}, "manage", 200),
    "move rule": ("post", "/routing/rules/{second}/move/", {"direction": "up"}, "manage", 302),
    "reorder": ("post", "/routing/rules/reorder/", {"ids": ["{second}", "{rule}"]}, "manage", 302),
    "delete rule": ("post", "/routing/rules/{rule}/delete/", {}, "manage", 302),
    "capacity": ("post", "/routing/capacity/{sol}/", {"max_open_handoffs": "2"}, "manage", 302),
    "own away": (
        "post",
        "/routing/away/",
        {"user": "{sam}", "starts_on": "2099-03-01", "ends_on": "2099-03-02"},
        "own",
        302,
    ),
    "remove own away": ("post", "/routing/away/{sam_away}/delete/", {}, "own", 302),
    "model threshold": (
        "post",
        "/routing/model-threshold/",
        {"model_mql_likelihood": "60"},
        "manage",
        302,
    ),
}


@pytest.mark.parametrize("caller", [c for c in CALLERS if c != "read_only_token"])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_permission_matrix(client, users_by_role, caller, page):
    method, path, data, rule, ok = PAGES[page]
    ids = rows(users_by_role) | {"sam": users_by_role["salesperson"].pk}
    acting = _acting(caller, users_by_role)
    if acting is not None:
        client.force_login(acting)
    audit_before = AuditEvent.objects.count()
    response = getattr(client, method)(path.format(**ids), _fill(data, ids))
    if caller == "anonymous":
        assert response.status_code == 302 and "/login" in response["Location"]
        return
    assert response.status_code == expected_status(caller, rule, ok), response.content[:500]
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == audit_before
    elif method == "post":
        assert AuditEvent.objects.count() > audit_before  # the change is audited


def test_the_menu_shows_routing_to_everyone_signed_in(client, users_by_role):
    client.force_login(users_by_role["salesperson"])
    assert 'href="/routing/"' in client.get("/routing/").content.decode()

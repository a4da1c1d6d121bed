"""Every hand-off-answer endpoint and page × every kind of caller, with the status each gets.

The rules (accounts/permissions.py): accepting or sending back (`routing.respond`) is for
the lead's owner, the manager of the owner's team, and admins; the reasons list is read by
everyone signed in and edited by admins (`routing.manage_reasons`); the send-back report
is for marketers, managers and admins (`routing.view_send_backs`, a read: a read-only token
of such a user reads it). A read-only token never writes; an anonymous API caller gets
401, a page a redirect to log in. A refused request changes nothing and audits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tandem.accounts.models import Role, TokenScope
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.routing.models import Handoff, SendBackReason
from tandem.routing.tests.handoff_factories import make_user, routed_lead, team_with

CALLERS = [
    "owner",  # sam, who was handed the lead
    "owner_manager",  # max, manager of sam's team
    "other_team_manager",  # mo, manager of another team
    "other_salesperson",  # sol
    "marketer",
    "admin",
    "read_only_token",  # the admin's read-only token
    "anonymous",
]
RESPONDERS = {"owner", "owner_manager", "admin"}
READERS_OF_REPORT = {"owner_manager", "other_team_manager", "marketer", "admin", "read_only_token"}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict | None
    rule: str  # respond, read, reasons, report
    ok: int = 200


ENDPOINTS = {
    "accept": Call("post", "/people/{person}/accept", None, "respond"),
    "send back": Call(
        "post", "/people/{person}/send-back", {"reason": "no_budget", "note": "Q3"}, "respond"
    ),
    "list reasons": Call("get", "/send-back-reasons", None, "read"),
    "create reason": Call(
        "post", "/send-back-reasons", {"key": "no_project", "label": "No project"}, "reasons", 201
    ),
    "edit reason": Call("patch", "/send-back-reasons/{reason}", {"label": "Budget"}, "reasons"),
    "deactivate reason": Call("post", "/send-back-reasons/{reason}/deactivate", None, "reasons"),
    "report": Call("get", "/reports/send-backs?group_by=source", None, "report"),
}


def expected_status(caller: str, rule: str, ok: int) -> int:
    if caller == "anonymous":
        return 401
    if rule == "read":
        return ok
    if rule == "report":
        return ok if caller in READERS_OF_REPORT else 403
    if caller == "read_only_token":
        return 403
    if rule == "respond":
        return ok if caller in RESPONDERS else 403
    return ok if caller == "admin" else 403  # reasons


@pytest.fixture
def cast(users_by_role):
    sam, maxi = users_by_role["salesperson"], users_by_role["manager"]
    team_with("DACH", sam, maxi)
    mo = make_user("mo", Role.MANAGER)
    team_with("Nordics", mo)
    return {
        "owner": sam,
        "owner_manager": maxi,
        "other_team_manager": mo,
        "other_salesperson": users_by_role["other_salesperson"],
        "marketer": users_by_role["marketer"],
        "admin": users_by_role["admin"],
        "read_only_token": users_by_role["admin"],
        "anonymous": None,
    }


def ids(cast) -> dict[str, int]:
    person, _ = routed_lead(cast["owner"])
    return {"person": person.pk, "reason": SendBackReason.objects.get(key="no_budget").pk}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_api_permission_matrix(client, system, cast, caller, endpoint):
    call = ENDPOINTS[endpoint]
    refs = ids(cast)
    acting = cast[caller]
    headers = {}
    if acting is not None:
        scope = TokenScope.READ if caller == "read_only_token" else TokenScope.READ_WRITE
        _, raw = create_token(actor=system, user=acting, name="matrix", scope=scope)
        headers["Authorization"] = f"Bearer {raw}"
    audit_before = AuditEvent.objects.count()
    response = getattr(client, call.method)(
        "/api/v1" + call.path.format(**refs),
        call.body,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == expected_status(caller, call.rule, call.ok), response.content
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == audit_before
        assert Handoff.objects.get(person_id=refs["person"]).status == "open"
        assert SendBackReason.objects.get(pk=refs["reason"]).label == "No budget"


PAGES = {
    "my leads": ("get", "/leads/", "read", 200),
    "a team member's leads": ("get", "/leads/?owner={owner}", "inbox", 200),
    "a lead's consent": ("get", "/leads/{person}/consent/", "read", 200),
    "accept": ("post", "/people/{person}/handoff/accept/", "respond", 302),
    "send-back form": ("get", "/people/{person}/handoff/send-back/", "respond", 200),
    "send back": ("post", "/people/{person}/handoff/send-back/", "respond", 302),
    "report": ("get", "/reports/send-backs/", "report", 200),
    "reasons": ("get", "/admin/send-back-reasons/", "reasons", 200),
    "new reason form": ("get", "/admin/send-back-reasons/new/", "reasons", 200),
    "new reason": ("post", "/admin/send-back-reasons/new/", "reasons", 302),
    "edit reason": ("post", "/admin/send-back-reasons/{reason}/", "reasons", 302),
}
PAGE_BODIES = {
    "send back": {"reason": "no_budget", "note": "Q3"},
    "new reason": {"key": "no_project", "label": "No project", "position": "5", "is_active": "on"},
    "edit reason": {"label": "Budget", "position": "5", "is_active": "on"},
}


@pytest.mark.parametrize("caller", [c for c in CALLERS if c != "read_only_token"])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_permission_matrix(client, cast, caller, page):
    method, path, rule, ok = PAGES[page]
    refs = ids(cast) | {"owner": cast["owner"].pk}
    acting = cast[caller]
    if acting is not None:
        client.force_login(acting)
    audit_before = AuditEvent.objects.count()
    response = getattr(client, method)(path.format(**refs), PAGE_BODIES.get(page, {}))
    if caller == "anonymous":
        assert response.status_code == 302 and "/login" in response["Location"]
        return
    if rule == "inbox":
        expected = ok if caller in RESPONDERS else 403
    elif rule == "report":
        expected = ok if caller in READERS_OF_REPORT else 403
    else:
        expected = expected_status(caller, rule, ok)
    assert response.status_code == expected, response.content[:500]
    if expected >= 400:
        assert AuditEvent.objects.count() == audit_before

"""Every scoring endpoint and page × every kind of caller, with the status each must get.

The rules (accounts/permissions.py): everyone signed in reads rules and scores;
marketers, managers and admins write and activate rules ("scoring.manage_rules")
and override any person's score; a salesperson overrides only the people they
own ("scoring.override"), not unowned ones. A read-only token never writes, an
anonymous API caller gets 401 (a page: a redirect to log in). A refused request
records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.people import services as people
from tandem.scoring import services
from tandem.scoring.models import ScoreOverride
from tandem.scoring.tests.factories import active_rules, fit

CALLERS = [
    "admin",
    "manager",
    "marketer",
    "salesperson_owner",  # sam, on a person sam owns
    "salesperson_not_owner",  # sol, on a person sam owns
    "salesperson_unowned",  # sol, on a person nobody owns
    "read_only_token",
    "anonymous",
]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict | None
    rule: str  # read, rules, override
    ok: int = 200


RULE = {"kind": "fit", "field": "title", "operator": "contains", "value": "VP", "points": 5}
ENDPOINTS = {
    "list rule sets": Call("get", "/scoring/rule-sets", None, "read"),
    "get rule set": Call("get", "/scoring/rule-sets/{active}", None, "read"),
    "person score": Call("get", "/scoring/people/{person}", None, "read"),
    "create draft": Call("post", "/scoring/rule-sets", {"copy_from": None}, "rules", 201),
    "edit draft": Call("patch", "/scoring/rule-sets/{draft}", {"mql_threshold": 40}, "rules"),
    "add rule": Call("post", "/scoring/rule-sets/{draft}/rules", RULE, "rules", 201),
    "edit rule": Call("patch", "/scoring/rules/{draft_rule}", {"points": 7}, "rules"),
    "delete rule": Call("delete", "/scoring/rules/{draft_rule}", None, "rules", 204),
    "activate": Call("post", "/scoring/rule-sets/{draft}/activate", {"reason": "Q3"}, "rules"),
    "backtest": Call("get", "/scoring/rule-sets/{draft}/backtest?months=2", None, "rules"),
    "override": Call(
        "post",
        "/scoring/people/{person}/override",
        {"kind": "score", "score": 90, "reason": "Met at the fair"},
        "override",
        201,
    ),
    "end override": Call(
        "post", "/scoring/people/{overridden}/override/end", {"reason": "done"}, "override"
    ),
}


def expected_status(caller: str, call: Call) -> int:
    if caller == "anonymous":
        return 401
    if call.rule == "read":
        return call.ok
    if caller == "read_only_token":
        return 403
    if call.rule == "rules":
        return 403 if caller.startswith("salesperson") else call.ok
    return 403 if caller in ("salesperson_not_owner", "salesperson_unowned") else call.ok


def rows(system, owner) -> dict[str, int]:
    active = active_rules([fit("title", "contains", "Head", 10)])
    draft = services.create_rule_set(actor=system, copy_from=active)
    draft_rule = draft.rules.get()
    person = people.create_person(actor=system, data={"last_name": "Lead", "owner": owner})
    overridden = people.create_person(actor=system, data={"last_name": "Over", "owner": owner})
    services.override_score(
        actor=system, person=overridden, kind="grade", grade="B", reason="Known account"
    )
    return {
        "active": active.pk,
        "draft": draft.pk,
        "draft_rule": draft_rule.pk,
        "person": person.pk,
        "overridden": overridden.pk,
    }


def _acting(caller, users_by_role):
    sam, sol = users_by_role["salesperson"], users_by_role["other_salesperson"]
    return {
        "admin": users_by_role["admin"],
        "manager": users_by_role["manager"],
        "marketer": users_by_role["marketer"],
        "salesperson_owner": sam,
        "salesperson_not_owner": sol,
        "salesperson_unowned": sol,
        "read_only_token": users_by_role["admin"],
    }.get(caller)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_api_permission_matrix(client, system, users_by_role, caller, endpoint):
    call = ENDPOINTS[endpoint]
    owner = None if caller == "salesperson_unowned" else users_by_role["salesperson"]
    ids = rows(system, owner=owner)
    acting = _acting(caller, users_by_role)
    headers = {}
    if acting is not None:
        scope = TokenScope.READ if caller == "read_only_token" else TokenScope.READ_WRITE
        _, raw = create_token(actor=system, user=acting, name="matrix", scope=scope)
        headers["Authorization"] = f"Bearer {raw}"
    audit_before = AuditEvent.objects.count()
    overrides_before = ScoreOverride.objects.count()
    response = getattr(client, call.method)(
        "/api/v1" + call.path.format(**ids),
        call.body,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == expected_status(caller, call), response.content
    if response.status_code >= 400:
        assert AuditEvent.objects.count() == audit_before
        assert ScoreOverride.objects.count() == overrides_before


PAGES = {
    "rules page": ("get", "/scoring/", "read", 200),
    "rule set page": ("get", "/scoring/sets/{draft}/", "read", 200),
    # The page answers everyone; its Backtest section only those who manage rules
    # (test_backtest.py checks what each sees).
    "rule set page, backtest": ("get", "/scoring/sets/{draft}/?months=2", "read", 200),
    "new draft": ("post", "/scoring/sets/new/", "rules", 302),
    "new rule form": ("get", "/scoring/sets/{draft}/rules/new/", "rules", 200),
    "edit rule form": ("get", "/scoring/rules/{draft_rule}/edit/", "rules", 200),
    "delete rule": ("post", "/scoring/rules/{draft_rule}/delete/", "rules", 302),
    "activate": ("post", "/scoring/sets/{draft}/activate/", "rules", 302),
    "override form": ("get", "/people/{person}/score/override/", "override", 200),
    "end override": ("post", "/people/{overridden}/score/override/end/", "override", 302),
}


@pytest.mark.parametrize("caller", [c for c in CALLERS if c != "read_only_token"])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_permission_matrix(client, system, users_by_role, caller, page):
    method, path, rule, ok = PAGES[page]
    owner = None if caller == "salesperson_unowned" else users_by_role["salesperson"]
    ids = rows(system, owner=owner)
    acting = _acting(caller, users_by_role)
    if acting is not None:
        client.force_login(acting)
    response = getattr(client, method)(path.format(**ids))
    if caller == "anonymous":
        assert response.status_code == 302 and "/login" in response["Location"]
        return
    expected = expected_status(caller, Call(method, path, None, rule, ok))
    assert response.status_code == expected

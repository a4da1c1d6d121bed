"""Every task endpoint and page × every kind of caller, with the status each must get.

The rules (accounts/permissions.py): everyone signed in sees and adds tasks; a task is
changed, completed, reopened or cancelled by marketers, managers and admins, and by a
salesperson when it is theirs or nobody's. A read-only token never writes; an anonymous
API caller gets 401 (a page: a redirect to log in). A refused request records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.followups import services
from tandem.followups.models import Task
from tandem.followups.tests import factories
from tandem.people.models import Activity

CALLERS = [
    "admin",
    "manager",
    "marketer",
    "salesperson_owner",  # sam, on a task sam owns
    "salesperson_not_owner",  # sol, on a task sam owns
    "salesperson_unowned",  # sol, on a task nobody owns
    "read_only_token",  # an admin's read-only token
    "anonymous",
]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict | None
    rule: str  # read, add, edit
    ok: int = 200


ENDPOINTS = {
    "list tasks": Call("get", "/tasks", None, "read"),
    "list my overdue tasks": Call("get", "/tasks?owner=me&due=overdue", None, "read"),
    "get task": Call("get", "/tasks/{open}", None, "read"),
    "create task": Call(
        "post", "/tasks", {"kind": "call", "title": "Call", "person": "{person}"}, "add", 201
    ),
    "edit task": Call("patch", "/tasks/{open}", {"title": "Call Ann"}, "edit"),
    "complete by PATCH": Call("patch", "/tasks/{open}", {"status": "done"}, "edit"),
    "complete": Call("post", "/tasks/{open}/complete", {"outcome": "Booked"}, "edit"),
    "complete, no body": Call("post", "/tasks/{open}/complete", None, "edit"),
    "reopen": Call("post", "/tasks/{done}/reopen", None, "edit"),
    "cancel": Call("post", "/tasks/{open}/cancel", None, "edit"),
}


def expected_status(caller: str, rule: str, ok: int) -> int:
    if caller == "anonymous":
        return 401
    if rule == "read":
        return ok
    if caller == "read_only_token":
        return 403
    if rule == "add":
        return ok
    return 403 if caller == "salesperson_not_owner" else ok


def rows(system, owner) -> dict[str, int]:
    person = factories.person(system, first_name="Ann")
    open_ = factories.task(system, person=person, owner=owner)
    done = factories.task(system, person=person, owner=owner, title="Called")
    services.complete_task(system, task=done, log=False)
    return {"person": person.pk, "open": open_.pk, "done": done.pk}


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


def _fill(body, ids):
    if body is None:
        return None
    return {
        k: (int(v.format(**ids)) if isinstance(v, str) and "{" in v else v) for k, v in body.items()
    }


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
    before = (AuditEvent.objects.count(), Task.objects.count(), Activity.objects.count())
    kwargs = {"content_type": "application/json", "headers": headers}
    body = _fill(call.body, ids)
    if body is not None:
        kwargs["data"] = body
    response = getattr(client, call.method)("/api/v1" + call.path.format(**ids), **kwargs)
    assert response.status_code == expected_status(caller, call.rule, call.ok), response.content
    if response.status_code >= 400:
        after = (AuditEvent.objects.count(), Task.objects.count(), Activity.objects.count())
        assert after == before


PAGES = {
    "tasks page": ("get", "/tasks/", None, "read", 200),
    "everyone's tasks": ("get", "/tasks/?owner=all", None, "read", 200),
    "done tasks": ("get", "/tasks/?show=done", None, "read", 200),
    "a person's tasks": ("get", "/tasks/?person={person}", None, "read", 200),
    "task page": ("get", "/tasks/{open}/", None, "read", 200),
    "person page with its card": ("get", "/people/{person}/", None, "read", 200),
    "new task form": ("get", "/tasks/new/?person={person}", None, "add", 200),
    "add task": (
        "post",
        "/tasks/new/",
        {"task-kind": "call", "task-title": "Call", "task-person": "{person}", "task-owner": ""},
        "add",
        302,
    ),
    "edit task": (
        "post",
        "/tasks/{open}/",
        {"task-kind": "call", "task-title": "Call Ann", "task-owner": "none"},
        "edit",
        302,
    ),
    "complete": ("post", "/tasks/{open}/complete/", {"done-outcome": "Booked"}, "edit", 302),
    "reopen": ("post", "/tasks/{done}/reopen/", {}, "edit", 302),
    "cancel": ("post", "/tasks/{open}/cancel/", {}, "edit", 302),
}


@pytest.mark.parametrize("caller", [c for c in CALLERS if c != "read_only_token"])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_permission_matrix(client, system, users_by_role, caller, page):
    method, path, data, rule, ok = PAGES[page]
    owner = None if caller == "salesperson_unowned" else users_by_role["salesperson"]
    ids = rows(system, owner=owner)
    acting = _acting(caller, users_by_role)
    if acting is not None:
        client.force_login(acting)
    before = (AuditEvent.objects.count(), Task.objects.count(), Activity.objects.count())
    data = {k: v.format(**ids) for k, v in (data or {}).items()}
    response = getattr(client, method)(path.format(**ids), data)
    if caller == "anonymous":
        assert response.status_code == 302 and "/login" in response["Location"]
    else:
        assert response.status_code == expected_status(caller, rule, ok), response.content[:500]
    if response.status_code not in (200, 302) or caller == "anonymous":
        after = (AuditEvent.objects.count(), Task.objects.count(), Activity.objects.count())
        assert after == before


def test_the_tasks_link_is_in_everyones_menu(client, users_by_role):
    for user in users_by_role.values():
        client.force_login(user)
        page = client.get("/people/").content.decode()
        assert '<a href="/tasks/">Tasks</a>' in page

"""Every API endpoint × every kind of caller, with the status each must get.

The rules (accounts/permissions.py): everyone inside the company reads everything
and may add people, companies and activities; a salesperson changes only the
rows they own or nobody owns; marketers, managers and admins change all rows;
only admins restore. A read-only token never writes, whoever its user is, and
an anonymous caller gets 401. A refused request records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.people import services
from tandem.people.models import Activity

CALLERS = [
    "admin",
    "manager",
    "marketer",
    "salesperson_owner",  # sam, on rows sam owns
    "salesperson_not_owner",  # sol, on rows sam owns
    "salesperson_unowned",  # sol, on rows nobody owns
    "read_only_token",  # an admin's read-only token
    "anonymous",
]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict | None
    rule: str  # read, add, edit, admin
    ok: int = 200


ENDPOINTS = {
    "list people": Call("get", "/people", None, "read"),
    "get person": Call("get", "/people/{person}", None, "read"),
    "person timeline": Call("get", "/people/{person}/timeline", None, "read"),
    "stage history": Call("get", "/people/{person}/stages", None, "read"),
    "list companies": Call("get", "/companies", None, "read"),
    "get company": Call("get", "/companies/{company}", None, "read"),
    "company people": Call("get", "/companies/{company}/people", None, "read"),
    "me": Call("get", "/me", None, "read"),
    "users": Call("get", "/users", None, "read"),
    "create person": Call("post", "/people", {"last_name": "New"}, "add", 201),
    "create company": Call("post", "/companies", {"name": "NewCo"}, "add", 201),
    "log activity": Call(
        "post", "/people/{person}/activities", {"kind": "note", "body": "Met"}, "add", 201
    ),
    "edit person": Call("patch", "/people/{person}", {"title": "CTO"}, "edit"),
    "change stage": Call("post", "/people/{person}/stage", {"to": "mql"}, "edit"),
    "add email": Call("post", "/people/{person}/emails", {"email": "x@example.com"}, "edit", 201),
    "primary email": Call("post", "/people/{person}/emails/{email}/primary", None, "edit"),
    "remove email": Call("delete", "/people/{person}/emails/{email}", None, "edit", 204),
    "add phone": Call("post", "/people/{person}/phones", {"phone": "+14155550111"}, "edit", 201),
    "remove phone": Call("delete", "/people/{person}/phones/{phone}", None, "edit", 204),
    "delete person": Call("delete", "/people/{person}", None, "edit", 204),
    "edit company": Call("patch", "/companies/{company}", {"industry": "Robots"}, "edit"),
    "delete company": Call("delete", "/companies/{company}", None, "edit", 204),
    "restore person": Call("post", "/people/{deleted_person}/restore", None, "admin"),
    "restore company": Call("post", "/companies/{deleted_company}/restore", None, "admin"),
}


def expected_status(caller: str, call: Call) -> int:
    if caller == "anonymous":
        return 401
    if call.rule == "read":
        return call.ok
    if caller == "read_only_token":
        return 403
    if call.rule == "add":
        return call.ok
    if call.rule == "edit":
        return 403 if caller == "salesperson_not_owner" else call.ok
    return call.ok if caller == "admin" else 403


def rows(system, owner) -> dict[str, int]:
    """A person (two emails, two phones) and a company, plus deleted ones, owned by `owner`."""
    company = services.create_company(actor=system, data={"name": "Acme", "owner": owner})
    person = services.create_person(
        actor=system,
        data={"last_name": "Lovelace", "owner": owner, "company": company},
        email="ada@example.com",
        phone="+14155550100",
    )
    email = services.add_email(actor=system, person=person, email="ada@work.example")
    phone = services.add_phone(actor=system, person=person, phone="+14155550101")
    gone = services.create_person(actor=system, data={"last_name": "Gone", "owner": owner})
    services.delete_person(actor=system, person=gone)
    gone_co = services.create_company(actor=system, data={"name": "GoneCo", "owner": owner})
    services.delete_company(actor=system, company=gone_co)
    return {
        "person": person.pk,
        "company": company.pk,
        "email": email.pk,
        "phone": phone.pk,
        "deleted_person": gone.pk,
        "deleted_company": gone_co.pk,
    }


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_permission_matrix(client, system, users_by_role, caller, endpoint):
    call = ENDPOINTS[endpoint]
    sam, sol = users_by_role["salesperson"], users_by_role["other_salesperson"]
    ids = rows(system, owner=None if caller == "salesperson_unowned" else sam)
    acting = {
        "admin": users_by_role["admin"],
        "manager": users_by_role["manager"],
        "marketer": users_by_role["marketer"],
        "salesperson_owner": sam,
        "salesperson_not_owner": sol,
        "salesperson_unowned": sol,
        "read_only_token": users_by_role["admin"],
    }.get(caller)
    headers = {}
    if acting is not None:
        scope = TokenScope.READ if caller == "read_only_token" else TokenScope.READ_WRITE
        _, raw = create_token(actor=system, user=acting, name="matrix", scope=scope)
        headers["Authorization"] = f"Bearer {raw}"
    audit_before = AuditEvent.objects.count()
    activities_before = Activity.objects.count()

    response = getattr(client, call.method)(
        "/api/v1" + call.path.format(**ids),
        call.body,
        content_type="application/json",
        headers=headers,
    )

    assert response.status_code == expected_status(caller, call), response.content
    if response.status_code >= 400:
        assert response.json()["detail"]
        assert AuditEvent.objects.count() == audit_before
        assert Activity.objects.count() == activities_before

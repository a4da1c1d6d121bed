"""Only admins reach the admin pages: role x page, for every page and every POST action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from tandem.core.models import AuditEvent

ROLES = ["admin", "manager", "marketer", "salesperson", "anonymous"]

# name -> (method, url from the objects, POST data from the objects, admin's status)
Case = tuple[str, Callable[[Any], str], Callable[[Any], dict[str, Any]], int]
_none: Callable[[Any], dict[str, Any]] = lambda o: {}  # noqa: E731

CASES: dict[str, Case] = {
    "users": ("get", lambda o: reverse("accounts:users"), _none, 200),
    "user_new": ("get", lambda o: reverse("accounts:user_new"), _none, 200),
    "user_edit": ("get", lambda o: reverse("accounts:user_edit", args=[o.target.pk]), _none, 200),
    "teams": ("get", lambda o: reverse("accounts:teams"), _none, 200),
    "team_edit": ("get", lambda o: reverse("accounts:team_edit", args=[o.team.pk]), _none, 200),
    "roles": ("get", lambda o: reverse("accounts:roles"), _none, 200),
    "custom_fields": ("get", lambda o: reverse("people:custom_fields"), _none, 200),
    "custom_field_new": ("get", lambda o: reverse("people:custom_field_new"), _none, 200),
    "custom_field_edit": (
        "get",
        lambda o: reverse("people:custom_field_edit", args=[o.field.pk]),
        _none,
        200,
    ),
    "custom_field_delete": (
        "get",
        lambda o: reverse("people:custom_field_delete", args=[o.field.pk]),
        _none,
        200,
    ),
    "tokens": ("get", lambda o: reverse("accounts:tokens"), _none, 200),
    "token_new": ("get", lambda o: reverse("accounts:token_new"), _none, 200),
    "POST user_new": (
        "post",
        lambda o: reverse("accounts:user_new"),
        lambda o: {"username": "newbie", "role": "marketer", "password": "", "send_reset": ""},
        302,
    ),
    "POST user_edit": (
        "post",
        lambda o: reverse("accounts:user_edit", args=[o.target.pk]),
        lambda o: {"first_name": "Solveig", "email": "sol@example.com", "role": "manager"},
        302,
    ),
    "POST user_send_reset": (
        "post",
        lambda o: reverse("accounts:user_send_reset", args=[o.target.pk]),
        _none,
        302,
    ),
    "POST teams": ("post", lambda o: reverse("accounts:teams"), lambda o: {"name": "South"}, 302),
    "POST team_edit": (
        "post",
        lambda o: reverse("accounts:team_edit", args=[o.team.pk]),
        lambda o: {"name": "North-East"},
        302,
    ),
    "POST roles": (
        "post",
        lambda o: reverse("accounts:roles"),
        lambda o: {"user": o.target.pk, "role": "marketer"},
        302,
    ),
    "POST custom_field_new": (
        "post",
        lambda o: reverse("people:custom_field_new"),
        lambda o: {"entity": "company", "label": "Tier", "field_type": "choice", "choices": "A\nB"},
        302,
    ),
    "POST custom_field_edit": (
        "post",
        lambda o: reverse("people:custom_field_edit", args=[o.field.pk]),
        lambda o: {"label": "Yearly budget", "key": "budget", "field_type": "number"},
        302,
    ),
    "POST custom_field_delete": (
        "post",
        lambda o: reverse("people:custom_field_delete", args=[o.field.pk]),
        _none,
        302,
    ),
    "POST token_new": (
        "post",
        lambda o: reverse("accounts:token_new"),
        lambda o: {"user": o.target.pk, "name": "CI", "scope": "read_write"},
        200,
    ),
    "POST token_revoke": (
        "post",
        lambda o: reverse("accounts:token_revoke", args=[o.token.pk]),
        _none,
        302,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("role", ROLES)
def test_only_admins_reach_admin_pages_and_actions(
    client, users_by_role, admin_objects, mailoutbox, role, case
):
    method, url_for, data_for, admin_status = CASES[case]
    url = url_for(admin_objects)
    if role != "anonymous":
        client.force_login(users_by_role[role])
    audit_before = AuditEvent.objects.count()

    response = getattr(client, method)(url, data_for(admin_objects))

    if role == "admin":
        assert response.status_code == admin_status
        if method == "post":
            assert AuditEvent.objects.count() > audit_before, "an admin's change is audited"
    elif role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
        assert AuditEvent.objects.count() == audit_before
    else:
        assert response.status_code == 403
        assert AuditEvent.objects.count() == audit_before, "a refused request changes nothing"
        assert len(mailoutbox) == 0


def test_admin_link_shows_in_navigation_only_for_admins(client, admin, manager):
    client.force_login(manager)
    assert reverse("accounts:users") not in client.get(reverse("reports:funnel")).text
    client.force_login(admin)
    assert reverse("accounts:users") in client.get(reverse("reports:funnel")).text

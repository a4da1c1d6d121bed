"""Every notifications endpoint and page × every kind of caller, with the status each must get.

The rules: any signed-in user has their own notifications, whatever their role; nobody
(an admin neither) sees or changes another user's: 404, not 403, so ids say nothing. A
read-only token lists and counts but never marks read (403). An anonymous API caller gets
401; a page sends them to log in (the bell's fragment answers 204, see views.bell). A
refused request changes nothing.
"""

from __future__ import annotations

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.notifications import services
from tandem.notifications.models import EmailPreference, Notification

CALLERS = ["admin", "manager", "marketer", "salesperson", "read_only_token", "anonymous"]

# name: (method, path, body, writes, status for one's own)
ENDPOINTS = {
    "list": ("get", "/notifications", None, False, 200),
    "list unread": ("get", "/notifications?unread=true", None, False, 200),
    "unread count": ("get", "/notifications/unread-count", None, False, 200),
    "read all": ("post", "/notifications/read-all", None, True, 200),
    "read mine": ("post", "/notifications/{mine}/read", None, True, 200),
    "read another's": ("post", "/notifications/{theirs}/read", None, True, 404),
}


def rows(caller_user, other) -> dict[str, int]:
    """One unread notification for the caller (if any) and one for somebody else."""
    ids = {}
    if caller_user is not None:
        services.notify([caller_user], kind="handoff", title="Mine", key="m", url="/people/")
        ids["mine"] = Notification.objects.get(user=caller_user).pk
    else:
        ids["mine"] = 0
    services.notify([other], kind="handoff", title="Theirs", key="t", url="/people/")
    ids["theirs"] = Notification.objects.get(user=other).pk
    return ids


def acting(caller, users_by_role):
    if caller == "anonymous":
        return None
    if caller == "read_only_token":
        return users_by_role["salesperson"]
    return users_by_role[caller]


def expected_api_status(caller: str, name: str) -> int:
    _, _, _, writes, ok = ENDPOINTS[name]
    if caller == "anonymous":
        return 401
    if ok == 404:
        return 404  # another user's: not found, before any other check
    if writes and caller == "read_only_token":
        return 403
    return ok


def state() -> list[tuple]:
    return sorted(Notification.objects.values_list("pk", "read_at"))


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_api_permission_matrix(client, system, users_by_role, caller, endpoint):
    method, path, body, _, _ = ENDPOINTS[endpoint]
    user = acting(caller, users_by_role)
    ids = rows(user, users_by_role["other_salesperson"])
    headers = {}
    if user is not None:
        scope = TokenScope.READ if caller == "read_only_token" else TokenScope.READ_WRITE
        _, raw = create_token(actor=system, user=user, name="matrix", scope=scope)
        headers["Authorization"] = f"Bearer {raw}"
    before, audit_before = state(), AuditEvent.objects.count()
    response = getattr(client, method)(
        "/api/v1" + path.format(**ids), body, content_type="application/json", headers=headers
    )
    assert response.status_code == expected_api_status(caller, endpoint), response.content
    if response.status_code >= 400:
        assert state() == before
        assert AuditEvent.objects.count() == audit_before
    theirs = Notification.objects.get(pk=ids["theirs"])
    assert theirs.read_at is None  # nobody else's call ever reads it


# name: (method, path, data, status for one's own)
PAGES = {
    "list": ("get", "/notifications/", None, 200),
    "bell": ("get", "/notifications/bell/", None, 200),
    "open mine": ("get", "/notifications/{mine}/", None, 302),
    "open another's": ("get", "/notifications/{theirs}/", None, 404),
    "read mine": ("post", "/notifications/{mine}/read/", None, 302),
    "read another's": ("post", "/notifications/{theirs}/read/", None, 404),
    "read all": ("post", "/notifications/read-all/", None, 302),
    "email settings": ("get", "/notifications/settings/", None, 200),
    "save email settings": ("post", "/notifications/settings/", {"kinds": ["handoff"]}, 302),
}


@pytest.mark.parametrize("caller", [c for c in CALLERS if c != "read_only_token"])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_permission_matrix(client, users_by_role, caller, page):
    method, path, data, ok = PAGES[page]
    user = acting(caller, users_by_role)
    ids = rows(user, users_by_role["other_salesperson"])
    if user is not None:
        client.force_login(user)
    before = state()
    response = getattr(client, method)(path.format(**ids), data)
    if caller == "anonymous":
        if page == "bell":
            assert response.status_code == 204
        else:
            assert response.status_code == 302 and "/login" in response["Location"]
        assert state() == before
        assert not EmailPreference.objects.exists()
        return
    assert response.status_code == ok
    if ok == 404:
        assert state() == before
    assert Notification.objects.get(pk=ids["theirs"]).read_at is None

"""Who may call the API: bearer tokens, signed-in sessions with CSRF, nobody else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tandem.accounts.models import ApiToken, TokenScope
from tandem.accounts.services import create_token, revoke_token, update_user
from tandem.people.models import Person


@pytest.fixture
def token(system, marketer):
    return create_token(actor=system, user=marketer, name="integration")


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/people"), ("post", "/api/v1/people"), ("get", "/api/v1/me")],
)
def test_anonymous_calls_get_401_with_a_json_body(client, db, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert "Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer tdm_not-a-real-token", "Bearer ", "Basic dXNlcjpwdw==", "tdm_missing_scheme"],
)
def test_a_wrong_authorization_header_is_401(client, token, header):
    response = client.get("/api/v1/people", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_token_acts_as_its_user_and_notes_its_last_use(client, token, marketer):
    api_token, raw = token
    assert api_token.last_used_at is None
    response = client.get("/api/v1/me", headers=bearer(raw))
    assert response.status_code == 200
    assert response.json()["username"] == marketer.username
    assert response.json()["token"]["name"] == "integration"
    api_token.refresh_from_db()
    assert api_token.last_used_at is not None


def test_a_revoked_token_is_refused(client, token, system):
    api_token, raw = token
    revoke_token(actor=system, token=api_token)
    assert client.get("/api/v1/people", headers=bearer(raw)).status_code == 401


def test_a_deactivated_users_token_is_refused(client, token, system, marketer):
    _, raw = token
    update_user(actor=system, user=marketer, data={"is_active": False})
    assert client.get("/api/v1/people", headers=bearer(raw)).status_code == 401


def test_a_read_only_token_reads_but_never_writes(client, system, admin):
    _, raw = create_token(actor=system, user=admin, name="reports", scope=TokenScope.READ)
    assert client.get("/api/v1/people", headers=bearer(raw)).status_code == 200
    response = client.post(
        "/api/v1/people", {"last_name": "X"}, content_type="application/json", headers=bearer(raw)
    )
    assert response.status_code == 403
    assert not Person.objects.exists()


def test_a_signed_in_session_reads_without_a_token(db, manager):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    response = browser.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == "max" and response.json()["token"] is None


def test_a_session_write_needs_the_csrf_token(db, manager):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    refused = browser.post("/api/v1/people", {"last_name": "X"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not Person.objects.exists()

    browser.get("/api/docs")  # the docs page sets the CSRF cookie, as for "try it out"
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/v1/people",
        {"last_name": "X"},
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert accepted.status_code == 201, accepted.content


def test_a_bearer_token_needs_no_csrf_token(db, token):
    _, raw = token
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/people", {"last_name": "X"}, content_type="application/json", headers=bearer(raw)
    )
    assert response.status_code == 201


def test_docs_page_and_openapi_schema_are_served(client, db):
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    assert b"/api/v1/openapi.json" in docs.content
    schema = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/people", "/api/v1/people/{person_id}/stage", "/api/v1/companies"):
        assert path in schema["paths"]
    assert "BearerToken" in schema["components"]["securitySchemes"]


def test_the_last_use_is_noted_at_most_once_a_minute(client, token):
    api_token, raw = token
    minute_ago = timezone.now() - dt.timedelta(seconds=30)
    ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=minute_ago)
    client.get("/api/v1/people", headers=bearer(raw))
    api_token.refresh_from_db()
    assert api_token.last_used_at == minute_ago

"""API tokens: made in the UI or the CLI, shown once, stored hashed, revocable."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from tandem.accounts.models import ApiToken
from tandem.accounts.services import authenticate_token


def _token_in_any_table(raw: str) -> bool:
    """Whether the plain token appears in any text column of the database."""
    table = ApiToken._meta.db_table
    with connection.cursor() as cursor:
        for column in ("name", "prefix", "digest"):
            cursor.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} LIKE %s", [f"%{raw}%"])  # noqa: S608
            if cursor.fetchone()[0]:
                return True
    return False


def test_admin_makes_a_token_shown_once_and_stored_hashed(client, admin, salesperson):
    client.force_login(admin)
    response = client.post(
        reverse("accounts:token_new"), {"user": salesperson.pk, "name": "Website", "scope": "read"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    raw = response.context["raw"]
    assert f'<p class="secret" id="new-token" aria-label="The new token">{raw}</p>' in response.text

    token = ApiToken.objects.get()
    assert (token.user, token.name, token.scope, token.created_by) == (
        salesperson,
        "Website",
        "read",
        admin,
    )
    assert token.digest != raw and not _token_in_any_table(raw)
    assert authenticate_token(raw) == token

    for url in (reverse("accounts:tokens"), reverse("accounts:user_edit", args=[salesperson.pk])):
        page = client.get(url).text
        assert raw not in page
        assert token.prefix in page


def test_admin_revokes_a_token_in_the_ui_and_it_stops_working(client, admin, salesperson):
    client.force_login(admin)
    raw = client.post(
        reverse("accounts:token_new"),
        {"user": salesperson.pk, "name": "Export", "scope": "read_write"},
    ).context["raw"]
    token = ApiToken.objects.get()

    assert client.get(reverse("accounts:token_revoke", args=[token.pk])).status_code == 405
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))

    assert response["Location"] == reverse("accounts:tokens")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert authenticate_token(raw) is None
    assert "Revoked" in client.get(reverse("accounts:tokens")).text


def test_token_form_errors_show_next_to_the_field(client, admin):
    client.force_login(admin)
    response = client.post(reverse("accounts:token_new"), {"user": "", "name": "", "scope": "all"})
    assert response.status_code == 400
    for name in ("user", "name", "scope"):
        assert f'id="id_{name}_error"' in response.text
    assert ApiToken.objects.count() == 0


def test_cli_creates_a_token_printing_only_the_token(salesperson):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "token",
        "create",
        "--user",
        "sam",
        "--name",
        "Nightly",
        "--scope",
        "read",
        stdout=out,
        stderr=err,
    )
    raw = out.getvalue().strip()
    assert "\n" not in raw and raw.startswith("tdm_")
    token = authenticate_token(raw)
    assert token is not None
    assert (token.user, token.name, token.scope, token.created_by) == (
        salesperson,
        "Nightly",
        "read",
        None,
    )
    assert not _token_in_any_table(raw)
    assert "not shown again" in err.getvalue()


def test_cli_lists_tokens_without_their_values_and_revokes_by_id(salesperson):
    out = io.StringIO()
    call_command("token", "create", "--user", "sam", stdout=out, stderr=io.StringIO())
    raw = out.getvalue().strip()
    token = ApiToken.objects.get()

    listing = io.StringIO()
    call_command("token", "list", stdout=listing)
    assert token.prefix in listing.getvalue() and "sam" in listing.getvalue()
    assert raw not in listing.getvalue()

    revoked = io.StringIO()
    call_command("token", "revoke", str(token.pk), stdout=revoked)
    assert "Revoked token" in revoked.getvalue()
    assert authenticate_token(raw) is None
    again = io.StringIO()
    call_command("token", "revoke", str(token.pk), stdout=again)
    assert "already revoked" in again.getvalue()


def test_cli_refuses_unknown_users_and_tokens(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("token", "create", "--user", "ghost", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No token with id 999"):
        call_command("token", "revoke", "999", stdout=io.StringIO())


def test_cli_refuses_a_token_for_a_deactivated_user(salesperson):
    salesperson.is_active = False
    salesperson.save()
    with pytest.raises(CommandError, match="deactivated"):
        call_command("token", "create", "--user", "sam", stdout=io.StringIO())

"""Logging in and out, the login rate limit, and password reset by email."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from tandem.accounts.models import User

# Rate windows are fixed 5-minute slots on the clock; freezing time keeps a test
# from straddling two windows.
FROZEN = dt.datetime(2025, 3, 3, 10, 0, 5, tzinfo=dt.UTC)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(FROZEN, tick=False)


def login(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_login_with_the_right_password_opens_a_session(client, salesperson):
    response = login(client, "sam", "pw-sam")
    assert response.status_code == 302
    assert client.get(reverse("reports:funnel")).status_code == 200


def test_login_with_a_wrong_password_says_so_and_keeps_the_user_name(client, salesperson):
    response = login(client, "sam", "nope")
    assert response.status_code == 200
    assert "correct username and password" in response.text
    assert 'value="sam"' in response.text


def test_logout_is_a_post_that_ends_the_session(client, salesperson):
    client.force_login(salesperson)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("reports:funnel")).status_code == 302


def test_pages_send_anonymous_visitors_to_login(client, db):
    response = client.get(reverse("reports:funnel"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_failed_logins_over_the_limit_get_429_even_with_the_right_password(
    client, salesperson, settings, frozen
):
    settings.TANDEM_LOGIN_RATE = 3
    for _ in range(3):
        assert login(client, "sam", "wrong").status_code == 200

    response = login(client, "sam", "pw-sam")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many failed log-in attempts" in response.text
    assert "_auth_user_id" not in client.session


def test_login_limit_per_user_name_holds_across_addresses(client, salesperson, settings, frozen):
    settings.TANDEM_LOGIN_RATE = 3
    for i in range(3):
        login(client, "SAM ", "wrong", ip=f"10.0.1.{i}")
    assert login(client, "sam", "pw-sam", ip="10.0.2.1").status_code == 429


def test_login_limit_per_address_holds_across_user_names(
    client, salesperson, marketer, settings, frozen
):
    settings.TANDEM_LOGIN_RATE = 3
    for name in ("a", "b", "c"):
        login(client, name, "wrong", ip="10.9.9.9")
    assert login(client, "mia", "pw-mia", ip="10.9.9.9").status_code == 429
    assert login(client, "mia", "pw-mia", ip="10.9.9.10").status_code == 302


def test_login_limit_lifts_in_the_next_window(client, salesperson, settings, time_machine):
    settings.TANDEM_LOGIN_RATE = 2
    time_machine.move_to(FROZEN, tick=False)
    login(client, "sam", "wrong")
    login(client, "sam", "wrong")
    assert login(client, "sam", "pw-sam").status_code == 429
    time_machine.move_to(FROZEN + dt.timedelta(minutes=5), tick=False)
    assert login(client, "sam", "pw-sam").status_code == 302


def test_a_successful_login_resets_the_user_name_count(client, salesperson, settings, frozen):
    settings.TANDEM_LOGIN_RATE = 3
    login(client, "sam", "wrong", ip="10.0.0.1")
    login(client, "sam", "wrong", ip="10.0.0.2")
    assert login(client, "sam", "pw-sam", ip="10.0.0.3").status_code == 302
    client.post(reverse("logout"))
    login(client, "sam", "wrong", ip="10.0.0.4")
    login(client, "sam", "wrong", ip="10.0.0.5")
    assert login(client, "sam", "pw-sam", ip="10.0.0.6").status_code == 302


def _reset_link(body: str) -> str:
    match = re.search(r"https?://[^/\s]+(/password-reset/[^\s]+/)", body)
    assert match, body
    return match.group(1)


def test_password_reset_email_link_sets_a_new_password(client, salesperson, mailoutbox):
    salesperson.email = "sam@example.com"
    salesperson.save()

    response = client.post(reverse("password_reset"), {"email": "Sam@Example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["sam@example.com"]
    assert "sam" in mailoutbox[0].body

    link = _reset_link(mailoutbox[0].body)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session marker
    page = client.get(form_url)
    assert page.status_code == 200
    assert 'name="new_password1"' in page.text
    done = client.post(
        form_url, {"new_password1": "tandem-rides-2", "new_password2": "tandem-rides-2"}
    )
    assert done["Location"] == reverse("password_reset_complete")

    assert login(client, "sam", "tandem-rides-2").status_code == 302
    assert "no longer works" in client.get(link, follow=True).text  # used once


def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(
    client, db, mailoutbox
):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert mailoutbox == []


def test_password_reset_shows_the_error_next_to_a_bad_email(client, db):
    response = client.post(reverse("password_reset"), {"email": "not an email"})
    assert response.status_code == 200
    assert 'id="id_email_error"' in response.text
    assert 'aria-describedby="id_email_error"' in response.text
    assert 'value="not an email"' in response.text


def test_password_reset_lifts_a_login_lock(client, salesperson, mailoutbox, settings, frozen):
    settings.TANDEM_LOGIN_RATE = 2
    salesperson.email = "sam@example.com"
    salesperson.save()
    login(client, "sam", "wrong", ip="10.0.0.1")
    login(client, "sam", "wrong", ip="10.0.0.2")
    assert login(client, "sam", "pw-sam", ip="10.0.0.3").status_code == 429

    client.post(reverse("password_reset"), {"email": "sam@example.com"}, REMOTE_ADDR="10.0.0.3")
    form_url = client.get(_reset_link(mailoutbox[0].body))["Location"]
    client.post(form_url, {"new_password1": "fresh-start-77", "new_password2": "fresh-start-77"})

    assert login(client, "sam", "fresh-start-77", ip="10.0.0.3").status_code == 302


def test_password_reset_requests_are_rate_limited_per_address(client, db, settings, frozen):
    settings.TANDEM_LOGIN_RATE = 2
    for _ in range(2):
        client.post(reverse("password_reset"), {"email": "x@example.com"})
    response = client.post(reverse("password_reset"), {"email": "x@example.com"})
    assert response.status_code == 429
    assert "Retry-After" in response


def test_an_inactive_user_cannot_log_in(client, salesperson):
    User.objects.filter(pk=salesperson.pk).update(is_active=False)
    assert login(client, "sam", "pw-sam").status_code == 200

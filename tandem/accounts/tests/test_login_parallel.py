"""The login limit holds under parallel tries: real HTTP requests to the live server,
each on its own connection and thread, all sent at once."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tandem.accounts.models import Role, User

TRIES = 40
LIMIT = 10


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 302 (logged in) is the answer to look at, not the page after it


def _session(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    """A browser's session: the login page read, its CSRF cookie and token kept."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirects)
    page = opener.open(f"{base}/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    return opener, token.group(1)


def _try(opener: urllib.request.OpenerDirector, base: str, token: str, password: str) -> int:
    body = urllib.parse.urlencode(
        {"username": "pat", "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (the live server's http:// address)
        f"{base}/login/", data=body, headers={"Referer": f"{base}/login/"}
    )
    for _ in range(20):
        try:
            return opener.open(request, timeout=60).status
        except urllib.error.HTTPError as err:
            return err.code
        except (ConnectionResetError, urllib.error.URLError):
            # The test server's listen queue is short: a connection it turned away
            # never reached the view, so sending it again is still one try.
            continue
    raise AssertionError("the live server kept refusing the connection")


@pytest.mark.django_db(transaction=True)
def test_forty_parallel_wrong_passwords_get_at_most_the_limit_of_checks(
    live_server, settings, time_machine
):
    # Limits count in fixed 5-minute windows on the clock: start just after one opens
    # (the clock keeps running, for the server's threads too).
    time_machine.move_to(dt.datetime(2026, 3, 3, 10, 0, 5, tzinfo=dt.UTC), tick=True)
    settings.TANDEM_LOGIN_RATE = LIMIT
    # The production hasher: a password check takes as long as it does in real life.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    User.objects.create_user(username="pat", password="right-password", role=Role.SALESPERSON)
    base = live_server.url
    sessions = [_session(base) for _ in range(TRIES)]
    start = threading.Barrier(TRIES)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(opener: urllib.request.OpenerDirector, token: str) -> None:
        start.wait()
        status = _try(opener, base, token, "wrong-password")
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt, args=session) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    checked = statuses.count(200)  # the form again with "wrong password": a password check
    assert sorted(set(statuses)) == [200, 429]
    assert checked == LIMIT, f"{checked} password checks against a limit of {LIMIT}"
    # And the right password now waits too: the name is locked for the window.
    opener, token = _session(base)
    assert _try(opener, base, token, "right-password") == 429


@pytest.mark.django_db(transaction=True)
def test_a_good_login_is_not_held_back_by_the_tries_before_it(live_server, settings, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 3, 10, 0, 5, tzinfo=dt.UTC), tick=True)
    settings.TANDEM_LOGIN_RATE = 3
    User.objects.create_user(username="pat", password="right-password", role=Role.SALESPERSON)
    base = live_server.url
    opener, token = _session(base)
    assert [_try(opener, base, token, "wrong-password") for _ in range(2)] == [200, 200]
    assert _try(opener, base, token, "right-password") == 302

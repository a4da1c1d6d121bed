"""The public capture endpoints skip the session, login, CSRF and messages middleware,
and keep the headers and answers every page has."""

from __future__ import annotations

import time

from django.test import Client

from tandem.capture import webforms


def test_a_post_from_another_site_sets_no_cookie_and_keeps_the_security_headers(guide):
    visitor = Client(enforce_csrf_checks=True)
    response = visitor.post(
        f"/f/{guide.key}",
        {
            "email": "cookie.less@example.com",
            "first_name": "Cookie",
            "last_name": "Less",
            webforms.TIMESTAMP_FIELD: webforms.fill_token(guide.key, shown_at=time.time() - 60),
        },
        HTTP_ORIGIN="http://shop.example.net",
    )
    assert response.status_code == 303
    assert not response.cookies  # no session or CSRF cookie for a visitor of another site
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware ran


def test_public_pages_that_may_not_be_framed_still_say_so(guide, client):
    assert client.get(f"/f/{guide.key}.json").headers["X-Frame-Options"] == "DENY"
    assert client.get("/u/not-a-token").headers["X-Frame-Options"] == "DENY"
    assert "X-Frame-Options" not in client.get(f"/f/{guide.key}").headers  # the embed


def test_a_signed_in_marketer_sees_the_hosted_form_as_visitors_do(guide, marketer):
    browser = Client()
    browser.force_login(marketer)
    response = browser.get(f"/f/{guide.key}")
    assert response.status_code == 200
    assert 'name="email"' in response.text
    assert browser.get("/forms/").status_code == 200  # the rest of the app keeps its session


def test_an_unknown_public_path_is_the_usual_404_page(client):
    response = client.get("/f/no/such/page")
    assert response.status_code == 404
    assert client.get("/u/").status_code == 404

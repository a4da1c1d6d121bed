"""The Content-Security-Policy header: on every HTML page, per form on the public pages."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.capture import webforms


@pytest.fixture
def form(system):
    return webforms.create_form(
        actor=system, data={"name": "Guide", "key": "guide", "sites": ["www.example.com"]}
    )


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return dict([*part.strip().split(" ", 1), ""][:2] for part in policy.split(";"))


def test_app_pages_allow_scripts_from_self_only_and_no_framing(client, admin):
    client.force_login(admin)
    policy = directives(client.get("/people/"))
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["object-src"] == "'none'"


def test_the_login_and_error_pages_carry_it_too(client, db):
    assert "script-src 'self'" in client.get("/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in client.get("/no-such-page/")["Content-Security-Policy"]


def test_a_public_form_may_be_framed_by_its_own_sites_only(form):
    public = Client()
    for path in ("/f/guide", "/f/guide/thanks"):
        policy = directives(public.get(path))
        assert policy["script-src"] == "'self'"
        assert policy["frame-ancestors"] == "'self' www.example.com"
        assert "form-action" not in policy  # the post may go on to the form's thank-you address


def test_a_form_that_lists_no_sites_may_be_framed_anywhere(system):
    webforms.create_form(actor=system, data={"name": "Open", "key": "open"})
    assert directives(Client().get("/f/open"))["frame-ancestors"] == "*"


def test_a_refused_post_shown_in_the_frame_keeps_the_forms_policy(form):
    response = Client().post("/f/guide", {"email": "not an email"})
    assert response.status_code == 422
    assert directives(response)["frame-ancestors"] == "'self' www.example.com"

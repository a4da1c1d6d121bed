"""Bad input at the public door (issue 17, point 5): redirects, control characters,
deep JSON and text no database can store. Each answer is a 4xx naming the field with
nothing stored, or a capture that keeps the lead; never a 500, never "ok" then lost."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from tandem.capture import webforms
from tandem.capture.models import InboxSubmission, WebForm
from tandem.people.models import Person


@pytest.fixture
def public() -> Client:
    return Client(enforce_csrf_checks=True, raise_request_exception=False)


@pytest.fixture
def signup(system) -> WebForm:
    return webforms.create_form(
        actor=system,
        data={
            "name": "Sign-up",
            "key": "signup",
            "fields": [{"name": "first_name"}, {"name": "email", "required": True}],
            "sites": ["www.example.com", "*.shop.example.net"],
        },
    )


def shown_long_ago(form: WebForm) -> str:
    return webforms.fill_token(form.key, shown_at=time.time() - 60)


def post(client: Client, form: WebForm, data: dict):
    return client.post(f"/f/{form.key}", {webforms.TIMESTAMP_FIELD: shown_long_ago(form), **data})


THANKS = "/f/signup/thanks"


@pytest.mark.parametrize(
    "ret_url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "https://www.example.com.evil.example/",
        "https://www.example.com@evil.example/",
        "https://shop.example.net/",  # the wildcard covers subdomains only
        "javascript:alert(1)",
        "/relative/path",
    ],
)
def test_a_return_url_off_the_forms_sites_leads_to_the_thanks_page(public, signup, ret_url):
    response = post(public, signup, {"email": "a@example.org", "retURL": ret_url})

    assert response.status_code == 303
    assert response["Location"] == THANKS
    assert Person.objects.filter(email="a@example.org").exists()


@pytest.mark.parametrize(
    "ret_url",
    ["https://www.example.com/merci?x=1", "http://WWW.Example.com/", "https://a.shop.example.net/"],
)
def test_a_return_url_on_one_of_the_forms_sites_is_followed(public, signup, ret_url):
    response = post(public, signup, {"email": "b@example.org", "retURL": ret_url})

    assert response.status_code == 303
    assert response["Location"] == ret_url


def test_the_json_twin_offers_no_redirect_off_the_forms_sites(public, signup):
    response = public.post(
        "/f/signup.json",
        json.dumps({"email": "c@example.org", "retURL": "https://evil.example/"}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["redirect"] is None


@pytest.mark.parametrize(
    "ret_url",
    [
        "https://www.example.com/a\r\nSet-Cookie: x=1",
        "https://www.example.com/a\nb",
        "https://www.example.com/\tb",
    ],
)
def test_a_line_break_in_the_return_url_keeps_the_lead_and_thanks_the_visitor(
    public, signup, ret_url
):
    response = post(public, signup, {"email": "d@example.org", "retURL": ret_url})

    assert response.status_code == 303
    assert response["Location"] == THANKS
    assert "Set-Cookie" not in response.headers
    assert Person.objects.filter(email="d@example.org").exists()


def test_sites_that_are_not_host_names_are_refused_naming_the_field(system):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as err:
        webforms.create_form(
            actor=system, data={"name": "Bad", "key": "bad", "sites": ["https://x.example/path"]}
        )
    assert "sites" in err.value.message_dict


def test_the_form_editor_keeps_the_sites(client, marketer, signup):
    client.force_login(marketer)
    page = client.get(f"/forms/{signup.pk}/edit/")
    assert "www.example.com\n*.shop.example.net" in page.text


# --- text no database stores, and JSON nested too deeply -----------------------------------

DEEP = "[" * 20_000 + "]" * 20_000  # 40 KB: under the body limit, deeper than recursion
DEEP_IN_A_FIELD = '{"email": "e@example.org", "first_name": ' + DEEP + "}"


@pytest.mark.parametrize("body", [DEEP, DEEP_IN_A_FIELD])
def test_deeply_nested_json_to_the_public_twin_is_a_400_and_stores_nothing(public, signup, body):
    response = public.post("/f/signup.json", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert not InboxSubmission.objects.exists() and not Person.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"email": "f@example.org", "first_name": "\\ud800"}', "first_name"),
        ('{"email": "f@example.org", "utm_source": "\\udfff"}', "utm_source"),
        ('{"email": "f@example.org", "x\\ud800": "1"}', "x?"),
    ],
)
def test_unstorable_text_in_the_public_json_is_a_422_naming_the_field(public, signup, body, field):
    response = public.post("/f/signup.json", body, content_type="application/json")

    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert not InboxSubmission.objects.exists() and not Person.objects.exists()


def test_a_lone_surrogate_with_a_worker_draining_is_refused_not_lost(public, signup, settings):
    """With a real queue (not inline), a post told "ok" must be capturable by the worker."""
    from tandem.capture import inbox

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    response = public.post(
        "/f/signup.json",
        '{"email": "g@example.org", "first_name": "\\ud83d"}',
        content_type="application/json",
    )
    if response.status_code == 200:  # what happened before: "ok", then the capture failed
        assert inbox.drain().failed == 0
    assert response.status_code == 422
    assert not InboxSubmission.objects.exists() and inbox.waiting_count() == 0


@pytest.mark.parametrize(
    "body",
    [
        "email=h%40example.org&first_name=a%00b",
        "email=h%40example.org&first_name=ab&a%00b=1",
        '{"email": "h@example.org", "first_name": "a\\u0000b"}',
        '{"email": "h@example.org", "first_name": "ab", "a\\u0000b": "1"}',
    ],
)
def test_nul_in_a_post_is_dropped_and_the_lead_kept(public, signup, body, settings):
    """Kept even with a real queue: PostgreSQL refuses NUL in text and JSON alike."""
    from tandem.capture import inbox

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    as_json = body.startswith("{")
    response = public.post(
        "/f/signup.json" if as_json else "/f/signup",
        body,
        content_type="application/json" if as_json else "application/x-www-form-urlencoded",
    )

    assert response.status_code == (200 if as_json else 303)
    result = inbox.drain()
    assert (result.captured, result.failed) == (1, 0)
    person = Person.objects.get(email="h@example.org")
    assert person.first_name == "ab"


def test_a_percent_encoded_lone_surrogate_in_a_plain_post_keeps_the_lead(public, signup):
    """%ED%A0%80 is not UTF-8: read as the replacement character, the lead is kept."""
    response = public.post(
        "/f/signup",
        "email=i%40example.org&first_name=A%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 303
    assert Person.objects.get(email="i@example.org").first_name.startswith("A")


# --- /capture/sync --------------------------------------------------------------------------


@pytest.fixture
def sam(salesperson) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(salesperson)
    return client


def test_deeply_nested_json_to_capture_sync_is_a_400(sam):
    response = sam.post("/capture/sync", DEEP, content_type="application/json")

    assert response.status_code == 400
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            '{"uuid": "6b1d3f4e-0c1a-4a36-9d0e-3a2c1b1e2f10", "email": "j@example.org", '
            '"first_name": "\\ud800"}',
            "first_name",
        ),
        (
            '{"uuid": "6b1d3f4e-0c1a-4a36-9d0e-3a2c1b1e2f11", "email": "j@example.org", '
            '"note": "\\udc00"}',
            "note",
        ),
    ],
)
def test_a_lone_surrogate_to_capture_sync_is_a_422_naming_the_field(sam, body, field):
    response = sam.post("/capture/sync", body, content_type="application/json")

    assert response.status_code == 422
    assert field in response.json()["errors"]
    assert not Person.objects.exists()


def test_json_posted_to_the_forms_page_address_is_told_where_json_goes(public, signup):
    """Read as a form post, a JSON body had no fields: the answer said "Email is required"
    to a developer who had sent one. Now a 415 names the form's JSON address."""
    body = json.dumps(
        {"email": "dev@example.com", webforms.TIMESTAMP_FIELD: shown_long_ago(signup)}
    )
    response = public.post("/f/signup", body, content_type="application/json")

    assert response.status_code == 415
    assert "/f/signup.json" in response.content.decode()
    assert not InboxSubmission.objects.exists() and not Person.objects.exists()
    twin = public.post("/f/signup.json", body, content_type="application/json")
    assert twin.status_code == 200 and twin.json()["ok"] is True

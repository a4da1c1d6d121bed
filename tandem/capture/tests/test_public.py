"""POST /f/<key>: plain HTML posts from any site, Web-to-Lead names, spam and abuse limits."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.test import Client
from django.urls import reverse

from tandem.campaigns.models import Touchpoint
from tandem.capture import webforms
from tandem.capture.models import Consent, WebForm
from tandem.people.models import Person

FROZEN = dt.datetime(2026, 3, 3, 10, 0, 5, tzinfo=dt.UTC)
OTHER_ORIGIN = {
    "HTTP_ORIGIN": "http://shop.example.net",
    "HTTP_REFERER": "http://shop.example.net/",
}


@pytest.fixture
def contact_form(system) -> WebForm:
    """A form asking for a phone and a message, no consent, no campaign, with a redirect."""
    return webforms.create_form(
        actor=system,
        data={
            "name": "Contact us",
            "key": "contact",
            "fields": [
                {"name": "first_name", "required": True},
                {"name": "email", "required": True},
                {"name": "phone", "required": False},
                {"name": "message", "required": False},
            ],
            "redirect_url": "https://www.example.com/thanks",
        },
    )


@pytest.fixture
def public() -> Client:
    """A browser on another site: no session, CSRF checks on as in production."""
    return Client(enforce_csrf_checks=True)


def shown_long_ago(form: WebForm) -> str:
    return webforms.fill_token(form.key, shown_at=time.time() - 60)


def lead(email: str, **extra) -> dict:
    """What the demo guide form needs: first and last name and an email."""
    return {"first_name": "Lee", "last_name": "Lead", "email": email, **extra}


def post(client: Client, form: WebForm, data: dict, **extra):
    return client.post(f"/f/{form.key}", data, **OTHER_ORIGIN, **extra)


def test_a_plain_form_post_from_another_site_captures_the_person_and_answers_303(public, guide):
    response = post(
        public,
        guide,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "Ada@Example.com",
            "company": "Analytical Engines",
            "utm_source": "linkedin",
            "utm_medium": "social",
            "utm_campaign": "spring",
            "page_url": "https://www.example.com/guide?utm_source=linkedin",
            "referrer": "https://www.linkedin.com/",
            webforms.TIMESTAMP_FIELD: shown_long_ago(guide),
        },
    )
    assert response.status_code == 303
    assert response["Location"] == reverse("capture:form_thanks", args=["demo-guide"])
    person = Person.objects.get()
    assert (person.first_name, person.email, person.company.name) == (
        "Ada",
        "ada@example.com",
        "Analytical Engines",
    )
    touchpoint = Touchpoint.objects.get(person=person)
    assert touchpoint.kind == "form_fill"
    assert touchpoint.form == guide
    assert touchpoint.campaign == guide.campaign  # the form's campaign wins over utm_campaign
    assert (touchpoint.utm_source, touchpoint.utm_medium, touchpoint.utm_campaign) == (
        "linkedin",
        "social",
        "spring",
    )
    assert touchpoint.page_url == "https://www.example.com/guide?utm_source=linkedin"
    assert touchpoint.referrer == "https://www.linkedin.com/"
    thanks = public.get(response["Location"])
    assert "Your guide is on its way" in thanks.text


def test_a_multipart_post_is_accepted_too(public, guide):
    from django.test.client import MULTIPART_CONTENT

    response = public.post(
        f"/f/{guide.key}",
        {"first_name": "Bo", "last_name": "Berg", "email": "bo@example.com"},
        content_type=MULTIPART_CONTENT,
    )
    assert response.status_code == 303
    assert Person.objects.filter(email="bo@example.com").exists()


def test_a_known_person_gets_a_second_touchpoint_not_a_second_record(public, guide):
    for typed in ("ada@example.com", "  ADA@example.COM "):
        post(public, guide, {"first_name": "Ada", "last_name": "L", "email": typed})
    assert Person.objects.count() == 1
    assert Touchpoint.objects.count() == 2


def test_the_form_redirect_url_is_where_the_visitor_goes(public, contact_form):
    response = post(public, contact_form, {"first_name": "Cy", "email": "cy@example.com"})
    assert response.status_code == 303
    assert response["Location"] == "https://www.example.com/thanks"


def test_web_to_lead_names_are_accepted_as_they_are(public, system):
    form = webforms.create_form(
        actor=system,
        data={
            "name": "Old Salesforce form",
            "key": "sf",
            "source": "Website",
            "sites": ["www.example.com"],
        },
    )
    response = post(
        public,
        form,
        {
            "oid": "00D000000000001",
            "retURL": "https://www.example.com/merci",
            "first_name": "Dana",
            "last_name": "Scully",
            "email": "dana@example.org",
            "company": "FBI",
            "title": "Agent",
            "phone": "+1 202 555 0143",
            "street": "935 Pennsylvania Ave",
            "city": "Washington",
            "state": "DC",
            "zip": "20535",
            "country": "United States",
            "lead_source": "Trade magazine",
            "description": "Please call me about the enterprise plan.",
            "industry": "Government",
            "URL": "https://www.fbi.gov",
        },
    )
    assert response.status_code == 303
    assert response["Location"] == "https://www.example.com/merci"
    person = Person.objects.get()
    assert (person.region, person.postcode, person.country, person.source) == (
        "DC",
        "20535",
        "US",
        "Trade magazine",
    )
    assert (person.title, person.city, person.phone) == ("Agent", "Washington", "+12025550143")
    note = Touchpoint.objects.get().note
    assert note.startswith("Please call me about the enterprise plan.")
    assert "Industry: Government" in note and "Website: https://www.fbi.gov" in note
    assert "oid" not in note


def test_an_unknown_country_is_kept_in_the_note_and_the_lead_is_not_lost(public, guide):
    post(
        public,
        guide,
        {"first_name": "Eve", "last_name": "E", "email": "eve@example.com", "country": "Atlantis"},
    )
    person = Person.objects.get()
    assert person.country == ""
    assert "Country: Atlantis" in Touchpoint.objects.get().note


@pytest.mark.parametrize(
    ("typed", "code"), [("de", "DE"), ("Germany", "DE"), ("Deutschland", "DE"), ("UK", "GB")]
)
def test_countries_are_read_as_codes_or_common_names(typed, code):
    assert webforms.country_code(typed) == code


def test_a_return_url_that_is_not_http_is_ignored(public, guide):
    response = post(
        public,
        guide,
        {
            "first_name": "F",
            "last_name": "G",
            "email": "f@example.com",
            "retURL": "javascript:alert(1)",
        },
    )
    assert response["Location"] == reverse("capture:form_thanks", args=["demo-guide"])


def test_invalid_input_shows_the_form_again_with_errors_by_the_fields_and_values_kept(
    public, guide
):
    response = post(
        public,
        guide,
        {
            "first_name": "Gus",
            "last_name": "",
            "email": "not-an-email",
            "utm_source": "newsletter",
            "retURL": "https://www.example.com/after",
            webforms.TIMESTAMP_FIELD: shown_long_ago(guide),
        },
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="f-email-error"' in html and "not a valid email address" in html
    assert 'id="f-last_name-error"' in html and "Last name is required." in html
    assert 'aria-describedby="f-email-error"' in html
    assert 'value="Gus"' in html and 'value="not-an-email"' in html
    assert 'name="utm_source" value="newsletter"' in html  # sent again with the fix
    assert 'name="retURL" value="https://www.example.com/after"' in html
    assert Person.objects.count() == 0 and Touchpoint.objects.count() == 0


def test_a_bad_phone_is_an_error_when_the_form_asks_for_it(public, contact_form):
    response = post(
        public, contact_form, {"first_name": "H", "email": "h@example.com", "phone": "12"}
    )
    assert response.status_code == 422
    assert 'id="f-phone-error"' in response.text
    assert Person.objects.count() == 0


def test_a_bad_phone_posted_web_to_lead_style_goes_to_the_note(public, guide):
    response = post(
        public,
        guide,
        {"first_name": "I", "last_name": "J", "email": "i@example.com", "phone": "12"},
    )
    assert response.status_code == 303
    assert "Phone: 12" in Touchpoint.objects.get().note


def test_the_hosted_form_page_renders_the_fields_honeypot_and_signed_time(client, guide):
    response = client.get(f"/f/{guide.key}?utm_source=qr")
    assert response.status_code == 200
    html = response.text
    for name in ("first_name", "last_name", "email", "company", "title", "consent_newsletter"):
        assert f'name="{name}"' in html
    assert f'name="{webforms.HONEYPOT_FIELD}"' in html
    assert f'name="{webforms.TIMESTAMP_FIELD}"' in html
    assert 'name="utm_source" value="qr"' in html
    assert "X-Frame-Options" not in response.headers  # may be shown in an iframe


def test_a_closed_or_unknown_form_is_404_and_stores_nothing(public, guide, system):
    webforms.update_form(actor=system, form=guide, data={"is_active": False})
    assert post(public, guide, {"email": "k@example.com"}).status_code == 404
    assert public.post("/f/nope", {"email": "k@example.com"}).status_code == 404
    assert Person.objects.count() == 0


# --- spam and abuse ---------------------------------------------------------------------


def test_a_filled_honeypot_is_thanked_and_stores_nothing(public, guide):
    response = post(
        public,
        guide,
        {
            "first_name": "Bot",
            "last_name": "Bot",
            "email": "bot@example.com",
            webforms.HONEYPOT_FIELD: "http://spam.example",
        },
    )
    assert response.status_code == 303
    assert Person.objects.count() == 0 and Touchpoint.objects.count() == 0


def test_a_form_sent_back_faster_than_a_person_can_type_stores_nothing(public, guide, settings):
    settings.TANDEM_FORM_MIN_FILL_SECONDS = 3
    response = post(
        public,
        guide,
        {
            "first_name": "Fast",
            "last_name": "Bot",
            "email": "fast@example.com",
            webforms.TIMESTAMP_FIELD: webforms.fill_token(guide.key),
        },
    )
    assert response.status_code == 303
    assert Person.objects.count() == 0


@pytest.mark.parametrize("token", ["forged", "form-of-another-key"])
def test_a_forged_or_foreign_timestamp_stores_nothing(public, guide, token):
    value = (
        webforms.fill_token("other", shown_at=time.time() - 60)
        if token == "form-of-another-key"
        else "eyJrIjoiZGVtbyJ9:forged:sig"
    )
    post(
        public,
        guide,
        {
            "first_name": "X",
            "last_name": "Y",
            "email": "x@example.com",
            webforms.TIMESTAMP_FIELD: value,
        },
    )
    assert Person.objects.count() == 0


def test_a_post_without_the_timestamp_is_accepted_web_to_lead_style(public, guide):
    response = post(public, guide, {"first_name": "W", "last_name": "L", "email": "w@example.com"})
    assert response.status_code == 303
    assert Person.objects.count() == 1


def test_too_many_posts_from_one_address_get_429_with_retry_after(
    public, guide, settings, time_machine
):
    time_machine.move_to(FROZEN, tick=False)
    settings.TANDEM_FORM_RATE_PER_IP = 2
    for i in range(2):
        assert post(public, guide, lead(f"r{i}@example.com")).status_code == 303
    response = post(public, guide, lead("r9@example.com"))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert not Person.objects.filter(email="r9@example.com").exists()
    other_ip = post(public, guide, lead("r8@example.com"), REMOTE_ADDR="10.9.9.9")
    assert other_ip.status_code == 303


def test_too_many_posts_to_one_form_get_429_whatever_the_address(
    public, guide, settings, time_machine
):
    time_machine.move_to(FROZEN, tick=False)
    settings.TANDEM_FORM_RATE_PER_FORM = 2
    for i in range(2):
        post(public, guide, lead(f"s{i}@example.com"), REMOTE_ADDR=f"10.0.0.{i}")
    response = post(public, guide, lead("s9@example.com"), REMOTE_ADDR="10.0.0.99")
    assert response.status_code == 429
    assert "Retry-After" in response
    assert Person.objects.count() == 2


def test_a_busy_form_limit_counted_in_leases_still_holds_exactly(
    public, guide, settings, time_machine, monkeypatch
):
    """The form's limit, counted a lease at a time (core/ratelimit.py), on the post's own
    path (the spool on SQLite, one statement with the insert on PostgreSQL)."""
    from tandem.core import ratelimit

    time_machine.move_to(FROZEN, tick=False)
    monkeypatch.setattr(ratelimit, "LEASE_FROM", 5)
    monkeypatch.setattr(ratelimit, "LEASE_SHARE", 0.5)
    settings.TANDEM_FORM_RATE_PER_FORM = 5  # leases of 2: 2, 2, then 1 of the third fits
    answers = [
        post(public, guide, lead(f"b{i}@example.com"), REMOTE_ADDR=f"10.0.1.{i}").status_code
        for i in range(7)
    ]
    assert answers == [303] * 5 + [429] * 2
    assert Person.objects.count() == 5


def test_a_body_over_64_kb_is_refused_with_413_before_it_is_read(public, guide):
    response = post(public, guide, lead("big@example.com", description="x" * 70_000))
    assert response.status_code == 413
    assert Person.objects.count() == 0


def test_a_field_over_its_length_is_an_error_naming_it(public, guide):
    response = post(public, guide, lead("long@example.com", last_name="L" * 150))
    assert response.status_code == 422
    assert "use at most 100 characters" in response.text
    assert Person.objects.count() == 0


# --- JSON and CORS -------------------------------------------------------------------------


def test_the_json_variant_answers_a_cors_preflight(public, guide):
    response = public.options(
        f"/f/{guide.key}.json",
        HTTP_ORIGIN="http://shop.example.net",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Content-Type" in response["Access-Control-Allow-Headers"]


def test_the_json_variant_captures_and_answers_ok(public, guide):
    response = public.post(
        f"/f/{guide.key}.json",
        json.dumps({"first_name": "Jo", "last_name": "Json", "email": "jo@example.com"}),
        content_type="application/json",
        HTTP_ORIGIN="http://shop.example.net",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json()["ok"] is True
    assert response.json()["errors"] == {}
    assert Person.objects.filter(email="jo@example.com").exists()


def test_the_json_variant_names_the_fields_in_error(public, guide):
    response = public.post(
        f"/f/{guide.key}.json",
        {"first_name": "Jo", "email": "nope"},
        HTTP_ORIGIN="http://shop.example.net",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False
    assert set(body["errors"]) == {"email", "last_name"}
    assert response["Access-Control-Allow-Origin"] == "*"


def test_the_json_definition_lists_fields_consents_and_a_fresh_time(public, guide):
    body = public.get(f"/f/{guide.key}.json").json()
    assert [f["name"] for f in body["fields"]][:3] == ["first_name", "last_name", "email"]
    assert body["consents"][0]["name"] == "consent_newsletter"
    assert body[webforms.TIMESTAMP_FIELD]


# --- escaping --------------------------------------------------------------------------------

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_a_script_in_every_field_stays_inert_on_every_page(public, client, guide, marketer):
    payload = {
        name: f"{name}{XSS}"
        for name in ("first_name", "last_name", "company", "title", "utm_source", "description")
    }
    payload |= {
        "email": "xss@example.com",
        "country": f"Narnia{XSS}",
        "page_url": f"https://example.com/?q={XSS}",
        "industry": XSS,
    }
    assert post(public, guide, payload).status_code == 303
    person = Person.objects.get()
    client.force_login(marketer)
    pages = [
        client.get(reverse("people:detail", args=[person.pk])),
        client.get(reverse("capture:form_detail", args=[guide.pk])),
        client.get(reverse("campaigns:detail", args=[guide.campaign_id])),
    ]
    # And the public form re-rendered with the payload kept in its fields.
    pages.append(post(public, guide, {**payload, "email": f"bad{XSS}"}))
    for page in pages:
        assert page.status_code in (200, 422)
        assert "<script>alert" not in page.text
        assert "<img src=x" not in page.text
    assert "&lt;script&gt;alert" in pages[0].text


def test_consent_is_recorded_only_when_ticked(public, guide):
    post(public, guide, lead("n@example.com"))
    post(public, guide, lead("t@example.com", consent_newsletter="yes"))
    assert list(Consent.objects.values_list("person__email", flat=True)) == ["t@example.com"]

"""POST /api/v1/capture as an integrator uses it: leads land once, retries are safe."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.campaigns.models import Touchpoint
from tandem.campaigns.services import create_campaign
from tandem.capture.models import (
    Consent,
    ConsentEvent,
    ConsentPurpose,
    ConsentText,
    IdempotencyRecord,
)
from tandem.people.models import Person

URL = "/api/v1/capture"


def token_client(system, user, scope=TokenScope.READ_WRITE) -> Client:
    _, raw = create_token(actor=system, user=user, name="capture tests", scope=scope)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def api(system, marketer) -> Client:
    return token_client(system, marketer)


def post(client, body, key=None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(URL, body, content_type="application/json", headers=headers)


def errors(response) -> dict[str, str]:
    """{dotted location inside the body or header: message} from a 422."""
    out = {}
    for e in response.json()["detail"]:
        loc = [str(p) for p in e["loc"]]
        if loc[:2] == ["body", "payload"]:
            loc = loc[2:]
        out[".".join(loc)] = e["msg"]
    return out


def nothing_stored():
    return (
        Person.objects.count() == 0
        and Touchpoint.objects.count() == 0
        and IdempotencyRecord.objects.count() == 0
    )


LEAD = {
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": " Grace@Navy.example ",
    "company": "US Navy",
    "title": "Rear Admiral",
    "country": "US",
    "source": "partner-feed",
    "touchpoint": {
        "kind": "form_fill",
        "occurred_at": "2026-03-02T09:30:00Z",
        "campaign": "cobol-guide",
        "channel": "partner site",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "page_url": "https://partner.example/guides/cobol",
        "referrer": "https://news.example/",
        "note": "Asked for the PDF",
    },
}


@pytest.fixture
def guide(system):
    return create_campaign(actor=system, name="COBOL guide", key="cobol-guide", kind="content")


# --- capture -------------------------------------------------------------------------


def test_a_new_lead_is_created_with_its_touchpoint(api, guide):
    response = post(api, LEAD)
    assert response.status_code == 201, response.content
    body = response.json()
    person = Person.objects.get()
    assert body["created"] is True and body["proposed"] == {}
    assert body["person"]["id"] == person.pk
    assert body["person"]["email"] == "grace@navy.example"
    assert body["person"]["url"] == f"http://testserver/people/{person.pk}/"
    assert (person.first_name, person.title, person.company.name, person.source) == (
        "Grace",
        "Rear Admiral",
        "US Navy",
        "partner-feed",
    )
    tp = Touchpoint.objects.get()
    assert body["touchpoint"]["id"] == tp.pk
    assert tp.person == person and tp.kind == "form_fill" and tp.campaign == guide
    assert tp.occurred_at == dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    assert (tp.utm_source, tp.utm_medium, tp.channel) == ("newsletter", "email", "partner site")
    assert tp.page_url == "https://partner.example/guides/cobol"
    assert body["touchpoint"]["campaign"] == {
        "id": guide.pk,
        "key": "cobol-guide",
        "name": "COBOL guide",
    }


def test_a_known_email_answers_200_fills_empty_fields_and_proposes_the_rest(api, guide):
    post(api, LEAD)
    again = post(
        api,
        {
            "email": "GRACE@navy.example",
            "title": "Commodore",
            "city": "Arlington",
            "touchpoint": {"kind": "event_visit"},
        },
    )
    assert again.status_code == 200, again.content
    body = again.json()
    assert body["created"] is False
    assert body["proposed"] == {"title": "Commodore"}
    person = Person.objects.get()
    assert person.title == "Rear Admiral" and person.city == "Arlington"
    assert Touchpoint.objects.filter(person=person).count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "t" * 5000, "at most 150 characters"),
        ("country", "Narnia", "Narnia"),
    ],
)
def test_a_known_persons_values_are_checked_as_a_new_persons(api, guide, field, value, message):
    # Was stored unchecked: a database error (500) on PostgreSQL, a 5,000-character
    # title or a country "NARNIA" on SQLite.
    post(api, LEAD)
    before = Person.objects.values().get()
    again = post(api, {"email": LEAD["email"], field: value})
    assert again.status_code == 422, again.content
    assert message.lower() in errors(again)[field].lower()
    assert Person.objects.values().get() == before
    assert Touchpoint.objects.count() == 1


def test_line_breaks_in_one_line_fields_become_spaces(api):
    created = post(api, {"email": "ann@example.com", "first_name": "Ann\r\nBcc: x@evil.example"})
    assert created.status_code == 201, created.content
    post(api, {"email": "ann@example.com", "city": " New\tYork\n"})
    person = Person.objects.get()
    assert (person.first_name, person.city) == ("Ann Bcc: x@evil.example", "New York")


def test_utm_campaign_maps_to_the_campaign_and_the_kind_defaults_to_api(api, guide):
    response = post(
        api, {"email": "kim@example.com", "touchpoint": {"utm_campaign": "COBOL-Guide"}}
    )
    assert response.status_code == 201, response.content
    tp = Touchpoint.objects.get()
    assert tp.kind == "api" and tp.campaign == guide and tp.channel == "api"


def test_consents_are_recorded_with_proof(api, marketer):
    newsletter = ConsentPurpose.objects.create(key="newsletter", name="Newsletter")
    ConsentText.objects.create(purpose=newsletter, version=1, text="Send me the newsletter.")
    v2 = ConsentText.objects.create(purpose=newsletter, version=2, text="Send me news, monthly.")
    calls = ConsentPurpose.objects.create(key="calls", name="Sales calls", is_marketing=False)
    ConsentText.objects.create(purpose=calls, version=1, text="You may call me.")

    response = post(
        api,
        {
            "email": "lin@example.com",
            "consents": [
                {
                    "purpose": "newsletter",
                    "text_version": 2,
                    "granted": True,
                    "how": "Ticked the box on partner.example/webinar",
                },
                {
                    "purpose": "calls",
                    "text_version": 1,
                    "granted": False,
                    "how": "Asked on the phone",
                },
            ],
        },
        key="consent-1",
    )
    assert response.status_code == 201, response.content
    assert response.json()["consents"] == [
        {
            "purpose": "newsletter",
            "status": "granted",
            "text_version": 2,
            "method": "api",
            "how": "Ticked the box on partner.example/webinar",
        },
        {
            "purpose": "calls",
            "status": "withdrawn",
            "text_version": 1,
            "method": "api",
            "how": "Asked on the phone",
        },
    ]
    consent = Consent.objects.get(purpose=newsletter)
    assert consent.status == "granted" and consent.text == v2
    event = ConsentEvent.objects.get(consent=consent)
    assert (event.action, event.method, event.ip, event.how, event.recorded_by) == (
        "granted",
        "api",
        "127.0.0.1",
        "Ticked the box on partner.example/webinar",
        marketer,
    )


# --- Idempotency-Key -------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_same_response_and_stores_nothing_new(api, guide):
    first = post(api, LEAD, key="lead-7f3a")
    # The same body with its keys in another order is the same request.
    reordered = dict(reversed(list(LEAD.items())))
    retry = post(api, reordered, key="lead-7f3a")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Person.objects.count() == 1 and Touchpoint.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_naming_the_header(api, guide):
    post(api, LEAD, key="lead-7f3a")
    other = post(api, {**LEAD, "title": "Admiral"}, key="lead-7f3a")
    assert other.status_code == 422
    assert "another body" in errors(other)["header.Idempotency-Key"]
    assert Touchpoint.objects.count() == 1 and Person.objects.get().title == "Rear Admiral"


def test_keys_belong_to_their_user(system, api, salesperson, guide):
    post(api, LEAD, key="shared-key")
    theirs = post(token_client(system, salesperson), {**LEAD, "title": "Admiral"}, key="shared-key")
    assert theirs.status_code == 200
    assert Touchpoint.objects.count() == 2


def test_without_a_key_each_request_is_a_new_capture(api, guide):
    post(api, LEAD)
    post(api, LEAD)
    assert Person.objects.count() == 1 and Touchpoint.objects.count() == 2


def test_a_rejected_request_does_not_use_up_its_key(api, guide):
    bad = post(api, {**LEAD, "email": "not-an-email"}, key="k-1")
    assert bad.status_code == 422 and nothing_stored()
    fixed = post(api, LEAD, key="k-1")
    assert fixed.status_code == 201


@pytest.mark.parametrize("key", ["", "   ", "x" * 201, "tab\there"])
def test_an_unusable_key_is_refused(api, key):
    response = post(api, LEAD, key=key)
    assert response.status_code == 422
    assert "header.Idempotency-Key" in errors(response)
    assert nothing_stored()


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_capture_once(system, marketer):
    create_campaign(actor=system, name="COBOL guide", key="cobol-guide")
    _, raw = create_token(actor=system, user=marketer, name="race")
    barrier = threading.Barrier(4)
    results: list[tuple[int, dict]] = []
    failures: list[BaseException] = []

    def send():
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
            barrier.wait()
            response = post(client, LEAD, key="race-key")
            results.append((response.status_code, response.json()))
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert {status for status, _ in results} == {201}
    assert all(body == results[0][1] for _, body in results)
    assert Person.objects.count() == 1 and Touchpoint.objects.count() == 1


# --- bad input: a 422 naming the field, nothing stored ------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "kim@example.com", "touchpoint": {"kind": "carrier_pigeon"}}, "touchpoint.kind"),
        ({"email": "not an email"}, "email"),
        ({"email": "kim@example.com", "phone": "12"}, "phone"),
        ({"email": "kim@example.com", "country": "Narnia"}, "country"),
        ({"email": "kim@example.com", "touchpoint": {"campaign": "nope"}}, "touchpoint.campaign"),
        (
            {"email": "kim@example.com", "touchpoint": {"page_url": "javascript:alert(1)"}},
            "touchpoint.page_url",
        ),
        (
            {"email": "kim@example.com", "touchpoint": {"occurred_at": "yesterday-ish"}},
            "touchpoint.occurred_at",
        ),
        (
            {"email": "kim@example.com", "touchpoint": {"occurred_at": "2999-01-01T00:00:00Z"}},
            "touchpoint.occurred_at",
        ),
        (
            {
                "email": "kim@example.com",
                "consents": [{"purpose": "nope", "text_version": 1, "granted": True, "how": "web"}],
            },
            "consents.0.purpose",
        ),
        ({"email": "kim@example.com", "consents": [{"purpose": "x"}]}, "consents.0.granted"),
        ({"email": "kim@example.com", "favourite_colour": "blue"}, "favourite_colour"),
        ({"touchpoint": {"kind": "api"}}, "last_name"),
        # PostgreSQL cannot store NUL: refused by name, not a database error (was a 500).
        ({"email": "kim@example.com", "first_name": "Ki\u0000m"}, "first_name"),
        ({"email": "kim@example.com", "touchpoint": {"note": "met\u0000"}}, "touchpoint.note"),
        ({"email": "kim@example.com", "custom_fields": {"size": "\u0000"}}, "custom_fields"),
        ({"email": "kim@example.com", "title": "\ud800"}, "title"),  # a lone surrogate
        # Too long: refused by name, not clipped (was cut to fit, or named "name").
        ({"email": "kim@example.com", "company": "C" * 201}, "company"),
        ({"email": "kim@example.com", "touchpoint": {"channel": "c" * 51}}, "touchpoint.channel"),
        (
            {"email": "kim@example.com", "touchpoint": {"utm_source": "u" * 201}},
            "touchpoint.utm_source",
        ),
        ({"email": "kim@example.com", "touchpoint": {"note": "n" * 5001}}, "touchpoint.note"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_stores_nothing(api, body, field):
    response = post(api, body, key="bad-1")
    assert response.status_code == 422, response.content
    assert field in errors(response), errors(response)
    assert nothing_stored()


def test_a_consent_for_an_unknown_text_version_stores_nothing(api):
    purpose = ConsentPurpose.objects.create(key="newsletter", name="Newsletter")
    ConsentText.objects.create(purpose=purpose, version=1, text="News")
    response = post(
        api,
        {
            "email": "kim@example.com",
            "consents": [
                {"purpose": "newsletter", "text_version": 9, "granted": True, "how": "web"}
            ],
        },
    )
    assert response.status_code == 422
    assert "consents.0.text_version" in errors(response)
    assert nothing_stored() and Consent.objects.count() == 0


def test_a_body_that_is_not_json_is_a_clear_400(api):
    response = api.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


# --- who may ------------------------------------------------------------------------------


def test_anonymous_is_401(client, db):
    response = post(client, LEAD)
    assert response.status_code == 401
    assert Person.objects.count() == 0


def test_a_read_only_token_is_403(system, salesperson):
    response = post(token_client(system, salesperson, TokenScope.READ), LEAD)
    assert response.status_code == 403
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    "role", ["admin", "manager", "marketer", "salesperson", "other_salesperson"]
)
def test_every_role_with_a_write_token_may_capture(system, users_by_role, role):
    client = token_client(system, users_by_role[role])
    assert post(client, {"email": "kim@example.com"}).status_code == 201
    assert post(client, {"email": "kim@example.com"}).status_code == 200


def test_a_signed_in_session_needs_the_csrf_token(salesperson):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(salesperson)
    refused = post(browser, {"email": "kim@example.com"})
    assert refused.status_code == 403
    assert Person.objects.count() == 0

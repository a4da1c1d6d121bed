"""POST /api/v1/capture by a salesperson: a touchpoint for anyone, but another owner's
person keeps their fields, and consent granted through the API comes with its proof."""

from __future__ import annotations

import pytest
from django.test import Client

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.campaigns.models import Touchpoint
from tandem.capture.models import Consent, ConsentEvent, ConsentPurpose, ConsentText
from tandem.people import services as people
from tandem.people.models import Person

URL = "/api/v1/capture"


def token_client(system, user) -> Client:
    _, raw = create_token(actor=system, user=user, name="t", scope=TokenScope.READ_WRITE)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def post(client: Client, body: dict):
    return client.post(URL, body, content_type="application/json")


def errors(response) -> dict[str, str]:
    out = {}
    for e in response.json()["detail"]:
        loc = [str(p) for p in e["loc"]]
        if loc[:2] == ["body", "payload"]:
            loc = loc[2:]
        out[".".join(loc)] = e["msg"]
    return out


@pytest.fixture
def sols_contact(system, other_salesperson) -> Person:
    """A person Sol owns, with most fields still empty."""
    return people.create_person(
        actor=system,
        data={"last_name": "Quinn", "owner": other_salesperson},
        email="quinn@example.com",
    )


@pytest.fixture
def newsletter() -> ConsentText:
    purpose = ConsentPurpose.objects.create(key="newsletter", name="Newsletter")
    return ConsentText.objects.create(purpose=purpose, version=1, text="Send me news.")


def test_a_salesperson_adds_a_touchpoint_to_a_colleagues_person_but_fills_nothing(
    system, salesperson, sols_contact
):
    response = post(
        token_client(system, salesperson),
        {
            "email": "quinn@example.com",
            "first_name": "Harley",
            "title": "CFO",
            "phone": "+44 20 7946 0018",
            "company": "Quinn Ltd",
        },
    )

    assert response.status_code == 200, response.content
    person = Person.objects.get(pk=sols_contact.pk)
    assert (person.first_name, person.title, person.phone, person.company) == ("", "", "", None)
    assert response.json()["proposed"] == {
        "first_name": "Harley",
        "title": "CFO",
        "phone": "+442079460018",
        "company": "Quinn Ltd",
    }
    touchpoint = Touchpoint.objects.get(person=person)
    assert touchpoint.detail["proposed"]["title"] == "CFO"


@pytest.mark.parametrize("role", ["other_salesperson", "manager", "marketer", "admin"])
def test_the_owner_and_roles_that_edit_everyone_fill_empty_fields(
    system, users_by_role, sols_contact, role
):
    response = post(
        token_client(system, users_by_role[role]),
        {"email": "quinn@example.com", "title": "CFO"},
    )

    assert response.status_code == 200, response.content
    assert Person.objects.get(pk=sols_contact.pk).title == "CFO"


@pytest.mark.parametrize("missing", ["how", "text_version"])
def test_granting_consent_without_its_proof_is_a_422_naming_the_field(
    system, salesperson, newsletter, missing
):
    consent = {"purpose": "newsletter", "text_version": 1, "granted": True, "how": "web form"}
    del consent[missing]

    response = post(
        token_client(system, salesperson),
        {"email": "new@example.com", "consents": [consent]},
    )

    assert response.status_code == 422
    assert f"consents.0.{missing}" in errors(response)
    assert not Person.objects.exists() and not Consent.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"), [({"how": "   "}, "how"), ({"text_version": None}, "text_version")]
)
def test_empty_proof_is_a_422_naming_the_field(system, salesperson, newsletter, change, field):
    consent = {"purpose": "newsletter", "text_version": 1, "granted": True, "how": "web form"}

    response = post(
        token_client(system, salesperson),
        {"email": "new@example.com", "consents": [{**consent, **change}]},
    )

    assert response.status_code == 422
    assert f"consents.0.{field}" in errors(response)
    assert not Person.objects.exists() and not Consent.objects.exists()


def test_consent_granted_through_the_api_keeps_its_proof_and_who_vouched(
    system, salesperson, sols_contact, newsletter
):
    response = post(
        token_client(system, salesperson),
        {
            "email": "quinn@example.com",
            "consents": [
                {
                    "purpose": "newsletter",
                    "text_version": 1,
                    "granted": True,
                    "how": "Signed the paper form at the Hannover booth",
                }
            ],
        },
    )

    assert response.status_code == 200, response.content
    event = ConsentEvent.objects.get(consent__person=sols_contact)
    assert (event.action, event.method, event.text, event.how, event.recorded_by) == (
        "granted",
        "api",
        newsletter,
        "Signed the paper form at the Hannover booth",
        salesperson,
    )
    assert response.json()["consents"][0]["how"] == "Signed the paper form at the Hannover booth"


def test_staff_see_an_api_consents_proof_and_who_recorded_it(
    system, salesperson, marketer, sols_contact, newsletter
):
    """The person API and page show how the person gave it and whose token vouched."""
    how = "Signed the paper form at the Hannover booth"
    consent = {"purpose": "newsletter", "text_version": 1, "granted": True, "how": how}
    body = {"email": "quinn@example.com", "consents": [consent]}
    assert post(token_client(system, salesperson), body).status_code == 200

    detail = token_client(system, marketer).get(f"/api/v1/people/{sols_contact.pk}").json()
    news = {c["purpose"]: c for c in detail["consents"]}["newsletter"]
    assert (news["status"], news["method"], news["how"]) == ("granted", "api", how)
    assert news["recorded_by"] == "Sam Sales"
    assert (news["events"][0]["how"], news["events"][0]["recorded_by"]) == (how, "Sam Sales")

    web = Client()
    web.force_login(marketer)
    page = web.get(f"/people/{sols_contact.pk}/").content.decode()
    assert f"“{how}”" in page and "recorded by Sam Sales" in page

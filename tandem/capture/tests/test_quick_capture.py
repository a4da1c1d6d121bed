"""Quick capture at the booth, the store and from one's own network (J2, J4), without a browser.

The page posts without JavaScript; the offline queue syncs entries as JSON to
/capture/sync with a client-made UUID, and a replayed UUID writes nothing new.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tandem.campaigns.models import Touchpoint
from tandem.campaigns.services import create_campaign
from tandem.people import services as people
from tandem.people.models import Person, StageChange

PAGE = "/capture"
SYNC = "/capture/sync"

BADGE = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lovelace;Ada;;;\r\nORG:Analytical Engines\r\n"
    "TITLE:CTO\r\nEMAIL:ada@engines.example\r\nTEL:+44 20 7946 0018\r\nEND:VCARD\r\n"
)


@pytest.fixture
def sam(client, salesperson) -> Client:
    client.force_login(salesperson)
    return client


@pytest.fixture
def show(system):
    return create_campaign(actor=system, name="Hannover Messe", key="messe", kind="trade_show")


@pytest.fixture
def store(system):
    return create_campaign(actor=system, name="Berlin store", key="berlin-store", kind="store")


def sync(client, entry, **extra):
    return client.post(SYNC, json.dumps(entry), content_type="application/json", **extra)


# --- the page --------------------------------------------------------------------------------


def test_the_page_needs_a_sign_in(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize(
    "role", ["admin", "manager", "marketer", "salesperson", "other_salesperson"]
)
def test_every_role_may_open_the_page(client, users_by_role, role):
    client.force_login(users_by_role[role])
    assert client.get(PAGE).status_code == 200


def test_the_place_picker_lists_active_events_and_stores_only(sam, system, show, store):
    create_campaign(actor=system, name="Spring newsletter", key="news", kind="email")
    create_campaign(actor=system, name="Old fair", key="old", kind="trade_show", is_active=False)
    html = sam.get(PAGE).content.decode()
    assert "Hannover Messe" in html and "Berlin store" in html
    assert "Spring newsletter" not in html and "Old fair" not in html


def test_a_plain_post_saves_a_booth_scan_and_keeps_the_place(sam, salesperson, show):
    response = sam.post(
        PAGE,
        {
            "campaign": show.pk,
            "location": "Hall 4",
            "place": "booth",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@engines.example",
            "company": "Analytical Engines",
            "interest": "high",
            "note": "Wants a demo",
            "action": "save",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?campaign={show.pk}&location=Hall+4&place=booth"
    person = Person.objects.get()
    assert (person.email, person.company.name, person.stage) == (
        "ada@engines.example",
        "Analytical Engines",
        "lead",
    )
    tp = Touchpoint.objects.get()
    assert (tp.kind, tp.campaign, tp.location, tp.channel) == (
        "booth_scan",
        show,
        "Hall 4",
        "quick_capture",
    )
    assert tp.detail["interest"] == "high" and tp.detail["sold_on_spot"] is False
    assert tp.note == "Wants a demo" and tp.credited_to is None
    page = sam.get(response["Location"]).content.decode()
    assert "Saved Ada Lovelace: new person, yours." in page
    assert f'href="/people/{person.pk}/">Ada Lovelace</a>' in page  # saved today by you
    assert 'value="Hall 4"' in page


def test_a_store_campaign_or_the_store_switch_makes_a_store_visit(sam, store):
    sam.post(PAGE, {"campaign": store.pk, "place": "booth", "email": "a@example.com"})
    sam.post(PAGE, {"location": "Pop-up Munich", "place": "store", "email": "b@example.com"})
    assert list(Touchpoint.objects.order_by("id").values_list("kind", "location")) == [
        ("store_visit", "Berlin store"),
        ("store_visit", "Pop-up Munich"),
    ]


def test_a_contact_from_my_own_network_is_sales_sourced_and_shared(sam, salesperson):
    sam.post(
        PAGE,
        {"place": "booth", "first_name": "Kim", "email": "kim@example.com", "own_network": "on"},
    )
    tp = Touchpoint.objects.get()
    assert tp.kind == "sales_sourced" and tp.credited_to == salesperson
    person = tp.person
    # A lead of theirs in the shared database, not a private list: nurture reaches them (J2).
    assert person.source == "sales-sourced" and person.owner == salesperson
    assert person.stage == "lead"


def test_sold_on_the_spot_moves_the_person_to_customer(sam, salesperson, show):
    sam.post(
        PAGE,
        {"campaign": show.pk, "place": "booth", "email": "buyer@example.com", "sold_on_spot": "on"},
    )
    person = Person.objects.get()
    assert person.stage == "customer"
    change = StageChange.objects.filter(person=person).order_by("-changed_at", "-id").first()
    assert change.reason == "Sold on the spot at Hannover Messe" and change.actor == salesperson
    assert Touchpoint.objects.get().detail["stage"] == "customer"


def test_sold_on_the_spot_for_someone_elses_person_is_kept_on_the_touchpoint(
    sam, system, other_salesperson
):
    people.create_person(
        actor=system,
        data={"first_name": "Lee", "owner": other_salesperson},
        email="lee@example.com",
    )
    response = sam.post(PAGE, {"place": "store", "email": "lee@example.com", "sold_on_spot": "on"})
    assert response.status_code == 302
    person = Person.objects.get()
    assert person.stage == "lead"
    tp = Touchpoint.objects.get()
    assert tp.detail["sold_on_spot"] is True
    assert tp.detail["stage_unchanged"] == "not allowed to change this person's stage"


def test_pasted_badge_text_fills_the_empty_fields_when_saving(sam):
    response = sam.post(PAGE, {"place": "booth", "first_name": "Augusta", "scan_text": BADGE})
    assert response.status_code == 302
    person = Person.objects.get()
    assert (person.first_name, person.last_name, person.email, person.title) == (
        "Augusta",  # typed: kept
        "Lovelace",
        "ada@engines.example",
        "CTO",
    )
    assert person.phone == "+442079460018"


def test_a_shared_vcf_file_is_read(sam):
    card = SimpleUploadedFile("ada.vcf", BADGE.encode(), content_type="text/vcard")
    response = sam.post(PAGE, {"place": "booth", "card_file": card})
    assert response.status_code == 302
    assert Person.objects.get().email == "ada@engines.example"


def test_fill_from_card_shows_the_fields_and_saves_nothing(sam):
    response = sam.post(PAGE, {"place": "booth", "scan_text": BADGE, "action": "read_card"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Lovelace"' in html and 'value="ada@engines.example"' in html
    assert Person.objects.count() == 0


def test_text_that_is_no_card_is_refused_next_to_the_scan_field(sam):
    response = sam.post(PAGE, {"place": "booth", "scan_text": "hello", "action": "read_card"})
    assert response.status_code == 422
    assert "not a vCard" in response.content.decode()
    assert Person.objects.count() == 0


def test_bad_input_is_shown_next_to_the_field_keeping_what_was_typed(sam):
    response = sam.post(
        PAGE, {"place": "booth", "first_name": "Ada", "email": "ada-at-example", "action": "save"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_email_error"' in html and "is not a valid email address" in html
    assert 'value="Ada"' in html
    assert Person.objects.count() == 0 and Touchpoint.objects.count() == 0


def test_a_script_in_a_field_stays_inert_on_the_page(sam):
    payload = "<script>alert(1)</script>"
    sam.post(PAGE, {"place": "booth", "last_name": payload, "location": payload})
    html = sam.get(PAGE).content.decode()
    assert payload not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_double_submitted_form_is_saved_once(sam):
    entry = {"place": "booth", "email": "kim@example.com", "client_uuid": str(uuid.uuid4())}
    sam.post(PAGE, entry)
    again = sam.post(PAGE, entry)
    assert again.status_code == 302
    assert Person.objects.count() == 1 and Touchpoint.objects.count() == 1
    assert "already saved" in sam.get(PAGE).content.decode()


# --- the offline queue's sync ------------------------------------------------------------------


def test_a_synced_entry_replayed_makes_no_second_person_or_touchpoint(sam, show):
    entry = {
        "uuid": str(uuid.uuid4()),
        "captured_at": "2026-04-20T10:15:00Z",
        "campaign": show.pk,
        "place": "booth",
        "first_name": "Grace",
        "email": "grace@example.com",
        "interest": "medium",
        "sold_on_spot": False,
        "own_network": False,
    }
    first = sync(sam, entry)
    again = sync(sam, entry)
    assert first.status_code == again.status_code == 200
    assert first.json()["replayed"] is False and first.json()["created"] is True
    assert again.json()["replayed"] is True
    assert again.json()["person"] == first.json()["person"]
    assert Person.objects.count() == 1 and Touchpoint.objects.count() == 1
    tp = Touchpoint.objects.get()
    assert str(tp.client_uuid) == entry["uuid"]
    assert tp.occurred_at.isoformat() == "2026-04-20T10:15:00+00:00"


def test_a_replayed_sale_does_not_move_the_stage_twice(sam):
    entry = {"uuid": str(uuid.uuid4()), "email": "buyer@example.com", "sold_on_spot": True}
    sync(sam, entry)
    sync(sam, entry)
    person = Person.objects.get()
    assert person.stage == "customer"
    assert StageChange.objects.filter(person=person, to_stage="customer").count() == 1


def test_an_entry_that_cannot_be_saved_says_why_and_stores_nothing(sam):
    response = sync(sam, {"uuid": str(uuid.uuid4()), "email": "nope", "phone": "12"})
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "failed" and "Email" in body["message"]
    assert "email" in body["errors"]
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{not json", 400),
        ("[1, 2]", 400),
        (json.dumps({"email": "kim@example.com"}), 422),  # no uuid
        (json.dumps({"uuid": "not-a-uuid", "email": "kim@example.com"}), 422),
    ],
)
def test_malformed_entries_are_refused_clearly(sam, body, status):
    response = sam.post(SYNC, body, content_type="application/json")
    assert response.status_code == status
    assert response.json()["message"]
    assert Person.objects.count() == 0


def test_sync_needs_a_session(client, db):
    response = sync(client, {"uuid": str(uuid.uuid4()), "email": "kim@example.com"})
    assert response.status_code == 401
    assert "sign in" in response.json()["message"].lower()


def test_sync_needs_the_csrf_token(salesperson):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(salesperson)
    entry = {"uuid": str(uuid.uuid4()), "email": "kim@example.com"}
    assert sync(browser, entry).status_code == 403
    browser.get(PAGE)  # sets the csrftoken cookie, as the page does for the script
    token = browser.cookies["csrftoken"].value
    assert sync(browser, entry, HTTP_X_CSRFTOKEN=token).status_code == 200
    assert Person.objects.count() == 1


# --- offline shell ------------------------------------------------------------------------------


def test_the_service_worker_may_control_the_page(client, db):
    response = client.get("/capture/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/capture"
    body = response.content.decode()
    assert '["/capture", "/static/tandem/app.css"' in body
    assert "__VERSION__" not in body and '"__SHELL__"' not in body


def test_the_manifest_opens_the_capture_page(client, db):
    response = client.get("/capture/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    assert response.json()["start_url"] == "/capture"

"""Consent where staff can see it: the person page, the person API, the people list's
"may be emailed for" filter and the CSV export (issue 17, point 6; ADR 0005)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.capture import consent as consents
from tandem.capture import queries
from tandem.capture.demo import ensure_demo_guide_form
from tandem.capture.models import ConsentPurpose, SuppressionReason
from tandem.people import services
from tandem.people.models import Person

LINK = re.compile(r"/consent/confirm/([^/\s]+)")
SIGN_UP_IP = "203.0.113.7"
CONFIRM_IP = "198.51.100.1"
UNSUBSCRIBE_IP = "192.0.2.44"


@pytest.fixture(autouse=True)
def memory_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def sign_up(form, email: str, first_name: str, on_commit) -> Person:
    """A visitor fills in the demo guide form and ticks the newsletter box."""
    with on_commit(execute=True):
        response = Client().post(
            f"/f/{form.key}",
            {
                "first_name": first_name,
                "last_name": "Visitor",
                "email": email,
                "consent_newsletter": "yes",
            },
            REMOTE_ADDR=SIGN_UP_IP,
            HTTP_USER_AGENT="Firefox/140",
        )
    assert response.status_code == 303
    return Person.objects.get(email=email)


def confirm(email: str) -> None:
    """The person follows the double opt-in link sent to `email`."""
    message = next(m for m in reversed(mail.outbox) if email in m.to)
    token = LINK.search(message.body).group(1)
    consents.confirm_consents(token=token, proof=consents.Proof(method="email_link", ip=CONFIRM_IP))


@pytest.fixture
def world(system, django_capture_on_commit_callbacks):
    """Ada signed up and confirmed; Carl signed up and never confirmed; Wanda signed up,
    confirmed, then unsubscribed; Bea confirmed but her address bounced since; Nina never
    gave consent; Dora confirmed and was deleted. A second purpose, events, has no form."""
    guide = ensure_demo_guide_form(system)
    on_commit = django_capture_on_commit_callbacks
    people = {}
    for name in ("ada", "carl", "wanda", "bea", "dora"):
        people[name] = sign_up(guide, f"{name}@example.com", name.title(), on_commit)
    for name in ("ada", "wanda", "bea", "dora"):
        confirm(f"{name}@example.com")
    consents.unsubscribe(
        token=consents.unsubscribe_token(people["wanda"]),
        proof=consents.Proof(method="unsubscribe", ip=UNSUBSCRIBE_IP),
    )
    consents.suppress(email="bea@example.com", reason=SuppressionReason.BOUNCED)
    services.delete_person(actor=system, person=people["dora"])
    people["nina"] = services.create_person(
        actor=system, data={"first_name": "Nina", "last_name": "None"}, email="nina@example.com"
    )
    events = ConsentPurpose.objects.create(key="events", name="Event invitations")
    consents.ensure_text(purpose=events, text="Invite me to your events.")
    return {"guide": guide, **people}


def consent_card(html: str) -> str:
    match = re.search(r'<section class="card" id="consents".*?</section>', html, re.S)
    assert match, "the person page has no consent card"
    return match.group(0)


def purpose_row(card: str, purpose: str) -> str:
    """The card's row for one purpose, whitespace squeezed."""
    rows = {}
    for chunk in card.split('<li data-purpose="')[1:]:
        key, _, rest = chunk.partition('"')
        rows[key] = re.sub(r"\s+", " ", rest)
    assert purpose in rows, f"no row for {purpose}"
    return rows[purpose]


# --- the person page ---------------------------------------------------------------


def test_person_page_shows_pending_then_granted_with_the_proof_of_each_step(
    client, salesperson, system, django_capture_on_commit_callbacks
):
    guide = ensure_demo_guide_form(system)
    person = sign_up(guide, "ada@example.com", "Ada", django_capture_on_commit_callbacks)
    client.force_login(salesperson)
    url = reverse("people:detail", args=[person.pk])

    row = purpose_row(consent_card(client.get(url).text), "newsletter")
    assert 'data-status="pending"' in row and "Waiting for confirmation" in row
    assert "Text v1" in row and f"IP {SIGN_UP_IP}" in row
    assert "by web form" in row and guide.name in row.replace("&#x27;", "'")

    confirm("ada@example.com")
    row = purpose_row(consent_card(client.get(url).text), "newsletter")
    assert 'data-status="granted"' in row and "Granted" in row
    # The latest step is the confirmation, from the mailbox's IP ...
    assert "by confirmation link in the email" in row and f"IP {CONFIRM_IP}" in row
    # ... and the proof keeps the sign-up too, with the words shown.
    assert "Proof: 2 steps" in row and "Asked to confirm" in row and f"IP {SIGN_UP_IP}" in row
    assert "Firefox/140" in row
    assert guide.consent_texts.get().text.split()[0] in row


def test_person_page_shows_withdrawn_and_never_given(client, marketer, world):
    client.force_login(marketer)
    card = consent_card(client.get(reverse("people:detail", args=[world["wanda"].pk])).text)
    row = purpose_row(card, "newsletter")
    assert 'data-status="withdrawn"' in row and "Withdrawn" in row
    assert "by unsubscribe link" in row and f"IP {UNSUBSCRIBE_IP}" in row
    assert "Proof: 3 steps" in row
    # A purpose the person was never asked for shows as such.
    assert 'data-status="none"' in purpose_row(card, "events")

    card = consent_card(client.get(reverse("people:detail", args=[world["nina"].pk])).text)
    assert 'data-status="none"' in purpose_row(card, "newsletter")
    assert "No consent" in purpose_row(card, "newsletter")


# --- the person API ----------------------------------------------------------------


def token_client(user, system, scope=TokenScope.READ_WRITE) -> Client:
    _, raw = create_token(actor=system, user=user, name="tests", scope=scope)
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_person_api_returns_each_purpose_with_state_and_proof(world, salesperson, system):
    api = token_client(salesperson, system)
    body = api.get(f"/api/v1/people/{world['ada'].pk}").json()
    by_purpose = {c["purpose"]: c for c in body["consents"]}
    assert set(by_purpose) == {"newsletter", "events"}
    news = by_purpose["newsletter"]
    assert (news["status"], news["text_version"], news["method"], news["ip"]) == (
        "granted",
        1,
        "email_link",
        CONFIRM_IP,
    )
    assert [(e["action"], e["method"], e["ip"]) for e in news["events"]] == [
        ("confirmed", "email_link", CONFIRM_IP),
        ("requested", "form", SIGN_UP_IP),
    ]
    assert news["events"][1]["form"] == world["guide"].name
    assert news["events"][1]["user_agent"] == "Firefox/140"
    assert by_purpose["events"]["status"] == "none" and by_purpose["events"]["events"] == []

    carl = api.get(f"/api/v1/people/{world['carl'].pk}").json()
    assert {c["purpose"]: c["status"] for c in carl["consents"]}["newsletter"] == "pending"
    wanda = api.get(f"/api/v1/people/{world['wanda'].pk}").json()
    assert {c["purpose"]: c["status"] for c in wanda["consents"]}["newsletter"] == "withdrawn"


def test_openapi_documents_consents_and_the_may_email_filter(client):
    spec = client.get("/api/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    detail = spec["paths"]["/api/v1/people/{person_id}"]["get"]["responses"]["200"]
    ref = detail["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "consents" in schemas[ref]["properties"] and "consents" in schemas[ref]["required"]
    item = schemas[ref]["properties"]["consents"]["items"]["$ref"].rsplit("/", 1)[1]
    consent = schemas[item]["properties"]
    assert consent["status"]["enum"] == ["granted", "pending", "withdrawn", "none"]
    assert {"text_version", "at", "method", "ip", "events"} <= set(consent)
    params = {p["name"]: p for p in spec["paths"]["/api/v1/people"]["get"]["parameters"]}
    assert "may be emailed" in params["may_email"]["description"]


# --- the list filter ----------------------------------------------------------------


@pytest.fixture(params=["rare purpose", "common purpose"])
def filter_form(request, monkeypatch):
    """The filter reads a rare purpose's people by id and checks a common one person by
    person (capture/queries.py); a threshold of 0 makes every purpose common."""
    if request.param == "common purpose":
        monkeypatch.setattr(queries, "SPARSE_CONSENTS", 0)
    return request.param


def test_may_email_filter_returns_exactly_the_people_who_may_be_emailed(
    world, salesperson, system, client, filter_form
):
    """Granted (confirmed) and not withdrawn; pending, withdrawn, bounced, never asked
    and deleted people are left out."""
    api = token_client(salesperson, system)
    body = api.get("/api/v1/people?may_email=newsletter").json()
    assert [p["email"] for p in body["items"]] == ["ada@example.com"]
    assert body["count"] == 1
    assert api.get("/api/v1/people?may_email=events").json()["items"] == []
    # Combined with the other filters as any filter is.
    assert api.get("/api/v1/people?may_email=newsletter&q=carl").json()["items"] == []

    client.force_login(salesperson)
    page = client.get(reverse("people:list") + "?may_email=newsletter")
    assert page.status_code == 200
    assert page.text.count('data-label="Stage"') == 1 and "Ada Visitor" in page.text
    # The list page offers the filter with each purpose, keeping the chosen one.
    assert re.search(r'<label for="f-may_email">May be emailed for</label>', page.text)
    assert '<option value="newsletter" selected>' in page.text
    assert '<option value="events">Event invitations</option>' in page.text


def test_a_granted_consent_for_a_non_marketing_purpose_ignores_an_unsubscribe(
    world, salesperson, system, filter_form
):
    """Suppression after an unsubscribe stops marketing only; a bounce stops every email."""
    service = ConsentPurpose.objects.create(
        key="service", name="Service notices", is_marketing=False
    )
    text = consents.ensure_text(purpose=service, text="Tell me about outages.")
    for name in ("wanda", "bea", "nina"):
        consents.record_consent(
            person=world[name], text=text, proof=consents.Proof(method="staff"), double_opt_in=True
        )
    api = token_client(salesperson, system)
    emails = [p["email"] for p in api.get("/api/v1/people?may_email=service").json()["items"]]
    assert sorted(emails) == ["nina@example.com", "wanda@example.com"]  # not the bounced bea


def test_an_unknown_purpose_is_an_error_naming_the_filter(world, marketer, system, client):
    api = token_client(marketer, system)
    response = api.get("/api/v1/people?may_email=nosuch")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "may_email"]
    assert "nosuch" in response.json()["detail"][0]["msg"]

    client.force_login(marketer)
    page = client.get(reverse("people:list") + "?may_email=nosuch")
    assert page.status_code == 400
    assert re.search(r'id="err-may_email"[^>]*>[^<]*no consent purpose', page.text)
    export = client.get(reverse("people:export") + "?may_email=nosuch")
    assert export.status_code == 400 and "may_email" in export.text


# --- the export ----------------------------------------------------------------------


def download(client, query: str = "") -> list[dict[str, str]]:
    response = client.get(reverse("people:export") + query)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


def test_export_has_a_column_per_purpose_with_each_persons_state(world, marketer, client):
    client.force_login(marketer)
    rows = {r["email"]: r for r in download(client, "?sort=email")}
    assert set(rows) == {f"{n}@example.com" for n in ("ada", "bea", "carl", "nina", "wanda")}
    assert {email: r["consent:newsletter"] for email, r in rows.items()} == {
        "ada@example.com": "granted",
        "bea@example.com": "granted",  # consent stands; the bounce is the address's
        "carl@example.com": "pending",
        "nina@example.com": "none",
        "wanda@example.com": "withdrawn",
    }
    assert {r["consent:events"] for r in rows.values()} == {"none"}
    # The export takes the list's filter.
    assert [r["email"] for r in download(client, "?may_email=newsletter")] == ["ada@example.com"]


def test_export_makes_no_query_per_row(system, marketer, client):
    purposes = [ConsentPurpose.objects.create(key=k, name=k.title()) for k in ("news", "events")]
    texts = [consents.ensure_text(purpose=p, text=f"Yes to {p.key}.") for p in purposes]
    client.force_login(marketer)

    def add_people(n: int) -> None:
        for i in range(n):
            person = services.create_person(actor=system, data={"last_name": f"P{i:02d}"})
            for text in texts:
                consents.record_consent(
                    person=person,
                    text=text,
                    proof=consents.Proof(method="api"),
                    double_opt_in=False,
                )

    def export() -> tuple[int, list[dict[str, str]]]:
        with CaptureQueriesContext(connection) as queries:
            rows = download(client)
        return len(queries), rows

    add_people(1)
    few, rows = export()
    assert len(rows) == 1
    add_people(49)
    many, rows = export()
    assert len(rows) == 50 and {(r["consent:news"], r["consent:events"]) for r in rows} == {
        ("granted", "granted")
    }
    assert many == few


# --- who sees it ----------------------------------------------------------------------

ROLES = ["admin", "manager", "marketer", "salesperson", "other_salesperson"]


@pytest.mark.parametrize("role", ROLES)
def test_everyone_who_may_see_a_person_sees_their_consent_and_no_one_else(
    role, users_by_role, world, system, client
):
    """Visibility is the person's (accounts/permissions.py): everyone inside the company sees
    every live person, whoever owns them; a deleted person only admins; strangers nobody."""
    user = users_by_role[role]
    services.update_person(
        actor=system, person=world["ada"], data={"owner": users_by_role["other_salesperson"]}
    )
    client.force_login(user)
    api = token_client(user, system, scope=TokenScope.READ)

    page = client.get(reverse("people:detail", args=[world["ada"].pk]))
    assert page.status_code == 200 and 'data-status="granted"' in consent_card(page.text)
    body = api.get(f"/api/v1/people/{world['ada'].pk}").json()
    assert {c["purpose"]: c["status"] for c in body["consents"]}["newsletter"] == "granted"
    may_email = api.get("/api/v1/people?may_email=newsletter").json()["items"]
    assert [p["email"] for p in may_email] == ["ada@example.com"]

    deleted = client.get(reverse("people:detail", args=[world["dora"].pk]))
    assert api.get(f"/api/v1/people/{world['dora'].pk}").status_code == 404
    if role == "admin":  # admins open deleted people to restore them
        assert deleted.status_code == 200 and 'data-status="granted"' in consent_card(deleted.text)
    else:
        assert deleted.status_code == 404 and "consent" not in deleted.text.lower()

    export = client.get(reverse("people:export"))
    assert export.status_code == (200 if role in ("admin", "manager", "marketer") else 403)


def test_strangers_see_no_consent(world):
    anonymous = Client()
    page = anonymous.get(reverse("people:detail", args=[world["ada"].pk]))
    assert page.status_code == 302 and "/login/" in page["Location"]
    assert anonymous.get(f"/api/v1/people/{world['ada'].pk}").status_code == 401
    assert anonymous.get("/api/v1/people?may_email=newsletter").status_code == 401
    assert anonymous.get(reverse("people:export")).status_code == 302

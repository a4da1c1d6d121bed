"""The people list as a CSV file: the list's filters and order, every page, formula-safe."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from tandem.core.models import AuditEvent
from tandem.people import services
from tandem.people.models import CustomField


def download(client, query: str = "") -> list[list[str]]:
    response = client.get(reverse("people:export") + query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def people(system, salesperson):
    CustomField.objects.create(entity="person", key="budget", label="Budget", field_type="number")
    acme = services.create_company(actor=system, data={"name": "Acme"})
    services.create_person(
        actor=system,
        data={"first_name": "Ada", "last_name": "Lovelace", "company": acme,               "owner": salesperson, "custom_fields": {"budget": 5000}},
        email="ada@example.com",
        phone="+49 30 1234567",
        stage="mql",
    )  # fmt: skip
    services.create_person(
        actor=system,
        data={"first_name": '=HYPERLINK("http://evil.example")', "last_name": "Bob",
              "title": "+cmd|' /C calc'!A0"},
        email="bob@example.com",
    )  # fmt: skip
    gone = services.create_person(actor=system, data={"last_name": "Gone"}, email="g@example.com")
    services.delete_person(actor=system, person=gone)


def test_a_marketer_exports_everyone_alive_with_custom_fields(client, marketer, people):
    client.force_login(marketer)
    rows = download(client, "?sort=last_name")
    header, body = rows[0], rows[1:]
    assert header[:4] == ["id", "first_name", "last_name", "email"] and "budget" in header
    assert header[-3:] == ["score", "fit_score", "engagement_score"]  # scoring's (ADR 0005)
    assert [r[header.index("last_name")] for r in body] == ["Bob", "Lovelace"]  # not the deleted
    ada = dict(zip(header, body[1], strict=True))
    assert (ada["email"], ada["phone"], ada["company"], ada["stage"], ada["owner"]) == (
        "ada@example.com",
        "+49301234567",
        "Acme",
        "mql",
        "sam",
    )
    assert ada["budget"] == "5000"


def test_cells_a_spreadsheet_would_run_are_neutralised(client, marketer, people):
    client.force_login(marketer)
    rows = download(client, "?sort=last_name")
    bob = dict(zip(rows[0], rows[1], strict=True))
    assert bob["first_name"] == '\'=HYPERLINK("http://evil.example")'
    assert bob["title"].startswith("'+cmd")


def test_the_export_keeps_the_lists_filters(client, manager, people):
    client.force_login(manager)
    rows = download(client, "?stage=mql")
    assert [r[2] for r in rows[1:]] == ["Lovelace"]


def test_a_bad_filter_is_a_400_naming_it(client, manager, people):
    client.force_login(manager)
    response = client.get(reverse("people:export") + "?sort=shoe_size")
    assert response.status_code == 400
    assert "sort" in response.text


def test_an_export_is_in_the_audit_trail(client, manager, people):
    client.force_login(manager)
    download(client, "?stage=mql")
    event = AuditEvent.objects.get(event="exported")
    assert event.actor == manager
    assert event.changes["people_export"][1] == "stage=mql"


def test_the_list_offers_the_export_only_to_those_who_may(client, marketer, salesperson, people):
    client.force_login(marketer)
    assert "Export CSV" in client.get(reverse("people:list")).text
    client.force_login(salesperson)
    assert "Export CSV" not in client.get(reverse("people:list")).text

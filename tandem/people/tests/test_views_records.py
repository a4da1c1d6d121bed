"""Delete, restore and log an activity answer alike for a person and a company
(views/records.py serves both): where each goes, what it says, what an HTMX post gets."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tandem.people import services
from tandem.people.models import Activity, Company, Person

KINDS = {
    "person": {
        "detail": "people:detail",
        "list": "people:list",
        "delete": "people:delete",
        "restore": "people:restore",
        "log": "people:log_activity",
        "deleted": "Deleted Ada Lovelace. An admin can restore them.",
    },
    "company": {
        "detail": "people:company_detail",
        "list": "people:company_list",
        "delete": "people:company_delete",
        "restore": "people:company_restore",
        "log": "people:company_log_activity",
        "deleted": "Deleted Acme. Its people stay; an admin can restore it.",
    },
}


@pytest.fixture
def records(system) -> dict[str, Person | Company]:
    acme = services.create_company(actor=system, data={"name": "Acme"})
    ada = services.create_person(
        actor=system, data={"first_name": "Ada", "last_name": "Lovelace", "company": acme}
    )
    return {"person": ada, "company": acme}


def last_message(response) -> str:
    """The message the response added (earlier ones wait in the session, unread)."""
    return [str(m) for m in response.wsgi_request._messages][-1]


@pytest.mark.parametrize("kind", KINDS)
def test_delete_confirms_then_deletes_and_restore_brings_it_back(client, admin, records, kind):
    urls, record = KINDS[kind], records[kind]
    client.force_login(admin)
    confirm = client.get(reverse(urls["delete"], args=[record.pk]))
    assert confirm.status_code == 200 and str(record) in confirm.text

    deleted = client.post(reverse(urls["delete"], args=[record.pk]))
    assert deleted["Location"] == reverse(urls["list"])
    assert last_message(deleted) == urls["deleted"]
    record.refresh_from_db()
    assert record.deleted_at is not None

    restored = client.post(reverse(urls["restore"], args=[record.pk]))
    assert restored["Location"] == reverse(urls["detail"], args=[record.pk])
    assert last_message(restored) == f"Restored {record}."
    record.refresh_from_db()
    assert record.deleted_at is None


@pytest.mark.parametrize("kind", KINDS)
def test_a_deleted_record_is_not_found_for_others_and_restore_is_refused(
    client, marketer, system, records, kind
):
    urls, record = KINDS[kind], records[kind]
    getattr(services, f"delete_{kind}")(actor=system, **{kind: record})
    client.force_login(marketer)
    assert client.get(reverse(urls["detail"], args=[record.pk])).status_code == 404
    assert client.post(reverse(urls["delete"], args=[record.pk])).status_code == 404
    assert client.post(reverse(urls["restore"], args=[record.pk])).status_code == 403


@pytest.mark.parametrize("kind", KINDS)
def test_logging_an_activity_answers_htmx_with_the_timeline_and_others_with_a_redirect(
    client, marketer, records, kind
):
    urls, record = KINDS[kind], records[kind]
    client.force_login(marketer)
    url = reverse(urls["log"], args=[record.pk])
    note = {"activity-kind": "note", "activity-subject": "Met at the fair"}

    plain = client.post(url, note)
    assert plain["Location"] == reverse(urls["detail"], args=[record.pk]) + "#timeline"
    assert last_message(plain) == "Logged."

    htmx = client.post(url, {**note, "activity-subject": "Second"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200
    assert "Second" in htmx.text and "Met at the fair" in htmx.text
    assert "<html" not in htmx.text  # the fragment, not the page
    assert Activity.objects.filter(**{kind: record}).count() == 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_refused_activity_keeps_what_was_typed_next_to_the_error(client, marketer, records, kind):
    urls, record = KINDS[kind], records[kind]
    client.force_login(marketer)
    url = reverse(urls["log"], args=[record.pk])
    bad = {"activity-kind": "séance", "activity-subject": "Typed before the mistake"}

    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(url, bad, headers=headers)
        assert response.status_code == 200
        assert "Typed before the mistake" in response.text
        assert "séance" in response.text and "is not one of the available choices" in response.text
        assert ("<html" in response.text) is (not headers)
    assert not Activity.objects.exists()

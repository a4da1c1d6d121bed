"""The hand-off answer over HTTP: what a client sends and gets back, and every refusal
naming its field (conventions of /api/v1/people)."""

from __future__ import annotations

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.routing.models import SendBackReason
from tandem.routing.tests.handoff_factories import lead, routed_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, system):
    def call(user, method, path, body=None, scope=TokenScope.READ_WRITE):
        _, raw = create_token(actor=system, user=user, name="t", scope=scope)
        return getattr(client, method)(
            "/api/v1" + path,
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}"},
        )

    return call


def test_accept_answers_with_the_hand_off_and_the_new_stage(api, salesperson):
    person, h = routed_lead(salesperson)
    response = api(salesperson, "post", f"/people/{person.pk}/accept")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == h.pk and body["person"] == person.pk
    assert (body["status"], body["person_stage"], body["owner"]) == (
        "accepted",
        "sal",
        salesperson.pk,
    )
    assert body["responded_by"] == salesperson.pk and body["responded_at"]


def test_send_back_answers_with_reason_note_and_recycled(api, salesperson):
    person, _ = routed_lead(salesperson)
    response = api(
        salesperson,
        "post",
        f"/people/{person.pk}/send-back",
        {"reason": "not_decision_maker", "note": "Talk to the CFO."},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "sent_back" and body["person_stage"] == "recycled"
    assert (body["send_back_reason"], body["send_back_note"]) == (
        "not_decision_maker",
        "Talk to the CFO.",
    )
    person_body = api(salesperson, "get", f"/people/{person.pk}").json()
    assert person_body["owner"] is None and person_body["stage"] == "recycled"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "bored"}, "reason"),
        ({"reason": "x" * 51}, "reason"),
        ({"reason": "spam", "note": "x" * 2001}, "note"),
        ({"reason": 3}, "reason"),
    ],
)
def test_send_back_refusals_name_the_field(api, salesperson, body, field):
    person, _ = routed_lead(salesperson)
    response = api(salesperson, "post", f"/people/{person.pk}/send-back", body)
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"][-1] == field
    assert not AuditEvent.objects.filter(event="handoff_sent_back").exists()


def test_answering_without_an_open_hand_off_is_422_naming_person(api, salesperson):
    person = lead(salesperson)
    for path, body in (("accept", None), ("send-back", {"reason": "spam"})):
        response = api(salesperson, "post", f"/people/{person.pk}/{path}", body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"][-1] == "person"


def test_an_unknown_person_is_404(api, salesperson):
    assert api(salesperson, "post", "/people/999999/accept").status_code == 404
    assert api(salesperson, "post", "/people/0/accept").status_code == 422


def test_the_reasons_list_and_an_admins_changes(api, salesperson, admin):
    keys = [r["key"] for r in api(salesperson, "get", "/send-back-reasons").json()]
    assert keys[0] == "not_decision_maker" and len(keys) == 7
    made = api(admin, "post", "/send-back-reasons", {"key": "no_project", "label": "No project"})
    assert made.status_code == 201 and made.json()["position"] == 80
    taken = api(admin, "post", "/send-back-reasons", {"key": "spam", "label": "Again"})
    assert taken.status_code == 422 and taken.json()["detail"][0]["loc"][-1] == "key"
    bad = api(admin, "post", "/send-back-reasons", {"key": "No Way!", "label": "x"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "key"
    spam = SendBackReason.objects.get(key="spam")
    moved = api(admin, "patch", f"/send-back-reasons/{spam.pk}", {"position": 1, "label": "Junk"})
    assert moved.json()["label"] == "Junk"
    null = api(admin, "patch", f"/send-back-reasons/{spam.pk}", {"label": None})
    assert null.status_code == 200 and null.json()["label"] == "Junk"  # null: left as it is
    blank = api(admin, "patch", f"/send-back-reasons/{spam.pk}", {"label": " "})
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"][-1] == "label"
    for method, path in (
        ("post", "/send-back-reasons"),
        ("patch", f"/send-back-reasons/{spam.pk}"),
    ):
        nul = api(admin, method, path, {"key": "nul_label", "label": "No\u0000pe"})
        assert nul.status_code == 422 and nul.json()["detail"][0]["loc"][-1] == "label"
    keys = [r["key"] for r in api(salesperson, "get", "/send-back-reasons").json()]
    assert keys[0] == "spam"
    off = api(admin, "post", f"/send-back-reasons/{spam.pk}/deactivate")
    assert off.json()["is_active"] is False
    keys = [r["key"] for r in api(salesperson, "get", "/send-back-reasons").json()]
    assert "spam" not in keys
    everything = api(salesperson, "get", "/send-back-reasons?include_retired=true").json()
    assert "spam" in [r["key"] for r in everything]
    assert AuditEvent.objects.filter(target_type="routing.sendbackreason").count() == 3


def test_the_openapi_document_lists_the_endpoints(client, admin):
    client.force_login(admin)
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/people/{person_id}/accept",
        "/api/v1/people/{person_id}/send-back",
        "/api/v1/send-back-reasons",
        "/api/v1/send-back-reasons/{reason_id}",
        "/api/v1/send-back-reasons/{reason_id}/deactivate",
        "/api/v1/reports/send-backs",
    ):
        assert path in paths
    params = {p["name"] for p in paths["/api/v1/reports/send-backs"]["get"]["parameters"]}
    assert params == {"from", "to", "group_by"}


def test_a_reason_added_after_one_at_the_highest_position_goes_last(api, salesperson, admin):
    """Default position "last" is the last + 10, kept within the highest allowed: a reason
    at 1,000,000 (valid) made the next one without a position a 422 about the position."""
    top = api(
        admin, "post", "/send-back-reasons", {"key": "top", "label": "Top", "position": 1_000_000}
    )
    assert top.status_code == 201
    after = api(admin, "post", "/send-back-reasons", {"key": "after_top", "label": "After"})
    assert after.status_code == 201 and after.json()["position"] == 1_000_000
    keys = [r["key"] for r in api(salesperson, "get", "/send-back-reasons").json()]
    assert keys[-2:] == ["top", "after_top"]

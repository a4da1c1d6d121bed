"""/api/v1/campaigns with budgets (issue 21, point 4): parent, planned budget, UTM
mappings and cost lines over HTTP, exact amounts, errors naming the field, and marketing
roles only for writes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.campaigns import budgets, utm
from tandem.campaigns.models import Campaign, CampaignCost, CampaignUtm
from tandem.campaigns.services import create_campaign
from tandem.core.models import AuditEvent

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture(autouse=True)
def _fresh_mappings():
    utm.forget()
    yield
    utm.forget()


def bearer(system, user, scope=TokenScope.READ_WRITE) -> str:
    _, raw = create_token(actor=system, user=user, name="tests", scope=scope)
    return f"Bearer {raw}"


@pytest.fixture
def api(client, system, marketer):
    client.defaults["HTTP_AUTHORIZATION"] = bearer(system, marketer)
    return client


@pytest.fixture
def spring(system) -> Campaign:
    return create_campaign(actor=system, name="Spring guide", key="spring-guide")


def fields(response) -> set[str]:
    return {str(part) for e in response.json()["detail"] for part in e["loc"]}


def test_a_campaign_is_made_with_parent_budget_and_utm_mappings(api, spring):
    response = api.post(
        "/api/v1/campaigns",
        {
            "name": "Spring on LinkedIn",
            "parent": spring.pk,
            "planned_budget": "1500.50",
            "utm_mappings": [{"utm_campaign": "spring-guide", "utm_source": "LinkedIn"}],
        },
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["parent"] == {"id": spring.pk, "name": "Spring guide", "key": "spring-guide"}
    assert (body["planned_budget"], body["actual_cost"], body["budget_left"]) == (
        "1500.50",
        "0.00",
        "1500.50",
    )
    assert body["currency"] == "EUR"
    assert [
        (m["utm_campaign"], m["utm_source"], m["utm_medium"]) for m in body["utm_mappings"]
    ] == [("spring-guide", "linkedin", "")]


def test_patch_changes_parent_budget_and_replaces_the_mappings(api, system, spring):
    programme = create_campaign(actor=system, name="Programme")
    utm.set_utm_mappings(actor=system, campaign=spring, mappings=[{"utm_campaign": "old"}])
    response = api.patch(
        f"/api/v1/campaigns/{spring.pk}",
        {
            "parent": programme.pk,
            "planned_budget": 2000,
            "utm_mappings": [{"utm_campaign": "new"}, {"utm_source": "fb", "utm_medium": "paid"}],
        },
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["parent"]["id"], body["planned_budget"]) == (programme.pk, "2000.00")
    assert {m["utm_campaign"] or m["utm_source"] for m in body["utm_mappings"]} == {"new", "fb"}
    cleared = api.patch(
        f"/api/v1/campaigns/{spring.pk}",
        {"parent": None, "planned_budget": None, "utm_mappings": []},
        content_type=JSON,
    ).json()
    assert (cleared["parent"], cleared["planned_budget"], cleared["utm_mappings"]) == (
        None,
        None,
        [],
    )
    events = set(
        AuditEvent.objects.filter(
            target_id=spring.pk, target_type="campaigns.campaign"
        ).values_list("event", flat=True)
    )
    assert {"changed", "utm_mappings_changed"} <= events


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"planned_budget": "-1"}, "planned_budget"),
        ({"planned_budget": "12.345"}, "planned_budget"),
        ({"planned_budget": "lots"}, "planned_budget"),
        ({"parent": 0}, "parent"),
        ({"parent": 999999}, "parent"),
        ({"parent": "self"}, "parent"),
        ({"utm_mappings": [{}]}, "utm_mappings"),
        ({"utm_mappings": [{"utm_term": "x"}]}, "utm_term"),
        ({"utm_mappings": [{"utm_campaign": "a"}, {"utm_campaign": "A"}]}, "utm_mappings"),
        ({"utm_mappings": None}, "utm_mappings"),
    ],
)
def test_a_bad_value_is_a_422_naming_the_field_and_changes_nothing(api, spring, body, field):
    if body.get("parent") == "self":
        body = {"parent": spring.pk}
    response = api.patch(f"/api/v1/campaigns/{spring.pk}", body, content_type=JSON)
    assert response.status_code == 422, response.content
    assert field in fields(response), response.json()
    spring.refresh_from_db()
    assert (spring.parent_id, spring.planned_budget) == (None, None)
    assert not CampaignUtm.objects.exists()


def test_a_parent_under_the_campaign_is_refused(api, system, spring):
    child = create_campaign(actor=system, name="Child", parent=spring)
    response = api.patch(f"/api/v1/campaigns/{spring.pk}", {"parent": child.pk}, content_type=JSON)
    assert response.status_code == 422
    assert "parent" in fields(response) and "ancestor" in response.text


def test_the_list_filters_by_parent(api, system, spring):
    create_campaign(actor=system, name="Child A", parent=spring)
    create_campaign(actor=system, name="Child B", parent=spring)
    under = api.get("/api/v1/campaigns", {"parent": spring.pk, "sort": "name"}).json()
    assert [c["name"] for c in under["items"]] == ["Child A", "Child B"]
    top = api.get("/api/v1/campaigns", {"parent": "none"}).json()
    assert [c["name"] for c in top["items"]] == ["Spring guide"]
    refused = api.get("/api/v1/campaigns", {"parent": "x"})
    assert refused.status_code == 422 and "parent" in fields(refused)


def test_cost_lines_over_http_add_up_exactly(api, spring):
    url = f"/api/v1/campaigns/{spring.pk}/costs"
    for amount in ("0.10", "0.20", 1000, "33.33"):
        response = api.post(
            url, {"spent_on": "2026-03-02", "amount": amount, "note": "Ads"}, content_type=JSON
        )
        assert response.status_code == 201, response.content
    created = response.json()
    assert (created["amount"], created["note"], created["created_by"]["username"]) == (
        "33.33",
        "Ads",
        "mia",
    )
    page = api.get(url).json()
    assert (page["count"], page["total"], page["currency"]) == (4, "1033.63", "EUR")
    assert api.get(f"/api/v1/campaigns/{spring.pk}").json()["actual_cost"] == "1033.63"

    cost_url = f"{url}/{created['id']}"
    changed = api.patch(cost_url, {"amount": "0.04", "spent_on": "2026-03-05"}, content_type=JSON)
    assert changed.status_code == 200 and changed.json()["amount"] == "0.04"
    assert api.get(url).json()["total"] == "1000.34"
    assert api.delete(cost_url).status_code == 204
    assert api.get(url).json()["total"] == "1000.30"
    assert api.delete(cost_url).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"spent_on": "2026-03-02", "amount": "-5"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "1.001"}, "amount"),
        ({"spent_on": "2026-03-02"}, "amount"),
        ({"spent_on": "2026-13-02", "amount": "5"}, "spent_on"),
        ({"amount": "5"}, "spent_on"),
        ({"spent_on": "2026-03-02", "amount": "5", "note": "x" * 301}, "note"),
        ({"spent_on": "2026-03-02", "amount": "5", "currency": "USD"}, "currency"),
    ],
)
def test_a_bad_cost_line_is_a_422_naming_the_field(api, spring, body, field):
    response = api.post(f"/api/v1/campaigns/{spring.pk}/costs", body, content_type=JSON)
    assert response.status_code == 422, response.content
    assert field in fields(response)
    assert not CampaignCost.objects.exists()


def test_a_cost_patch_refuses_null_and_names_the_field(api, system, spring):
    cost = budgets.add_campaign_cost(
        actor=system, campaign=spring, data={"spent_on": "2026-03-02", "amount": "5"}
    )
    response = api.patch(
        f"/api/v1/campaigns/{spring.pk}/costs/{cost.pk}", {"amount": None}, content_type=JSON
    )
    assert response.status_code == 422 and "amount" in fields(response)


def test_a_cost_line_is_found_only_under_its_campaign(api, system, spring):
    other = create_campaign(actor=system, name="Other")
    cost = budgets.add_campaign_cost(
        actor=system, campaign=other, data={"spent_on": "2026-03-02", "amount": "5"}
    )
    path = f"/api/v1/campaigns/{spring.pk}/costs/{cost.pk}"
    assert api.patch(path, {"amount": "1"}, content_type=JSON).status_code == 404
    assert api.delete(path).status_code == 404
    assert api.get("/api/v1/campaigns/999999/costs").status_code == 404
    assert CampaignCost.objects.get().amount == Decimal("5.00")


CALLERS = ["admin", "manager", "marketer", "salesperson", "read_only_token"]
WRITERS = {"admin", "manager", "marketer"}


@pytest.mark.parametrize("caller", CALLERS)
def test_marketing_roles_write_budgets_and_everyone_else_reads(
    client, system, users_by_role, spring, caller
):
    user = users_by_role["admin" if caller == "read_only_token" else caller]
    scope = TokenScope.READ if caller == "read_only_token" else TokenScope.READ_WRITE
    client.defaults["HTTP_AUTHORIZATION"] = bearer(system, user, scope)
    cost = budgets.add_campaign_cost(
        actor=system, campaign=spring, data={"spent_on": "2026-03-02", "amount": "5"}
    )
    base = f"/api/v1/campaigns/{spring.pk}"
    assert client.get(f"{base}/costs").status_code == 200
    assert client.get(base).status_code == 200
    writes = [
        client.post(f"{base}/costs", {"spent_on": "2026-03-02", "amount": "1"}, content_type=JSON),
        client.patch(f"{base}/costs/{cost.pk}", {"note": "x"}, content_type=JSON),
        client.patch(base, {"planned_budget": "10"}, content_type=JSON),
        client.patch(base, {"utm_mappings": [{"utm_campaign": "x"}]}, content_type=JSON),
        client.post("/api/v1/campaigns", {"name": "Child", "parent": spring.pk}, content_type=JSON),
        client.delete(f"{base}/costs/{cost.pk}"),
    ]
    expected = [201, 200, 200, 200, 201, 204] if caller in WRITERS else [403] * 6
    assert [r.status_code for r in writes] == expected
    if caller not in WRITERS:
        assert CampaignCost.objects.get().amount == Decimal("5.00")
        assert Campaign.objects.get(pk=spring.pk).planned_budget is None
        assert not CampaignUtm.objects.exists()


def test_the_new_operations_document_their_refusals(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    costs = paths["/api/v1/campaigns/{campaign_id}/costs"]
    assert set(costs["get"]["responses"]) == {"200", "401", "404", "422"}
    assert set(costs["post"]["responses"]) == {"201", "400", "401", "403", "404", "413", "422"}
    one = paths["/api/v1/campaigns/{campaign_id}/costs/{cost_id}"]
    assert set(one["delete"]["responses"]) == {"204", "401", "403", "404", "422"}

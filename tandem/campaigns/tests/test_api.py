"""The campaigns API: one filter and keyset pages like people, counts for the page only,
marketing roles write, every refusal documented."""

from __future__ import annotations

import base64
import json

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.campaigns.models import Campaign
from tandem.campaigns.services import create_campaign, record_touchpoint
from tandem.core.models import AuditEvent
from tandem.people import services as people


def bearer(system, user, scope=TokenScope.READ_WRITE) -> dict[str, str]:
    _, raw = create_token(actor=system, user=user, name="tests", scope=scope)
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def api(client, system, marketer):
    client.defaults["HTTP_AUTHORIZATION"] = bearer(system, marketer)["Authorization"]
    client.get("/api/v1/me")  # notes the token's last use now, so lists don't write it
    return client


def make_campaigns(system, n: int, **extra) -> list[Campaign]:
    return [
        create_campaign(actor=system, name=f"Campaign {i:03d}", key=f"c-{i:03d}", **extra)
        for i in range(n)
    ]


# --- permissions --------------------------------------------------------------------

CALLERS = ["admin", "manager", "marketer", "salesperson", "read_only_token", "anonymous"]
WRITERS = {"admin", "manager", "marketer"}
CALLS = {
    "list": ("get", "/campaigns", None, "read", 200),
    "get": ("get", "/campaigns/{id}", None, "read", 200),
    "create": ("post", "/campaigns", {"name": "Autumn webinar", "kind": "webinar"}, "write", 201),
    "update": ("patch", "/campaigns/{id}", {"name": "Spring fair 2027"}, "write", 200),
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("call", list(CALLS))
def test_everyone_reads_campaigns_and_only_marketing_roles_change_them(
    client, system, users_by_role, caller, call
):
    method, path, body, rule, ok = CALLS[call]
    campaign = create_campaign(actor=system, name="Spring fair", key="spring-fair")
    headers = {}
    if caller != "anonymous":
        user = users_by_role["admin" if caller == "read_only_token" else caller]
        scope = TokenScope.READ if caller == "read_only_token" else TokenScope.READ_WRITE
        headers = bearer(system, user, scope)
    audit_before = AuditEvent.objects.count()

    response = getattr(client, method)(
        "/api/v1" + path.format(id=campaign.pk),
        body,
        content_type="application/json",
        headers=headers,
    )

    if caller == "anonymous":
        expected = 401
    elif rule == "read" or caller in WRITERS:
        expected = ok
    else:
        expected = 403
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["detail"]
        assert AuditEvent.objects.count() == audit_before
        assert Campaign.objects.count() == 1
        assert Campaign.objects.get().name == "Spring fair"


# --- list: paging, filters, counts ----------------------------------------------------


def test_the_cursor_walks_every_campaign_once_in_order(api, system):
    made = make_campaigns(system, 7)
    seen: list[int] = []
    params: dict[str, str | int] = {"limit": 3, "sort": "name"}
    for _ in range(5):
        body = api.get("/api/v1/campaigns", params).json()
        assert body["count"] == 7 and body["count_exact"] is True
        seen += [c["id"] for c in body["items"]]
        if not body["next_cursor"]:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == [c.pk for c in made]  # names sort like creation here


def test_newest_campaigns_come_first_by_default_and_offset_pages_the_top(api, system):
    made = make_campaigns(system, 4)
    first = api.get("/api/v1/campaigns", {"limit": 2}).json()
    second = api.get("/api/v1/campaigns", {"limit": 2, "offset": 2}).json()
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert ids == [c.pk for c in reversed(made)]


def test_a_broken_cursor_or_limit_is_a_422_naming_it(api, system):
    make_campaigns(system, 2)
    response = api.get("/api/v1/campaigns", {"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]
    response = api.get("/api/v1/campaigns", {"limit": 0})
    assert response.status_code == 422 and "limit" in str(response.json()["detail"])


def test_the_filter_narrows_by_kind_status_and_name(api, system):
    create_campaign(actor=system, name="Spring fair", kind="event")
    create_campaign(actor=system, name="Spring webinar", kind="webinar")
    create_campaign(actor=system, name="Old fair", kind="event", is_active=False)

    def names(**params):
        return sorted(c["name"] for c in api.get("/api/v1/campaigns", params).json()["items"])

    assert names(kind="event") == ["Old fair", "Spring fair"]
    assert names(is_active="false") == ["Old fair"]
    assert names(q="spring") == ["Spring fair", "Spring webinar"]
    assert names(q="spring-w") == ["Spring webinar"]  # the key
    assert api.get("/api/v1/campaigns", {"kind": "party"}).status_code == 422


def test_each_campaign_counts_its_touchpoints_and_people(api, system):
    fair, guide = make_campaigns(system, 2)
    ada = people.create_person(actor=system, data={"last_name": "Lovelace"})
    bob = people.create_person(actor=system, data={"last_name": "Babbage"})
    for person, campaign in [(ada, fair), (ada, fair), (bob, fair), (bob, guide)]:
        record_touchpoint(person_id=person.pk, kind="form_fill", campaign=campaign)

    items = {c["id"]: c for c in api.get("/api/v1/campaigns").json()["items"]}

    assert (items[fair.pk]["touchpoint_count"], items[fair.pk]["people_count"]) == (3, 2)
    assert (items[guide.pk]["touchpoint_count"], items[guide.pk]["people_count"]) == (1, 1)
    assert items[fair.pk]["form_count"] == 0
    detail = api.get(f"/api/v1/campaigns/{fair.pk}").json()
    assert (detail["touchpoint_count"], detail["people_count"]) == (3, 2)


@pytest.mark.parametrize("n", [1, 50])
def test_campaign_list_queries_do_not_grow_with_rows(api, system, n, django_assert_num_queries):
    campaigns = make_campaigns(system, n)
    person = people.create_person(actor=system, data={"last_name": "Lovelace"})
    for campaign in campaigns:
        record_touchpoint(person_id=person.pk, kind="page_visit", campaign=campaign)
    # 1 token with its user, 2 capped count, 3 page with owner and parent joined,
    # 4 their UTM mappings, 5 cost totals, 6 touchpoints and people per listed campaign,
    # 7 forms per listed campaign
    with django_assert_num_queries(7):
        response = api.get("/api/v1/campaigns", {"limit": 50})
    assert [c["touchpoint_count"] for c in response.json()["items"]] == [1] * n


# --- detail and writes ---------------------------------------------------------------


def test_a_marketer_creates_and_changes_a_campaign_with_its_audit(api, marketer):
    response = api.post(
        "/api/v1/campaigns",
        {"name": "Buyer's Guide 2026", "kind": "content", "starts_on": "2026-03-01"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["key"], body["kind"], body["starts_on"]) == (
        "buyers-guide-2026",
        "content",
        "2026-03-01",
    )
    assert body["url"].endswith(f"/campaigns/{body['id']}/")
    response = api.patch(
        f"/api/v1/campaigns/{body['id']}", {"is_active": False}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["is_active"] is False
    events = AuditEvent.objects.filter(
        target_type="campaigns.campaign", target_id=body["id"]
    ).order_by("id")
    assert [(e.event, e.actor_id) for e in events] == [
        ("created", marketer.pk),
        ("changed", marketer.pk),
    ]


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("post", {"name": "Fair", "starts_on": "2026-05-02", "ends_on": "2026-05-01"}, "ends_on"),
        ("post", {"name": "Fair", "is_active": 0}, "is_active"),
        ("post", {"name": "Fair", "starts_on": "2026-05-02T10:00:00"}, "starts_on"),
        ("patch", {"starts_on": 1767225600}, "starts_on"),
        ("post", {"name": "日本"}, "key"),  # no key, and none made from the name
        ("post", {"name": "   "}, "name"),
        ("post", {"name": "Fair", "colour": "red"}, "colour"),
        ("patch", {"ends_on": "2020-01-01"}, "ends_on"),
        ("patch", {"is_active": None}, "is_active"),
        ("patch", {"key": "---"}, "key"),
    ],
)
def test_a_refused_value_is_a_422_naming_the_field_and_changes_nothing(
    api, system, method, body, field
):
    campaign = create_campaign(
        actor=system, name="Spring fair", key="spring-fair", starts_on="2026-04-01"
    )
    path = "/api/v1/campaigns" + (f"/{campaign.pk}" if method == "patch" else "")
    response = getattr(api, method)(path, body, content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in {str(part) for e in response.json()["detail"] for part in e["loc"]}
    assert Campaign.objects.count() == 1
    campaign.refresh_from_db()
    assert (campaign.key, campaign.is_active, campaign.ends_on) == ("spring-fair", True, None)


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_taken_key_is_a_409_naming_the_key(api, system, method):
    create_campaign(actor=system, name="Spring fair", key="spring-fair")
    other = create_campaign(actor=system, name="Autumn fair", key="autumn-fair")
    path = "/api/v1/campaigns" + (f"/{other.pk}" if method == "patch" else "")
    body = {"name": "Fair", "key": "Spring Fair"}
    response = getattr(api, method)(path, body, content_type="application/json")
    assert response.status_code == 409, response.content
    assert response.json() == {
        "detail": "The key 'spring-fair' is taken by another campaign.",
        "field": "key",
        "existing_person_id": None,  # the API's one error shape (core/api_errors.py)
    }
    assert sorted(Campaign.objects.values_list("key", flat=True)) == ["autumn-fair", "spring-fair"]


def test_an_unknown_campaign_is_a_404(api):
    assert api.get("/api/v1/campaigns/999999").status_code == 404
    assert (
        api.patch("/api/v1/campaigns/999999", {}, content_type="application/json").status_code
        == 404
    )
    assert api.get(f"/api/v1/campaigns/{2**63}").status_code == 422


def test_openapi_documents_every_status_each_campaign_operation_answers(api):
    paths = api.get("/api/v1/openapi.json").json()["paths"]
    expected = {
        ("/api/v1/campaigns", "get"): {"200", "401", "422"},
        ("/api/v1/campaigns", "post"): {"201", "400", "401", "403", "409", "413", "422"},
        ("/api/v1/campaigns/{campaign_id}", "get"): {"200", "401", "404", "422"},
        ("/api/v1/campaigns/{campaign_id}", "patch"): {
            "200", "400", "401", "403", "404", "409", "413", "422",
        },
    }  # fmt: skip
    for (path, method), statuses in expected.items():
        responses = paths[path][method]["responses"]
        assert statuses <= set(responses), (path, method, set(responses))
        for status in statuses - {"200", "201"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorOut")


@pytest.mark.parametrize("values", [[5, 1], ["2026-01-01", "x"], "nope"])
def test_a_forged_cursor_is_a_422_not_a_server_error(api, system, values):
    make_campaigns(system, 3)
    cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
    response = api.get("/api/v1/campaigns", {"sort": "name", "cursor": cursor})
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]

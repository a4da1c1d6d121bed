"""/api/v1/routing-rules: list, create, get, patch, delete, reorder, capacity and
out-of-office; errors name the field; the person API's routing fields."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.routing.engine import route_people
from tandem.routing.models import RoutingRule
from tandem.routing.tests.factories import SYSTEM, person, rule, seller, team
from tandem.sla.models import SlaPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, manager):
    _, raw = create_token(actor=SYSTEM, user=manager, name="t", scope=TokenScope.READ_WRITE)

    def call(method: str, path: str, body=None):
        return getattr(client, method)(
            "/api/v1" + path,
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}"},
        )

    return call


def test_create_list_get_patch_delete_and_reorder(api):
    sales = team("DACH")
    r = api(
        "post",
        "/routing-rules",
        {
            "name": "DACH",
            "kind": "territory",
            "countries": ["de", "AT"],
            "postcode_ranges": [["10000", "19999"]],
            "team": "DACH",
        },
    )
    assert r.status_code == 201, r.content
    dach = r.json()
    assert dach["countries"] == ["DE", "AT"] and dach["team"] == {"id": sales.pk, "name": "DACH"}
    assert dach["position"] == 1
    assert dach["description"] == "Country DE, AT; postcode 10000–19999 → team DACH, in turn"
    fallback = api(
        "post", "/routing-rules", {"name": "Queue", "kind": "fallback", "team": sales.pk}
    ).json()
    assert fallback["position"] == 2
    assert [x["name"] for x in api("get", "/routing-rules").json()] == ["DACH", "Queue"]
    assert api("get", f"/routing-rules/{dach['id']}").json()["name"] == "DACH"

    patched = api(
        "patch", f"/routing-rules/{dach['id']}", {"regions": ["Berlin"], "is_active": False}
    )
    assert patched.status_code == 200
    assert patched.json()["regions"] == ["Berlin"] and patched.json()["countries"] == ["DE", "AT"]
    change = AuditEvent.objects.get(event="routing_rule_changed")
    assert change.changes == {"regions": [[], ["Berlin"]], "is_active": [True, False]}

    order = api("post", "/routing-rules/reorder", {"ids": [fallback["id"], dach["id"]]})
    assert [x["name"] for x in order.json()] == ["Queue", "DACH"]
    assert AuditEvent.objects.filter(event="routing_rules_reordered").count() == 1
    assert api("post", "/routing-rules/reorder", {"ids": [dach["id"]]}).status_code == 422

    assert api("delete", f"/routing-rules/{dach['id']}").status_code == 204
    assert list(RoutingRule.objects.values_list("name", flat=True)) == ["Queue"]
    assert AuditEvent.objects.filter(event="routing_rule_deleted").count() == 1
    assert api("get", f"/routing-rules/{dach['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "", "kind": "fallback", "team": None}, "name"),
        ({"name": "X", "kind": "nope"}, "kind"),
        ({"name": "X", "kind": "territory", "user": "sam"}, "countries"),
        ({"name": "X", "kind": "territory", "countries": ["Germany"], "user": "sam"}, "countries"),
        ({"name": "X", "kind": "territory", "countries": ["DE"]}, "team"),
        (
            {"name": "X", "kind": "territory", "postcode_ranges": [["9", "1"]], "user": "sam"},
            "postcode_ranges",
        ),
        (
            {"name": "X", "kind": "segment", "company_sizes": ["huge"], "user": "sam"},
            "company_sizes",
        ),
        (
            {
                "name": "X",
                "kind": "segment",
                "custom_field": "nope",
                "custom_values": ["a"],
                "user": "sam",
            },
            "custom_field",
        ),
        ({"name": "X", "kind": "round_robin"}, "team"),
        ({"name": "X", "kind": "fallback", "user": "nobody"}, "user"),
        ({"name": "X", "kind": "fallback", "team": "No such team"}, "team"),
    ],
)
def test_bad_rules_are_422_naming_the_field(api, salesperson, body, field):
    r = api("post", "/routing-rules", body)
    assert r.status_code == 422, r.content
    assert field in str(r.json()), r.json()
    assert not RoutingRule.objects.exists()


def test_capacity_and_out_of_office(api, salesperson):
    r = api("put", f"/routing-rules/capacity/{salesperson.pk}", {"max_open_handoffs": 5})
    assert r.status_code == 200 and r.json()["max_open_handoffs"] == 5
    away = api(
        "post",
        "/routing-rules/out-of-office",
        {
            "user": "sam",
            "starts_on": "2099-01-01",
            "ends_on": "2099-01-05",
            "note": "Holiday",
        },
    )
    assert away.status_code == 201, away.content
    listed = {a["user"]["username"]: a for a in api("get", "/routing-rules/availability").json()}
    assert listed["sam"]["out_of_office"][0]["note"] == "Holiday"
    bad = api(
        "post",
        "/routing-rules/out-of-office",
        {"user": "sam", "starts_on": "2099-01-05", "ends_on": "2099-01-01"},
    )
    assert bad.status_code == 422 and "ends_on" in str(bad.json())
    # A user given as a NUL-bearing name, superscript digits or a number past 64 bits is
    # "no such user" naming `user`, never a database error.
    for who in ["sa\x00m", "²", "9" * 30]:
        odd = api(
            "post",
            "/routing-rules/out-of-office",
            {"user": who, "starts_on": "2099-01-01", "ends_on": "2099-01-05"},
        )
        assert odd.status_code == 422 and "user" in str(odd.json()), (who, odd.content)
    assert api("delete", f"/routing-rules/out-of-office/{away.json()['id']}").status_code == 204
    assert (
        api(
            "put", f"/routing-rules/capacity/{salesperson.pk}", {"max_open_handoffs": -1}
        ).status_code
        == 422
    )


def test_person_api_says_who_got_the_lead_by_which_rule_and_when_it_is_due(api, client, manager):
    ann = seller("ann")
    rule("Berlin", "territory", countries=["DE"], user=ann.pk)
    SlaPolicy.objects.create(name="Any lead", minutes=60)
    p = person("Berlin", country="DE")
    before = api("get", f"/people/{p.pk}").json()
    assert before["routed_by"] is None and before["sla_due_at"] is None
    at = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    route_people(actor=SYSTEM, person_ids=[p.pk], reasons={p.pk: "Score"}, now=at)
    body = api("get", f"/people/{p.pk}").json()
    assert body["owner"] == {"id": ann.pk, "username": "ann"}
    assert body["routed_by"] == "Berlin"
    assert body["routed_at"].startswith("2026-03-02T10:00:00")
    assert body["sla_due_at"].startswith("2026-03-02T11:00:00")
    assert body["first_contact_at"] is None
    client.force_login(manager)
    page = client.get(f"/people/{p.pk}/")
    assert "Routed to Ann by rule Berlin" in page.content.decode()

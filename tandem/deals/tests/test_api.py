"""/api/v1/deals, /api/v1/pipelines and /api/v1/deal-reasons as a client uses them: the
shape, filters, paging and totals, the moves, and refusals that name the field."""

from __future__ import annotations

import pytest

from tandem.accounts.actor import Actor
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.deals import pipelines, services
from tandem.deals.models import CloseReason, Deal, DealStageChange
from tandem.people import services as people
from tandem.people.models import Person

pytestmark = pytest.mark.django_db


def caller(client, system, user, scope: str | None = None):
    kw = {"scope": scope} if scope else {}
    _, raw = create_token(actor=system, user=user, name="t", **kw)
    auth = {"Authorization": f"Bearer {raw}"}

    def call(method: str, path: str, body=None):
        kwargs = {"content_type": "application/json", "headers": auth}
        if body is not None:
            kwargs["data"] = body
        return getattr(client, method)("/api/v1" + path, **kwargs)

    return call


@pytest.fixture
def api(client, system, manager):
    return caller(client, system, manager)


def loc(response) -> list[list]:
    assert response.status_code == 422, response.content
    return [e["loc"] for e in response.json()["detail"]]


def stages() -> list:
    return list(pipelines.default_pipeline().stages.order_by("position"))


@pytest.fixture(autouse=True)
def defaults():
    pipelines.ensure_defaults()


def test_open_a_deal_in_another_currency_move_it_and_win_it(api, system, manager):
    ann = people.create_person(actor=system, data={"first_name": "Ann"}, stage="sal")
    acme = people.create_company(actor=system, data={"name": "Acme"})
    response = api(
        "post",
        "/deals",
        {
            "name": "Acme pilot",
            "company": acme.pk,
            "amount": "1000.50",
            "currency": "usd",
            "exchange_rate": "0.9",
            "expected_close_on": "2027-03-31",
            "contacts": [{"person": ann.pk, "role": "champion", "is_primary": True}],
        },
    )
    assert response.status_code == 201, response.content
    deal = response.json()
    assert (deal["amount"], deal["currency"], deal["amount_base"]) == ("1000.50", "USD", "900.45")
    assert deal["exchange_rate"] == "0.90000000"
    assert deal["stage"]["name"] == "Qualification" and deal["weighted_amount"] == "90.05"
    assert deal["owner"] == {"id": manager.pk, "username": "max"}
    assert deal["company"] == {"id": acme.pk, "name": "Acme"}
    assert deal["contacts"] == [
        {"person_id": ann.pk, "name": "Ann", "role": "champion", "is_primary": True}
    ]
    assert deal["url"].endswith(f"/deals/{deal['id']}/")
    assert Person.objects.get(pk=ann.pk).stage == "opportunity"

    moved = api("post", f"/deals/{deal['id']}/stage", {"stage": stages()[2].pk, "note": "Offer"})
    assert moved.status_code == 200 and moved.json()["stage"]["name"] == "Proposal"
    fit = CloseReason.objects.get(kind="won", name="Product fit")
    won = api(
        "post",
        f"/deals/{deal['id']}/close",
        {"status": "won", "reason_id": fit.pk, "competitor": "Globex"},
    )
    assert won.status_code == 200, won.content
    body = won.json()
    assert body["status"] == "won" and body["close_reason"] == {"id": fit.pk, "name": "Product fit"}
    assert body["stage"]["name"] == "Proposal" and body["weighted_amount"] == "900.45"
    assert Person.objects.get(pk=ann.pk).stage == "customer"
    history = api("get", f"/deals/{deal['id']}/stages").json()["items"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("", "open"),
        ("open", "open"),
        ("open", "won"),
    ]
    reopened = api("post", f"/deals/{deal['id']}/reopen")
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"


def test_list_filters_pages_and_totals(api, manager, salesperson, system):
    max_, sam = Actor.for_user(manager), Actor.for_user(salesperson)
    proposal = stages()[2]
    big = services.create_deal(
        actor=max_, data={"name": "Big one", "amount": "10000", "stage": proposal.pk}
    )
    services.create_deal(actor=sam, data={"name": "Small one", "amount": "100"})
    lost = services.create_deal(actor=sam, data={"name": "Gone", "amount": "50"})
    price = CloseReason.objects.get(kind="lost", name="Price")
    services.close_deal(actor=sam, deal=lost, status="lost", reason_id=price.pk)

    everything = api("get", "/deals").json()
    assert [d["name"] for d in everything["items"]] == ["Gone", "Small one", "Big one"]
    assert everything["count"] == 3
    assert everything["totals"] == {
        "open_amount": "10100.00",
        "weighted_amount": "5010.00",
        "won_amount": "0.00",
    }
    names = lambda query: [d["name"] for d in api("get", "/deals?" + query).json()["items"]]  # noqa: E731
    assert names(f"owner={salesperson.username}") == ["Gone", "Small one"]
    assert names("status=open&amount_min=500") == ["Big one"]
    assert names(f"stage={proposal.pk}") == ["Big one"]
    assert names("q=small") == ["Small one"]
    assert names("sort=oldest&status=open") == ["Big one", "Small one"]
    first = api("get", "/deals?limit=2").json()
    assert first["next_cursor"]
    rest = api("get", f"/deals?limit=2&cursor={first['next_cursor']}").json()
    assert [d["name"] for d in rest["items"]] == ["Big one"] and rest["next_cursor"] is None
    assert big.pk == rest["items"][0]["id"]


def test_list_refuses_unknown_references_naming_the_parameter(api):
    assert loc(api("get", "/deals?owner=nobody")) == [["query", "owner"]]
    assert loc(api("get", "/deals?pipeline=99999")) == [["query", "pipeline"]]
    assert loc(api("get", "/deals?person=99999")) == [["query", "person"]]
    assert loc(api("get", "/deals?amount_min=10&amount_max=5")) == [["query", "amount_max"]]
    assert api("get", "/deals?cursor=nonsense").status_code == 422


def test_an_id_past_64_bits_in_the_path_is_named_not_an_overflow(api):
    huge = 2**80
    assert loc(api("patch", f"/pipelines/{huge}/stages/1", {"name": "X"})) == [
        ["path", "pipeline_id"]
    ]
    assert loc(api("get", f"/deals/{huge}")) == [["path", "deal_id"]]
    assert loc(api("delete", f"/deals/1/contacts/{huge}")) == [["path", "person_id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "D", "amount": "-5"}, "amount"),
        ({"name": "D", "amount": "1.234"}, "amount"),
        ({"name": "D", "currency": "USD"}, "exchange_rate"),
        ({"name": "D", "currency": "USD", "exchange_rate": 0}, "exchange_rate"),
        ({"name": "D", "currency": "EURO"}, "currency"),
        ({"name": "D", "stage": 987654}, "stage"),
        ({"name": "D", "company": 987654}, "company"),
        ({"name": "D", "owner": "nobody"}, "owner"),
        ({"name": ""}, "name"),
        ({"name": "D", "colour": "red"}, "colour"),
        ({"name": "D", "contacts": [{"person": 987654}]}, "person"),
    ],
)
def test_bad_input_names_the_field(api, body, field):
    locs = loc(api("post", "/deals", body))
    assert any(field in path for path in locs), locs
    assert not Deal.objects.exists()


def test_closing_lost_without_a_reason_names_reason_id(api, manager):
    deal = services.create_deal(actor=Actor.for_user(manager), data={"name": "D"})
    assert loc(api("post", f"/deals/{deal.pk}/close", {"status": "lost"})) == [
        ["body", "payload", "reason_id"]
    ]
    assert loc(api("post", f"/deals/{deal.pk}/close", {"status": "maybe"}))[0][-1] == "status"
    assert api("post", "/deals/987654/close", {"status": "won"}).status_code == 404


def test_patch_changes_fields_and_moves_and_refuses_null_for_required(api, manager):
    deal = services.create_deal(actor=Actor.for_user(manager), data={"name": "D"})
    response = api(
        "patch", f"/deals/{deal.pk}", {"name": "Renamed", "stage": stages()[1].pk, "amount": 7}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["stage"]["name"]) == ("Renamed", "Discovery")
    assert response.json()["amount_base"] == "7.00"
    assert loc(api("patch", f"/deals/{deal.pk}", {"name": None}))[0][-1] == "name"
    assert loc(api("patch", f"/deals/{deal.pk}", {"status": "won"}))[0][-1] == "status"


def test_contacts_are_added_and_removed(api, manager, system):
    ann = people.create_person(actor=system, data={"first_name": "Ann"}, stage="lead")
    deal = services.create_deal(actor=Actor.for_user(manager), data={"name": "D"})
    added = api("post", f"/deals/{deal.pk}/contacts", {"person": ann.pk, "role": "user"})
    assert added.status_code == 200 and added.json()["contacts"][0]["role"] == "user"
    assert Person.objects.get(pk=ann.pk).stage == "opportunity"
    assert api("delete", f"/deals/{deal.pk}/contacts/{ann.pk}").json()["contacts"] == []
    assert api("delete", f"/deals/{deal.pk}/contacts/{ann.pk}").status_code == 404


def test_delete(api, manager):
    deal = services.create_deal(actor=Actor.for_user(manager), data={"name": "D"})
    assert api("delete", f"/deals/{deal.pk}").status_code == 204
    assert not Deal.objects.filter(pk=deal.pk).exists()
    assert api("get", f"/deals/{deal.pk}").status_code == 404


# --- permissions per rule --------------------------------------------------------------------


def test_a_salesperson_works_on_their_own_deals_only(client, system, salesperson, manager):
    sam = caller(client, system, salesperson)
    own = sam("post", "/deals", {"name": "Mine"}).json()
    theirs = services.create_deal(actor=Actor.for_user(manager), data={"name": "Max's"})
    assert sam("patch", f"/deals/{own['id']}", {"name": "Mine too"}).status_code == 200
    assert sam("post", f"/deals/{own['id']}/stage", {"stage": stages()[1].pk}).status_code == 200
    assert sam("post", f"/deals/{own['id']}/close", {"status": "won"}).status_code == 200
    assert sam("get", f"/deals/{theirs.pk}").status_code == 200  # everyone reads
    for method, path, body in [
        ("patch", f"/deals/{theirs.pk}", {"name": "x"}),
        ("post", f"/deals/{theirs.pk}/stage", {"stage": stages()[1].pk}),
        ("post", f"/deals/{theirs.pk}/close", {"status": "won"}),
        ("delete", f"/deals/{theirs.pk}", None),
        ("post", "/pipelines", {"name": "Mine"}),
        ("post", "/deal-reasons", {"kind": "lost", "name": "Mood"}),
    ]:
        assert sam(method, path, body).status_code == 403, (method, path)
    # Nor does a salesperson open a deal for a colleague: owners are set by managers.
    assert loc(sam("post", "/deals", {"name": "For Max", "owner": manager.pk})) == [
        ["body", "payload", "owner"]
    ]
    assert Deal.objects.get(pk=theirs.pk).name == "Max's"


def test_a_marketer_reads_but_does_not_write(client, system, marketer, manager):
    mia = caller(client, system, marketer)
    deal = services.create_deal(actor=Actor.for_user(manager), data={"name": "D"})
    assert mia("get", "/deals").status_code == 200
    assert mia("get", "/pipelines").status_code == 200
    assert mia("get", "/deal-reasons?kind=lost").status_code == 200
    assert mia("post", "/deals", {"name": "Mine"}).status_code == 403
    assert mia("patch", f"/deals/{deal.pk}", {"name": "x"}).status_code == 403
    assert mia("post", f"/deals/{deal.pk}/close", {"status": "won"}).status_code == 403


def test_a_read_only_token_writes_nothing(client, system, manager):
    ro = caller(client, system, manager, scope="read")
    assert ro("get", "/deals").status_code == 200
    assert ro("post", "/deals", {"name": "D"}).status_code == 403


def test_a_manager_changes_anyones_deal(api, salesperson, system):
    deal = services.create_deal(actor=Actor.for_user(salesperson), data={"name": "Sam's"})
    assert api("patch", f"/deals/{deal.pk}", {"owner": "max"}).status_code == 200
    assert api("post", f"/deals/{deal.pk}/close", {"status": "won"}).status_code == 200
    assert AuditEvent.objects.filter(event="deal_closed", target_id=deal.pk).exists()


# --- pipelines and reasons ---------------------------------------------------------------------


def test_pipelines_are_set_up_over_the_api(api):
    listed = api("get", "/pipelines").json()["items"]
    assert [p["name"] for p in listed] == ["Sales"] and listed[0]["is_default"]
    made = api(
        "post",
        "/pipelines",
        {
            "name": "Renewals",
            "is_default": True,
            "stages": [{"name": "Due", "probability": 70}, {"name": "Quoted", "probability": 90}],
        },
    )
    assert made.status_code == 201, made.content
    renewals = made.json()
    assert [(s["name"], s["probability"]) for s in renewals["stages"]] == [
        ("Due", 70),
        ("Quoted", 90),
    ]
    assert [p["is_default"] for p in api("get", "/pipelines").json()["items"]] == [False, True]
    added = api(
        "post", f"/pipelines/{renewals['id']}/stages", {"name": "Signed", "probability": 95}
    )
    assert [s["name"] for s in added.json()["stages"]] == ["Due", "Quoted", "Signed"]
    due = renewals["stages"][0]["id"]
    changed = api(
        "patch", f"/pipelines/{renewals['id']}/stages/{due}", {"probability": 60, "position": 25}
    )
    assert [s["name"] for s in changed.json()["stages"]] == ["Quoted", "Due", "Signed"]
    assert loc(api("post", "/pipelines", {"name": "renewals"})) == [["body", "payload", "name"]]
    assert loc(api("patch", f"/pipelines/{renewals['id']}", {"is_default": False}))[0][-1] == (
        "is_default"
    )
    assert loc(api("patch", f"/pipelines/{renewals['id']}", {"is_active": False}))[0][-1] == (
        "is_active"
    )
    assert api(
        "patch", f"/pipelines/{renewals['id']}/stages/987654", {"name": "x"}
    ).status_code == (404)


def test_archiving_a_stage_with_open_deals_needs_somewhere_to_move_them(api, manager):
    first, second = stages()[0], stages()[1]
    deal = services.create_deal(actor=Actor.for_user(manager), data={"name": "D"})
    path = f"/pipelines/{first.pipeline_id}/stages/{first.pk}"
    assert loc(api("patch", path, {"is_active": False})) == [
        ["body", "payload", "move_open_deals_to"]
    ]
    done = api("patch", path, {"is_active": False, "move_open_deals_to": second.pk})
    assert done.status_code == 200, done.content
    assert Deal.objects.get(pk=deal.pk).stage == second
    assert DealStageChange.objects.filter(deal=deal, from_stage=first, to_stage=second).exists()


def test_reason_lists_are_edited_over_the_api(api):
    lost = api("get", "/deal-reasons?kind=lost").json()["items"]
    assert "No budget" in [r["name"] for r in lost]
    made = api("post", "/deal-reasons", {"kind": "lost", "name": "Legal review"})
    assert made.status_code == 201 and made.json()["kind"] == "lost"
    retired = api("patch", f"/deal-reasons/{made.json()['id']}", {"is_active": False})
    assert retired.json()["is_active"] is False
    names = [r["name"] for r in api("get", "/deal-reasons?kind=lost").json()["items"]]
    assert "Legal review" not in names
    assert loc(api("post", "/deal-reasons", {"kind": "lost", "name": "price"})) == [
        ["body", "payload", "name"]
    ]
    assert loc(api("patch", f"/deal-reasons/{made.json()['id']}", {"kind": "won"}))[0][-1] == "kind"


def test_the_deal_schemas_leave_other_apps_bodies_in_the_openapi_document_alone():
    """Components are named by class: a deal schema named like another app's (StageIn,
    ReasonIn) would replace it, and the people and send-back endpoints would document
    the deal bodies."""
    from tandem.api import api as ninja_api

    doc = ninja_api.get_openapi_schema(path_prefix="/api/v1")
    components = doc["components"]["schemas"]

    def body(path: str) -> set[str]:
        ref = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        return set(components[ref["$ref"].rsplit("/", 1)[-1]]["properties"])

    assert body("/api/v1/people/{person_id}/stage") == {"to", "reason"}
    assert "key" in body("/api/v1/send-back-reasons")
    assert body("/api/v1/deal-reasons") == {"kind", "name", "position", "is_active"}
    assert "probability" in body("/api/v1/pipelines/{pipeline_id}/stages")


def test_a_retried_create_with_an_idempotency_key_opens_one_deal(client, system, manager):
    """A client that lost the answer retries: with the same Idempotency-Key and body it
    gets the first answer back and no second deal (nor a second audit event); the key
    with another body is refused on the header; a refused create keeps no key."""
    _, raw = create_token(actor=system, user=manager, name="t")

    def post(body, key=None):
        headers = {"Authorization": f"Bearer {raw}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return client.post("/api/v1/deals", body, content_type="application/json", headers=headers)

    body = {"name": "Acme pilot", "amount": "1000"}
    first = post(body, key="deal-1")
    again = post({"amount": "1000", "name": "Acme pilot"}, key="deal-1")  # same, keys reordered
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Deal.objects.count() == 1
    deal = Deal.objects.get()
    assert AuditEvent.objects.filter(event="deal_created", target_id=str(deal.pk)).count() == 1
    assert (
        client.get(f"/api/v1/deals/{deal.pk}", headers={"Authorization": f"Bearer {raw}"}).json()
        == first.json()
    )  # the stored answer reads as a fresh one does

    other = post({"name": "Globex pilot", "amount": "5"}, key="deal-1")
    assert loc(other) == [["header", "Idempotency-Key"]]
    assert Deal.objects.count() == 1

    refused = post({"name": "Initech", "amount": "-1"}, key="deal-2")
    assert any("amount" in path for path in loc(refused))
    fixed = post({"name": "Initech", "amount": "1"}, key="deal-2")  # a corrected retry runs
    assert fixed.status_code == 201 and Deal.objects.count() == 2

    assert post(body).status_code == post(body).status_code == 201  # no key: each opens one
    assert Deal.objects.count() == 4
    assert loc(post(body, key=" ")) == [["header", "Idempotency-Key"]]

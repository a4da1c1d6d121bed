"""GET /api/v1/attribution as a client uses it: the issue's JSON shape, every model
adding up, and bad parameters answered 422 naming the field (never a 500)."""

from __future__ import annotations

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.attribution.engine import MODELS
from tandem.attribution.tests.factories import at, campaign, deal, person, touch
from tandem.campaigns.models import CampaignCost
from tandem.deals.models import DealStatus

PERIOD = "from=2026-11-01&to=2026-11-30"


@pytest.fixture
def api(client, system, marketer):
    _, raw = create_token(actor=system, user=marketer, name="t", scope=TokenScope.READ)
    auth = {"Authorization": f"Bearer {raw}"}

    def get(query: str):
        return client.get("/api/v1/attribution?" + query, headers=auth)

    return get


@pytest.fixture
def guide(system):
    """The guide's campaign brings Ann (a form fill) and a fair booth scan; she wins 1200.00.
    A deal without any touch wins 100.00; an open deal of 300.00 came from the fair."""
    guide, fair = campaign(system, "guide", "Pricing guide"), campaign(system, "fair", "Fair")
    ann = person(system, "Ann", lead_at=at("2026-10-01"))
    touch(ann, at("2026-10-01"), guide, channel="web", source="newsletter")
    touch(ann, at("2026-10-20"), fair, kind="booth_scan", channel="event")
    deal([ann], amount="1200.00", created=at("2026-11-02"), closed=at("2026-11-20"))
    deal(
        [person(system, "Nobody")],
        amount="100.00",
        created=at("2026-11-03"),
        closed=at("2026-11-04"),
    )
    bo = person(system, "Bo")
    touch(bo, at("2026-11-05"), fair, kind="event_visit", channel="event")
    deal([bo], amount="300.00", created=at("2026-11-06"), status=DealStatus.OPEN)
    CampaignCost.objects.create(campaign=guide, spent_on="2026-11-02", amount="400.00")
    return guide, fair


def test_first_touch_in_the_issues_shape(api, guide):
    response = api(f"model=first_touch&{PERIOD}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total_revenue"] == "1300.00" and body["total_pipeline"] == "300.00"
    assert body["items"] == [
        {
            "key": str(guide[0].pk),
            "label": "Pricing guide",
            "revenue": "1200.00",
            "pipeline": "0.00",
            "deals_won": 1.0,
            "deals_open": 0.0,
            "cost": "400.00",
            "roi": 2.0,
        },
        {
            "key": str(guide[1].pk),
            "label": "Fair",
            "revenue": "0.00",
            "pipeline": "300.00",
            "deals_won": 0.0,
            "deals_open": 1.0,
            "cost": None,
            "roi": None,
        },
        {
            "key": "unattributed",
            "label": "Unattributed (no touchpoint)",
            "revenue": "100.00",
            "pipeline": "0.00",
            "deals_won": 1.0,
            "deals_open": 0.0,
            "cost": None,
            "roi": None,
        },
    ]


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("group_by", ["campaign", "channel", "source", "kind"])
def test_every_model_and_grouping_adds_up(api, guide, model, group_by):
    body = api(f"model={model}&group_by={group_by}&{PERIOD}&half_life=3.5").json()
    assert sum(float(i["revenue"]) * 100 for i in body["items"]) == pytest.approx(130000)
    assert sum(float(i["pipeline"]) for i in body["items"]) == pytest.approx(300.0)
    assert body["model"] == model and body["group_by"] == group_by


def test_groupings_name_channels_sources_and_kinds(api, guide):
    by_channel = api(f"model=linear&group_by=channel&{PERIOD}").json()["items"]
    assert {i["key"]: i["revenue"] for i in by_channel} == {
        "web": "600.00",
        "event": "600.00",
        "unattributed": "100.00",
    }
    by_source = api(f"model=last_touch&group_by=source&{PERIOD}").json()["items"]
    assert [(i["key"], i["label"], i["revenue"]) for i in by_source] == [
        ("none", "No source", "1200.00"),
        ("unattributed", "Unattributed (no touchpoint)", "100.00"),
    ]
    by_kind = api(f"model=last_touch&group_by=kind&{PERIOD}").json()["items"]
    assert by_kind[0]["label"] == "Booth scan"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("model=best", "model"),
        ("group_by=owner", "group_by"),
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-11-30&to=2026-11-01", "to"),
        ("half_life=0", "half_life"),
        ("half_life=-3", "half_life"),
        ("half_life=nan", "half_life"),
        ("half_life=99999", "half_life"),
        ("pipeline=abc", "pipeline"),
        ("owner=0", "owner"),
    ],
)
def test_bad_parameters_name_the_field(api, query, field):
    response = api(query)
    assert response.status_code == 422, response.content
    assert [field] in [e["loc"][1:] for e in response.json()["detail"]], response.json()


def test_filters_by_pipeline_and_owner(api, guide, marketer):
    assert api(f"model=linear&{PERIOD}&owner={marketer.pk}").json()["total_revenue"] == "0.00"
    other = api(f"model=linear&{PERIOD}&pipeline=999999").json()
    assert other["total_revenue"] == "0.00" and other["total_pipeline"] == "0.00"
    # Costs are the campaign's, whichever deals are looked at.
    assert [(i["label"], i["revenue"], i["cost"]) for i in other["items"]] == [
        ("Pricing guide", "0.00", "400.00")
    ]


def test_needs_a_caller(client):
    assert client.get("/api/v1/attribution").status_code == 401


@pytest.mark.parametrize("role", ["admin", "manager", "marketer", "salesperson"])
def test_every_role_may_read_the_report(client, system, users_by_role, role):
    _, raw = create_token(actor=system, user=users_by_role[role], name="t")
    response = client.get(
        "/api/v1/attribution?model=markov", headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 200, response.content

"""Each model on a small case whose cents were worked out by hand.

Ann's deal: created 2026-11-10 12:00, won 2026-11-20 for 1000.00. Her touches:
    t1 2026-10-20 (21 days before the deal)  campaign C1  - the first touch
    t2 2026-10-27 (14 days)                  campaign C2  - last one before she became a lead (10-28)
    t3 2026-11-03 (7 days)                   campaign C3
    t4 2026-11-10 (at the deal's creation)   campaign C4  - the opportunity-creation touch
    t5 2026-11-15 (after creation)           campaign C1  - the close touch, full_path only
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tandem.attribution.engine import MODELS, attribute
from tandem.attribution.tests.factories import at, campaign, deal, person, touch
from tandem.campaigns.models import CampaignCost
from tandem.deals.models import DealStatus

NOV = {"start": dt.date(2026, 11, 1), "end": dt.date(2026, 11, 30)}


@pytest.fixture
def ann_deal(system):
    c = {k: campaign(system, k) for k in ("c1", "c2", "c3", "c4")}
    ann = person(system, lead_at=at("2026-10-28"))
    touch(ann, at("2026-10-20"), c["c1"])
    touch(ann, at("2026-10-27"), c["c2"])
    touch(ann, at("2026-11-03"), c["c3"])
    touch(ann, at("2026-11-10"), c["c4"])
    touch(ann, at("2026-11-15"), c["c1"])
    deal([ann], amount="1000.00", created=at("2026-11-10"), closed=at("2026-11-20"))
    return c


def revenue(report) -> dict[str, Decimal]:
    by_label = {i.label: i.revenue for i in report.items if i.revenue}
    assert sum(by_label.values()) == report.total_revenue
    return by_label


HAND = {
    "first_touch": {"C1": "1000.00"},
    "last_touch": {"C4": "1000.00"},
    "linear": {"C1": "250.00", "C2": "250.00", "C3": "250.00", "C4": "250.00"},
    # 40 first, 40 last, 20 over t2 and t3.
    "u_shaped": {"C1": "400.00", "C2": "100.00", "C3": "100.00", "C4": "400.00"},
    # 30 first (t1), 30 lead creation (t2), 30 opportunity (t4), 10 on t3.
    "w_shaped": {"C1": "300.00", "C2": "300.00", "C3": "100.00", "C4": "300.00"},
    # 22.5 on t1, t2, t4 and the close touch t5 (C1 again), 10 on t3.
    "full_path": {"C1": "450.00", "C2": "225.00", "C3": "100.00", "C4": "225.00"},
    # Weights 1/8, 1/4, 1/2, 1 (ages 21, 14, 7, 0 days): 100000 cents * 1/15, 2/15, 4/15,
    # 8/15 = 6666.67, 13333.33, 26666.67, 53333.33; the two .67 remainders get a cent.
    "time_decay": {"C1": "66.67", "C2": "133.33", "C3": "266.67", "C4": "533.33"},
}


@pytest.mark.parametrize("model", list(HAND))
def test_each_rule_model_gives_the_hand_computed_cents(ann_deal, model):
    report = attribute(model=model, **NOV)
    assert report.total_revenue == Decimal("1000.00")
    assert revenue(report) == {k: Decimal(v) for k, v in HAND[model].items()}


def test_time_decay_half_life_is_configurable(ann_deal):
    # Half-life 14 days: weights 2^-1.5, 2^-1, 2^-0.5, 1 over ages 21, 14, 7, 0; of 100000
    # cents that is 13807.12, 19526.21, 27614.24, 39052.43: floors add up to 99999 and the
    # largest remainder (.43, C4) gets the last cent.
    report = attribute(model="time_decay", half_life_days=14, **NOV)
    assert revenue(report) == {
        "C1": Decimal("138.07"),
        "C2": Decimal("195.26"),
        "C3": Decimal("276.14"),
        "C4": Decimal("390.53"),
    }


def test_linear_rounding_adds_up_and_the_earliest_key_gets_the_tie(system):
    c = [campaign(system, f"k{i}") for i in range(3)]
    bob = person(system, "Bob", lead_at=at("2026-10-01"))
    for i, camp in enumerate(c):
        touch(bob, at(f"2026-11-0{i + 1}"), camp)
    deal([bob], amount="100.00", created=at("2026-11-05"), closed=at("2026-11-06"))
    got = revenue(attribute(model="linear", **NOV))
    assert got == {"K0": Decimal("33.34"), "K1": Decimal("33.33"), "K2": Decimal("33.33")}


def test_w_shaped_degenerate_cases(system):
    """One touch takes all; two touches with the lead touch first: 30+30 and 30, the 10
    spread over both anchors = 65/35."""
    a, b = campaign(system, "a"), campaign(system, "b")
    one = person(system, "One", lead_at=at("2026-10-01"))
    touch(one, at("2026-10-02"), a)
    deal([one], amount="10.00", created=at("2026-11-02"), closed=at("2026-11-03"))
    two = person(system, "Two", lead_at=at("2026-10-05"))
    touch(two, at("2026-10-04"), a)
    touch(two, at("2026-10-20"), b)
    deal([two], amount="100.00", created=at("2026-11-02"), closed=at("2026-11-03"))
    assert revenue(attribute(model="w_shaped", **NOV)) == {
        "A": Decimal("75.00"),
        "B": Decimal("35.00"),
    }
    # U-shaped with two touches: 50/50.
    assert revenue(attribute(model="u_shaped", **NOV)) == {
        "A": Decimal("60.00"),
        "B": Decimal("50.00"),
    }


def test_touches_of_every_contact_count_offline_ones_included(system):
    a, b = campaign(system, "fair"), campaign(system, "web")
    ann, ben = person(system, "Ann"), person(system, "Ben")
    touch(ann, at("2026-10-01"), a, kind="booth_scan")
    touch(ben, at("2026-10-02"), b, kind="form_fill")
    touch(ben, at("2026-11-25"), b)  # after the deal's creation: not counted
    deal([ann, ben], amount="80.00", created=at("2026-11-10"), closed=at("2026-11-12"))
    assert revenue(attribute(model="linear", **NOV)) == {
        "FAIR": Decimal("40.00"),
        "WEB": Decimal("40.00"),
    }
    by_kind = attribute(model="first_touch", group_by="kind", **NOV)
    assert [(i.key, i.label, i.revenue) for i in by_kind.items] == [
        ("booth_scan", "Booth scan", Decimal("80.00"))
    ]


def test_markov_splits_by_removal_effects(system):
    """Paths: won [C1, C2] 300.00, lost [C1], won [C2] 90.00. From the start 2/3 go to C1,
    1/3 to C2; C1 goes on to C2 half the time; C2 always converts. P = 2/3. Without C1:
    1/3 (effect 0.5); without C2: 0 (effect 1). The first deal: 300 split 0.5 : 1."""
    c1, c2 = campaign(system, "c1"), campaign(system, "c2")
    p1, p2, p3 = person(system, "A"), person(system, "B"), person(system, "C")
    touch(p1, at("2026-10-01"), c1)
    touch(p1, at("2026-10-02"), c2)
    touch(p2, at("2026-10-01"), c1)
    touch(p3, at("2026-10-03"), c2)
    deal([p1], amount="300.00", created=at("2026-11-02"), closed=at("2026-11-10"))
    deal(
        [p2],
        amount="500.00",
        created=at("2026-11-02"),
        closed=at("2026-11-10"),
        status=DealStatus.LOST,
    )
    deal([p3], amount="90.00", created=at("2026-11-02"), closed=at("2026-11-10"))
    report = attribute(model="markov", **NOV)
    assert report.removal_effects == {str(c1.pk): pytest.approx(0.5), str(c2.pk): 1.0}
    assert revenue(report) == {"C1": Decimal("100.00"), "C2": Decimal("290.00")}
    assert report.total_revenue == Decimal("390.00")


def test_unattributed_pipeline_costs_and_roi(system, ann_deal):
    lonely = person(system, "Lonely")
    deal([lonely], amount="50.00", created=at("2026-11-02"), closed=at("2026-11-03"))
    opener = person(system, "Open")
    touch(opener, at("2026-11-04"), ann_deal["c3"])
    deal([opener], amount="200.00", created=at("2026-11-05"), status=DealStatus.OPEN)
    # Outside the period: neither revenue nor pipeline.
    deal([opener], amount="999.00", created=at("2026-10-05"), closed=at("2026-10-06"))
    spare = campaign(system, "spare", "Spare")
    CampaignCost.objects.create(campaign=ann_deal["c1"], spent_on="2026-11-05", amount="200.00")
    CampaignCost.objects.create(campaign=ann_deal["c1"], spent_on="2026-10-05", amount="999.00")
    CampaignCost.objects.create(campaign=spare, spent_on="2026-11-05", amount="10.00")

    report = attribute(model="first_touch", **NOV)
    items = {i.label: i for i in report.items}
    assert report.total_revenue == Decimal("1050.00")
    assert report.total_pipeline == Decimal("200.00")
    assert report.items[-1].key == "unattributed"
    assert items["Unattributed (no touchpoint)"].revenue == Decimal("50.00")
    assert items["Unattributed (no touchpoint)"].deals_won == 1
    assert items["C1"].cost == Decimal("200.00") and items["C1"].roi == 4.0
    assert items["C1"].deals_won == 1.0
    assert items["C3"].pipeline == Decimal("200.00") and items["C3"].deals_open == 1.0
    assert items["Spare"].cost == Decimal("10.00") and items["Spare"].roi == -1.0
    assert items["C3"].cost is None and items["C3"].roi is None
    assert report.deals_won == 2 and report.deals_open == 1


def test_deals_won_are_credited_fractions(ann_deal):
    items = {i.label: i.deals_won for i in attribute(model="linear", **NOV).items}
    assert items == {"C1": 0.25, "C2": 0.25, "C3": 0.25, "C4": 0.25}


def test_models_list_has_the_issues_keys():
    assert list(MODELS) == [
        "first_touch",
        "last_touch",
        "linear",
        "u_shaped",
        "w_shaped",
        "full_path",
        "time_decay",
        "markov",
    ]

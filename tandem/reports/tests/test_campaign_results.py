"""A campaign's results on its page (issue 21, point 4; J4): the MQLs it brought, what
sales sent back, its open pipeline, attributed revenue, cost and ROI, for a period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from tandem.accounts.actor import Actor
from tandem.campaigns import budgets
from tandem.campaigns.extensions import campaign_sections
from tandem.campaigns.models import Campaign
from tandem.campaigns.services import create_campaign, record_touchpoint
from tandem.deals.models import Deal, DealContact, DealStatus, Pipeline, PipelineStage
from tandem.people import services as people
from tandem.people.models import Person, Stage
from tandem.reports import campaign_results
from tandem.routing import handoffs
from tandem.routing.reasons import ensure_default_reasons
from tandem.routing.tests.handoff_factories import routed_lead

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
TZ = dt.UTC


def at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 10, 0, tzinfo=TZ)


def lead(name: str) -> Person:
    return people.create_person(actor=SYSTEM, data={"last_name": name}, stage=Stage.LEAD)


def touch(person: Person, campaign: Campaign, when: dt.datetime) -> None:
    record_touchpoint(person_id=person.pk, kind="form_fill", campaign=campaign, occurred_at=when)


def to_mql(person: Person, when: dt.datetime) -> None:
    people.change_stage(person=person, to_stage=Stage.MQL, actor=SYSTEM, changed_at=when)


def deal(name: str, contact: Person, created: dt.datetime, amount: str, **extra) -> Deal:
    pipeline, _ = Pipeline.objects.get_or_create(name="Sales", defaults={"is_default": True})
    stage, _ = PipelineStage.objects.get_or_create(
        pipeline=pipeline, name="Proposal", defaults={"probability": 50}
    )
    made = Deal.objects.create(
        name=name,
        pipeline=pipeline,
        stage=stage,
        amount=Decimal(amount),
        amount_base=Decimal(amount),
        created_at=created,
        **extra,
    )
    DealContact.objects.create(deal=made, person=contact, is_primary=True)
    return made


@pytest.fixture
def guide(salesperson) -> Campaign:
    """The guide campaign in October with its MQLs, a send-back, deals and costs."""
    ensure_default_reasons()  # a flushed database (an earlier transactional test) has none
    guide = create_campaign(actor=SYSTEM, name="Guide", starts_on=dt.date(2026, 10, 1))
    other = create_campaign(actor=SYSTEM, name="Other")
    ada, bea, cem, dov = lead("Ada"), lead("Bea"), lead("Cem"), lead("Dov")
    touch(ada, guide, at(10, 5))
    to_mql(ada, at(10, 10))  # counts: touched, then MQL in the period
    to_mql(bea, at(10, 3))
    touch(bea, guide, at(10, 5))  # touched only after reaching MQL: not counted
    touch(cem, other, at(10, 5))
    to_mql(cem, at(10, 10))  # another campaign's
    touch(dov, guide, at(9, 1))
    to_mql(dov, at(9, 2))  # before the period
    # a lead the guide brought, routed and sent back for no budget
    with time_machine.travel(at(10, 12), tick=False):
        eli, _ = routed_lead(salesperson, last_name="Eli")
    touch(eli, guide, at(10, 11))
    with time_machine.travel(at(10, 14), tick=False):
        handoffs.send_back_handoff(
            actor=Actor.for_user(salesperson), person=eli, reason="no_budget"
        )
    # open pipeline: Ada's deal after her touch counts; Bea's deal before her touch does not
    deal("Ada's deal", ada, at(10, 20), "1000.10")
    deal("Bea's early deal", bea, at(10, 4), "500.00")
    deal("Ada's won deal", ada, at(10, 21), "3000.00", status=DealStatus.WON, closed_at=at(10, 25))
    for day, amount in ((2, "400.00"), (30, "100.00")):
        budgets.add_campaign_cost(
            actor=SYSTEM,
            campaign=guide,
            data={"spent_on": dt.date(2026, 10, day), "amount": amount},
        )
    budgets.add_campaign_cost(
        actor=SYSTEM, campaign=guide, data={"spent_on": dt.date(2026, 11, 2), "amount": "77.00"}
    )
    return guide


def test_the_figures_of_a_period(guide):
    r = campaign_results.campaign_results(guide, date_from="2026-10-01", date_to="2026-10-31")
    assert r["mqls"] == 2  # Ada, and Eli (touched on the 11th, MQL on the 12th)
    assert r["send_backs"]["total"] == 1
    assert [(s["key"], s["count"]) for s in r["send_backs"]["reasons"]] == [("no_budget", 1)]
    assert "sent_back_reason=" in r["send_backs"]["reasons"][0]["url"]
    assert r["pipeline"] == {"deals": 1, "amount": Decimal("1000.10")}
    assert r["cost"] == Decimal("500.00")  # November's line is outside the period


def test_the_period_defaults_to_the_campaign_start(guide):
    with time_machine.travel(at(11, 15), tick=False):
        r = campaign_results.campaign_results(guide)
    assert (r["period"].first, r["period"].last) == (dt.date(2026, 10, 1), dt.date(2026, 11, 15))
    assert r["cost"] == Decimal("577.00")


def test_roi_is_exact():
    assert campaign_results.roi(Decimal("3000.00"), Decimal("500.00")) == Decimal("5.0000")
    assert campaign_results.roi(Decimal("100.00"), Decimal("300.00")) == Decimal("-0.6667")
    assert campaign_results.roi(Decimal("100.00"), Decimal("0.00")) is None
    assert campaign_results.roi(None, Decimal("10.00")) is None


def test_revenue_and_roi_under_the_model_picked(guide):
    assert set(campaign_results.attribution_models()) >= {"first_touch", "linear", "markov"}
    for model in campaign_results.attribution_models():
        r = campaign_results.campaign_results(
            guide, date_from="2026-10-01", date_to="2026-10-31", model=model
        )
        # Ada's won deal has only the guide's touch: every model credits it all
        assert r["revenue"]["revenue"] == Decimal("3000.00"), model
        assert r["roi"] == Decimal("5.0000"), model


def test_the_section_is_on_the_campaign_page_for_everyone(client, guide, salesperson):
    assert [s.key for s in campaign_sections()][:1] == ["results"]
    client.force_login(salesperson)
    page = client.get(
        reverse("campaigns:detail", args=[guide.pk]), {"from": "2026-10-01", "to": "2026-10-31"}
    )
    assert page.status_code == 200
    text = page.text
    assert 'id="campaign-results"' in text
    assert "1000.10" in text and "500.00" in text
    assert "3000.00" in text and "500.0 %" in text  # revenue and ROI under the default model
    assert '<option value="markov"' in text  # the model picker


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-11-01", "to": "2026-10-01"}, "from"),
        ({"to": "soon"}, "to"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01", "to": "2026-10-31"}, "from"),
    ],
)
def test_a_bad_period_is_named_and_the_page_still_answers(client, guide, marketer, query, field):
    client.force_login(marketer)
    page = client.get(reverse("campaigns:detail", args=[guide.pk]), query)
    assert page.status_code == 200
    assert f'id="results-err-{field}"' in page.text


def test_an_unknown_model_is_named(client, guide, marketer):
    with pytest.raises(ValidationError) as refused:
        campaign_results.campaign_results(guide, model="astrology")
    assert "model" in refused.value.message_dict
    client.force_login(marketer)
    page = client.get(reverse("campaigns:detail", args=[guide.pk]), {"model": "astrology"})
    assert page.status_code == 200 and 'id="results-err-model"' in page.text


def test_another_model_changes_the_credit_on_the_page(client, guide, marketer):
    other = Campaign.objects.get(name="Other")
    ada = Person.objects.get(last_name="Ada")
    touch(ada, other, at(10, 15))  # a second touch before the won deal, after the guide's
    client.force_login(marketer)
    url = reverse("campaigns:detail", args=[guide.pk])
    query = {"from": "2026-10-01", "to": "2026-10-31"}
    first = campaign_results.campaign_results(guide, model="first_touch", **_period(query))
    last = campaign_results.campaign_results(guide, model="last_touch", **_period(query))
    assert (first["revenue"]["revenue"], last["revenue"]["revenue"]) == (
        Decimal("3000.00"),
        Decimal("0.00"),
    )
    assert "3000.00" in client.get(url, {**query, "model": "first_touch"}).text
    assert last["roi"] == Decimal("-1.0000")


def _period(query: dict[str, str]) -> dict[str, str]:
    return {"date_from": query["from"], "date_to": query["to"]}

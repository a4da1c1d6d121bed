"""What the deal services promise: the stage history, the funnel moves of contacts, the
money in the base currency, close reasons, and errors that name the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.core.models import AuditEvent
from tandem.deals import pipelines, services
from tandem.deals.models import CloseReason, Deal, DealContact, DealStageChange, PipelineStage
from tandem.people import services as people
from tandem.people.models import Person, StageChange

pytestmark = pytest.mark.django_db


def person(system, stage: str = "sal", **data) -> Person:
    return people.create_person(
        actor=system, data={"first_name": "Ann", "last_name": "Lee", **data}, stage=stage
    )


def stages() -> list[PipelineStage]:
    return list(pipelines.default_pipeline().stages.order_by("position"))


def reason(kind: str, name: str) -> CloseReason:
    pipelines.ensure_default_reasons()
    return CloseReason.objects.get(kind=kind, name=name)


def history(deal) -> list[tuple[str | None, str | None, str, str]]:
    return [
        (
            c.from_stage.name if c.from_stage else None,
            c.to_stage.name if c.to_stage else None,
            c.from_status,
            c.to_status,
        )
        for c in DealStageChange.objects.filter(deal=deal).order_by("changed_at", "id")
    ]


def events(deal) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="deals.deal", target_id=deal.pk)
        .order_by("id")
        .values_list("event", flat=True)
    )


def test_a_fresh_install_has_a_default_pipeline_and_both_reason_lists():
    pipeline = pipelines.ensure_defaults()
    assert pipeline.is_default and pipeline.name == "Sales"
    assert [(s.name, s.probability) for s in stages()] == [
        ("Qualification", 10),
        ("Discovery", 20),
        ("Proposal", 50),
        ("Negotiation", 75),
    ]
    assert "No budget" in [r.name for r in pipelines.active_reasons("lost")]
    assert "Product fit" in [r.name for r in pipelines.active_reasons("won")]
    assert services.default_pipeline() == pipeline  # made once


def test_opening_a_deal_moves_sal_and_earlier_contacts_to_opportunity_not_later_ones(
    system, salesperson
):
    sam = Actor.for_user(salesperson)
    sal, mql, lead = person(system, "sal"), person(system, "mql"), person(system, "lead")
    customer, disqualified = person(system, "customer"), person(system, "disqualified")
    deal = services.create_deal(
        actor=sam,
        data={
            "name": "Acme rollout",
            "amount": "12000.00",
            "contacts": [
                {"person": p.pk, "role": "champion", "is_primary": p is sal}
                for p in (sal, mql, lead, customer, disqualified)
            ],
        },
    )
    stage_of = {p.pk: Person.objects.get(pk=p.pk).stage for p in (sal, mql, lead, customer)}
    assert stage_of == {
        sal.pk: "opportunity",
        mql.pk: "opportunity",
        lead.pk: "opportunity",
        customer.pk: "customer",
    }
    assert Person.objects.get(pk=disqualified.pk).stage == "disqualified"
    move = StageChange.objects.get(person=sal, to_stage="opportunity")
    assert move.reason == "Deal “Acme rollout” opened" and move.from_stage == "sal"
    assert deal.owner == salesperson and deal.stage == stages()[0]
    assert history(deal) == [(None, "Qualification", "", "open")]
    assert DealContact.objects.get(deal=deal, person=sal).is_primary


def test_winning_moves_every_contact_to_customer_and_keeps_the_stage_it_was_won_from(
    system, manager
):
    max_ = Actor.for_user(manager)
    ann = person(system, "sal")
    deal = services.create_deal(actor=max_, data={"name": "Acme", "amount": "100"})
    services.add_contact(actor=max_, deal=deal, person_id=ann.pk, role="decision_maker")
    assert Person.objects.get(pk=ann.pk).stage == "opportunity"
    proposal = stages()[2]
    services.move_deal(actor=max_, deal=deal, stage_id=proposal.pk, note="Sent the offer")
    won = services.close_deal(
        actor=max_,
        deal=deal,
        status="won",
        reason_id=reason("won", "Product fit").pk,
        competitor="Globex",
    )
    assert Person.objects.get(pk=ann.pk).stage == "customer"
    assert (won.status, won.stage, won.close_reason.name, won.competitor) == (
        "won",
        proposal,
        "Product fit",
        "Globex",
    )
    assert won.closed_at is not None
    assert history(deal) == [
        (None, "Qualification", "", "open"),
        ("Qualification", "Proposal", "open", "open"),
        ("Proposal", "Proposal", "open", "won"),
    ]
    assert DealStageChange.objects.filter(deal=deal).order_by("id")[1].note == "Sent the offer"
    assert events(deal) == [
        "deal_created",
        "deal_contact_added",
        "deal_moved",
        "deal_closed",
    ]


def test_reopening_goes_back_to_the_stage_it_was_closed_from_and_clears_the_reason(manager):
    max_ = Actor.for_user(manager)
    deal = services.create_deal(actor=max_, data={"name": "Acme", "stage": stages()[1].pk})
    services.close_deal(actor=max_, deal=deal, status="lost", reason_id=reason("lost", "Price").pk)
    opened = services.reopen_deal(actor=max_, deal=deal)
    assert (opened.status, opened.stage.name, opened.close_reason, opened.closed_at) == (
        "open",
        "Discovery",
        None,
        None,
    )
    assert history(deal)[-1] == ("Discovery", "Discovery", "lost", "open")
    again = services.reopen_deal
    with pytest.raises(ValidationError) as err:
        again(actor=max_, deal=deal)
    assert "status" in err.value.message_dict
    assert events(deal)[-1] == "deal_reopened"


@pytest.mark.parametrize(
    ("amount", "currency", "rate", "base"),
    [
        ("100.00", "EUR", None, Decimal("100.00")),
        ("100.00", "usd", "0.92", Decimal("92.00")),
        ("0.05", "USD", "0.5", Decimal("0.03")),  # 0.025 rounds half up
        ("1234.56", "GBP", "1.16789012", Decimal("1441.83")),
        ("999999999999.99", "JPY", "0.0061", Decimal("6100000000.00")),  # 6099999999.99994
    ],
)
def test_amount_base_is_amount_times_rate_rounded_to_the_cent(
    manager, amount, currency, rate, base
):
    data = {"name": "Deal", "amount": amount, "currency": currency}
    if rate is not None:
        data["exchange_rate"] = rate
    deal = services.create_deal(actor=Actor.for_user(manager), data=data)
    deal.refresh_from_db()
    assert deal.amount_base == base
    assert deal.currency == currency.upper()
    assert deal.exchange_rate == (Decimal(rate) if rate else Decimal("1"))


def test_changing_the_amount_or_rate_works_the_base_amount_out_again(manager):
    max_ = Actor.for_user(manager)
    deal = services.create_deal(
        actor=max_, data={"name": "D", "amount": "100", "currency": "USD", "exchange_rate": "0.9"}
    )
    deal = services.update_deal(actor=max_, deal=deal, data={"amount": "200"})
    assert deal.amount_base == Decimal("180.00")  # the same currency keeps its rate
    deal = services.update_deal(actor=max_, deal=deal, data={"exchange_rate": "0.95"})
    assert deal.amount_base == Decimal("190.00")
    with pytest.raises(ValidationError) as err:
        services.update_deal(actor=max_, deal=deal, data={"currency": "GBP"})
    assert list(err.value.message_dict) == ["exchange_rate"]
    deal = services.update_deal(actor=max_, deal=deal, data={"currency": "EUR"})
    assert (deal.exchange_rate, deal.amount_base) == (Decimal("1"), Decimal("200.00"))
    changed = AuditEvent.objects.filter(event="deal_changed").order_by("id").last()
    assert changed.changes["amount_base"] == ["190.00", "200.00"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.001"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "1e20"}, "amount"),
        ({"currency": "euro"}, "currency"),
        ({"currency": "USD"}, "exchange_rate"),
        ({"currency": "USD", "exchange_rate": "0"}, "exchange_rate"),
        ({"currency": "USD", "exchange_rate": "-2"}, "exchange_rate"),
        ({"currency": "USD", "exchange_rate": "0.123456789"}, "exchange_rate"),
        ({"currency": "EUR", "exchange_rate": "1.1"}, "exchange_rate"),
        ({"company": 999999}, "company"),
        ({"owner": 999999}, "owner"),
        ({"pipeline": 999999}, "pipeline"),
        ({"stage": 999999}, "stage"),
        ({"expected_close_on": "next week"}, "expected_close_on"),
        ({"contacts": [{"person": 999999}]}, "contacts.0.person"),
        ({"contacts": [{"person": 1, "role": "boss"}]}, "contacts.0.role"),
        ({"created_at": "2999-01-01T00:00:00+00:00"}, "created_at"),
        ({"status": "won"}, "status"),
    ],
)
def test_bad_input_is_refused_naming_the_field(manager, system, data, field):
    if data.get("contacts") and data["contacts"][0]["person"] == 1:
        data = {"contacts": [{"person": person(system).pk, "role": "boss"}]}
    with pytest.raises(ValidationError) as err:
        services.create_deal(actor=Actor.for_user(manager), data={"name": "Deal", **data})
    assert field in err.value.message_dict
    assert not Deal.objects.exists()


def test_a_stage_of_another_pipeline_is_refused_on_create(manager):
    max_ = Actor.for_user(manager)
    other = pipelines.create_pipeline(actor=max_, data={"name": "Renewals"})
    with pytest.raises(ValidationError) as err:
        services.create_deal(actor=max_, data={"name": "D", "stage": other.stages.first().pk})
    assert "stage" in err.value.message_dict


def test_moving_to_a_stage_of_another_pipeline_moves_the_deal_there(manager):
    max_ = Actor.for_user(manager)
    other = pipelines.create_pipeline(
        actor=max_, data={"name": "Renewals", "stages": [{"name": "Due", "probability": 60}]}
    )
    deal = services.create_deal(actor=max_, data={"name": "D"})
    moved = services.move_deal(actor=max_, deal=deal, stage_id=other.stages.get().pk)
    assert (moved.pipeline, moved.stage.name) == (other, "Due")


def test_lost_needs_a_reason_of_the_lost_list_and_won_does_not(manager):
    max_ = Actor.for_user(manager)
    deal = services.create_deal(actor=max_, data={"name": "D"})
    for reason_id, field in [
        (None, "reason_id"),
        (reason("won", "Price").pk, "reason_id"),  # a won reason for a loss
        (987654, "reason_id"),
    ]:
        with pytest.raises(ValidationError) as err:
            services.close_deal(actor=max_, deal=deal, status="lost", reason_id=reason_id)
        assert field in err.value.message_dict
    retired = pipelines.update_reason(
        actor=max_, reason=reason("lost", "Timing"), data={"is_active": False}
    )
    with pytest.raises(ValidationError):
        services.close_deal(actor=max_, deal=deal, status="lost", reason_id=retired.pk)
    with pytest.raises(ValidationError) as err:
        services.close_deal(actor=max_, deal=deal, status="maybe", reason_id=None)
    assert "status" in err.value.message_dict
    won = services.close_deal(actor=max_, deal=deal, status="won", reason_id=None)
    assert won.status == "won" and won.close_reason is None
    with pytest.raises(ValidationError) as err:
        services.close_deal(actor=max_, deal=deal, status="won", reason_id=None)
    assert "status" in err.value.message_dict


def test_closed_at_in_the_past_is_kept_but_not_before_the_deal_opened(manager):
    max_ = Actor.for_user(manager)
    opened = timezone.now() - dt.timedelta(days=30)
    deal = services.create_deal(actor=max_, data={"name": "D", "created_at": opened})
    with pytest.raises(ValidationError) as err:
        services.close_deal(
            actor=max_,
            deal=deal,
            status="won",
            reason_id=None,
            closed_at=opened - dt.timedelta(days=1),
        )
    assert "closed_at" in err.value.message_dict
    when = opened + dt.timedelta(days=10)
    won = services.close_deal(actor=max_, deal=deal, status="won", reason_id=None, closed_at=when)
    assert won.closed_at == when
    assert DealStageChange.objects.filter(deal=deal, to_status="won").get().changed_at == when


def test_a_closed_deal_is_not_moved(manager):
    max_ = Actor.for_user(manager)
    deal = services.create_deal(actor=max_, data={"name": "D"})
    services.close_deal(actor=max_, deal=deal, status="won", reason_id=None)
    with pytest.raises(ValidationError) as err:
        services.move_deal(actor=max_, deal=deal, stage_id=stages()[1].pk)
    assert "stage" in err.value.message_dict


def test_contacts_are_added_changed_and_removed_one_primary_at_a_time(system, manager):
    max_ = Actor.for_user(manager)
    ann, bob = person(system, "customer"), person(system, "customer", first_name="Bob")
    deal = services.create_deal(actor=max_, data={"name": "D"})
    services.add_contact(actor=max_, deal=deal, person_id=ann.pk, role="champion", is_primary=True)
    services.add_contact(actor=max_, deal=deal, person_id=bob.pk, role="user", is_primary=True)
    assert {c.person_id: c.is_primary for c in deal.contacts.all()} == {
        ann.pk: False,
        bob.pk: True,
    }
    services.add_contact(actor=max_, deal=deal, person_id=ann.pk, role="decision_maker")
    assert deal.contacts.get(person=ann).role == "decision_maker"
    services.remove_contact(actor=max_, deal=deal, person_id=ann.pk)
    assert list(deal.contacts.values_list("person_id", flat=True)) == [bob.pk]
    with pytest.raises(ValidationError) as err:
        services.remove_contact(actor=max_, deal=deal, person_id=ann.pk)
    assert "person" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.add_contact(actor=max_, deal=deal, person_id=ann.pk, role="king")
    assert "role" in err.value.message_dict
    assert events(deal).count("deal_contact_added") == 3
    assert events(deal)[-1] == "deal_contact_removed"


def test_a_contact_added_to_a_won_deal_becomes_a_customer(system, manager):
    max_ = Actor.for_user(manager)
    deal = services.create_deal(actor=max_, data={"name": "D"})
    services.close_deal(actor=max_, deal=deal, status="won", reason_id=None)
    ann = person(system, "mql")
    services.add_contact(actor=max_, deal=deal, person_id=ann.pk, role="user")
    assert Person.objects.get(pk=ann.pk).stage == "customer"


def test_a_contact_owned_by_someone_else_still_moves_on_the_deal_s_behalf(
    system, salesperson, other_salesperson
):
    """Sam may not change Sol's lead's stage himself, but opening the deal is the decision."""
    sol_lead = person(system, "sal", owner=other_salesperson)
    deal = services.create_deal(
        actor=Actor.for_user(salesperson),
        data={"name": "Shared", "contacts": [{"person": sol_lead.pk, "role": "user"}]},
    )
    move = StageChange.objects.get(person=sol_lead, to_stage="opportunity")
    assert move.actor_id is None and "Sam Sales" in move.actor_label
    assert deal.contacts.count() == 1


def test_deleting_a_deal_keeps_its_audit_trail(manager):
    max_ = Actor.for_user(manager)
    deal = services.create_deal(actor=max_, data={"name": "Mistake", "amount": "5"})
    pk = deal.pk
    services.delete_deal(actor=max_, deal=deal)
    assert not Deal.objects.filter(pk=pk).exists()
    gone = AuditEvent.objects.get(event="deal_deleted", target_id=pk)
    assert gone.changes["name"] == ["Mistake", None]


def test_update_moves_an_open_deal_when_given_a_stage(manager):
    max_ = Actor.for_user(manager)
    deal = services.create_deal(actor=max_, data={"name": "D"})
    deal = services.update_deal(actor=max_, deal=deal, data={"name": "D2", "stage": stages()[3].pk})
    assert (deal.name, deal.stage.name) == ("D2", "Negotiation")
    assert history(deal)[-1] == ("Qualification", "Negotiation", "open", "open")
    with pytest.raises(ValidationError) as err:
        services.update_deal(actor=max_, deal=deal, data={"close_reason": 1})
    assert "close_reason" in err.value.message_dict


def test_a_deal_recorded_afterwards_moves_its_contacts_at_its_own_dates(system, manager):
    """Imports and the demo record old deals: the funnel's velocity must read their dates."""
    max_ = Actor.for_user(manager)
    ann = person(system, "sal")
    StageChange.objects.filter(person=ann).update(changed_at=timezone.now() - dt.timedelta(days=90))
    Person.objects.filter(pk=ann.pk).update(stage_changed_at=timezone.now() - dt.timedelta(days=90))
    opened = timezone.now() - dt.timedelta(days=60)
    won_at = timezone.now() - dt.timedelta(days=20)
    deal = services.create_deal(
        actor=max_,
        data={
            "name": "Old",
            "created_at": opened,
            "contacts": [{"person": ann.pk, "role": "user"}],
        },
    )
    services.close_deal(actor=max_, deal=deal, status="won", reason_id=None, closed_at=won_at)
    moves = dict(StageChange.objects.filter(person=ann).values_list("to_stage", "changed_at"))
    assert moves["opportunity"] == opened and moves["customer"] == won_at
    assert history(deal)[0] == (None, "Qualification", "", "open")
    assert DealStageChange.objects.filter(deal=deal).first().changed_at == opened

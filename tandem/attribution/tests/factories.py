"""Deals with contacts and touchpoints at chosen times, for the attribution tests.

People and touchpoints go through their apps' services; deals are written as rows
(the deals app's services are another helper's work in this issue, and these tests
need deals created, won and closed at fixed moments).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tandem.accounts.actor import Actor
from tandem.campaigns import services as campaigns
from tandem.campaigns.models import Campaign, Touchpoint
from tandem.deals.models import Deal, DealContact, DealStatus, Pipeline, PipelineStage
from tandem.people import services as people
from tandem.people.models import Person

UTC = dt.UTC


def at(day: str, hour: int = 12) -> dt.datetime:
    """2026-11-10 -> that day at `hour`:00 UTC."""
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def campaign(system: Actor, key: str, name: str | None = None) -> Campaign:
    return campaigns.create_campaign(actor=system, name=name or key.upper(), key=key)


def person(system: Actor, name: str = "Ann", *, lead_at: dt.datetime | None = None) -> Person:
    """A person who became a lead at `lead_at` (created then)."""
    return people.create_person(
        actor=system, data={"first_name": name, "last_name": "Lovelace"}, created_at=lead_at
    )


def touch(
    who: Person,
    when: dt.datetime,
    camp: Campaign | None = None,
    *,
    kind: str = "form_fill",
    channel: str = "",
    source: str = "",
) -> Touchpoint:
    return campaigns.record_touchpoint(
        person_id=who.pk,
        kind=kind,
        occurred_at=when,
        campaign=camp,
        channel=channel,
        utm={"utm_source": source} if source else None,
    )


def pipeline() -> tuple[Pipeline, PipelineStage]:
    pipe, _ = Pipeline.objects.get_or_create(
        name="Attribution tests", defaults={"is_default": True}
    )
    stage, _ = PipelineStage.objects.get_or_create(pipeline=pipe, name="Proposal", position=1)
    return pipe, stage


def deal(
    contacts: list[Person],
    *,
    amount: str,
    created: dt.datetime,
    status: str = DealStatus.WON,
    closed: dt.datetime | None = None,
    **extra: Any,
) -> Deal:
    pipe, stage = pipeline()
    made = Deal.objects.create(
        name=f"Deal {amount}",
        pipeline=pipe,
        stage=stage,
        status=status,
        amount=Decimal(amount),
        amount_base=Decimal(amount),
        created_at=created,
        closed_at=closed if status != DealStatus.OPEN else None,
        **extra,
    )
    for i, contact in enumerate(contacts):
        DealContact.objects.create(deal=made, person=contact, is_primary=i == 0)
    return made

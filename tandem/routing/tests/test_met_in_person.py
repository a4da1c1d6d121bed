"""J4's follow-up half: a lead met at a booth and not sold on the spot gets a contact task,
due by the trade-show SLA, for the salesperson who met them; once, and never for a
customer or a lead already routed (the engine gives those theirs)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tandem.accounts.actor import Actor
from tandem.campaigns.services import record_touchpoint
from tandem.followups.models import Task
from tandem.people import services as people
from tandem.sla.services import create_sla_policy

pytestmark = pytest.mark.django_db(transaction=True)
FAIR = dt.datetime(2026, 3, 5, 14, 0, tzinfo=dt.UTC)  # a Thursday afternoon


def _lead(name: str, stage: str = "lead"):
    return people.create_person(
        actor=Actor.system("test"), data={"first_name": name, "last_name": "Visitor"}, stage=stage
    )


@time_machine.travel(FAIR, tick=False)
def test_a_booth_lead_not_sold_gets_one_contact_task_due_by_its_sla(salesperson):
    create_sla_policy(
        actor=Actor.system("test"),
        data={"name": "Trade-show lead", "touchpoint_kind": "booth_scan", "amount": 5,
              "unit": "days"},
    )  # fmt: skip
    lead, customer = _lead("Bea"), _lead("Carl", stage="customer")
    for person in (lead, customer):
        record_touchpoint(person_id=person.pk, kind="booth_scan", credited_to_id=salesperson.pk)
    task = Task.objects.get(person=lead)
    assert task.owner == salesperson and task.kind == "call" and task.status == "open"
    assert "met at the booth" in task.title
    # 5 business days from Thursday 14:00 (UTC, Mon-Fri 9-17): the next Thursday 14:00.
    assert task.due_at == FAIR + dt.timedelta(days=7)
    assert not Task.objects.filter(person=customer).exists()  # sold: no follow-up
    record_touchpoint(person_id=lead.pk, kind="page_visit")  # touched again: no second task
    assert Task.objects.filter(person=lead).count() == 1


@time_machine.travel(FAIR, tick=False)
def test_without_an_sla_the_task_is_due_within_the_week(salesperson):
    lead = _lead("Dora")
    record_touchpoint(person_id=lead.pk, kind="store_visit", credited_to_id=salesperson.pk)
    task = Task.objects.get(person=lead)
    assert "met in the store" in task.title
    assert task.due_at == FAIR + dt.timedelta(days=7)

"""A call, email or meeting a person logs after the lead was routed is its first contact; a
note, an automatic (system) email, or contact from before the routing is not."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from tandem.accounts.actor import Actor
from tandem.people.activities import log_activity
from tandem.routing.first_contact import record_first_contacts
from tandem.routing.models import Handoff
from tandem.routing.tests.escalate_factories import T0, routed

pytestmark = pytest.mark.django_db


def _fresh(handoff: Handoff) -> Handoff:
    return Handoff.objects.get(pk=handoff.pk)


def test_a_logged_call_is_the_first_contact(salesperson):
    handoff = routed(owner=salesperson)
    when = T0 + dt.timedelta(minutes=20)
    log_activity(
        actor=Actor.for_user(salesperson),
        kind="call",
        person=handoff.person,
        subject="Intro call",
        occurred_at=when,
    )
    assert _fresh(handoff).first_contact_at == when


@pytest.mark.parametrize("kind", ["email", "meeting"])
def test_emails_and_meetings_count_too(salesperson, kind):
    handoff = routed(owner=salesperson)
    when = T0 + dt.timedelta(hours=2)
    log_activity(
        actor=Actor.for_user(salesperson),
        kind=kind,
        person=handoff.person,
        body="x",
        occurred_at=when,
    )
    assert _fresh(handoff).first_contact_at == when


def test_a_note_is_not_contact(salesperson):
    handoff = routed(owner=salesperson)
    log_activity(
        actor=Actor.for_user(salesperson),
        kind="note",
        person=handoff.person,
        body="Looked them up on LinkedIn",
        occurred_at=T0 + dt.timedelta(minutes=5),
    )
    assert _fresh(handoff).first_contact_at is None


def test_an_automatic_email_never_counts(salesperson):
    handoff = routed(owner=salesperson)
    log_activity(
        actor=Actor.system("Welcome sequence"),
        kind="email",
        person=handoff.person,
        subject="Welcome!",
        occurred_at=T0 + dt.timedelta(minutes=1),
    )
    assert _fresh(handoff).first_contact_at is None


def test_contact_before_the_routing_does_not_count(salesperson):
    handoff = routed(owner=salesperson)
    log_activity(
        actor=Actor.for_user(salesperson),
        kind="call",
        person=handoff.person,
        body="Called last month",
        occurred_at=T0 - dt.timedelta(days=30),
    )
    assert _fresh(handoff).first_contact_at is None


def test_the_earliest_contact_wins_even_when_logged_later(salesperson):
    handoff = routed(owner=salesperson)
    actor = Actor.for_user(salesperson)
    later, earlier = T0 + dt.timedelta(hours=3), T0 + dt.timedelta(minutes=10)
    log_activity(actor=actor, kind="call", person=handoff.person, body="2nd", occurred_at=later)
    assert _fresh(handoff).first_contact_at == later
    # The morning call logged in the afternoon: the clock stopped in the morning.
    log_activity(actor=actor, kind="call", person=handoff.person, body="1st", occurred_at=earlier)
    assert _fresh(handoff).first_contact_at == earlier
    log_activity(
        actor=actor,
        kind="email",
        person=handoff.person,
        body="3rd",
        occurred_at=later + dt.timedelta(hours=1),
    )
    assert _fresh(handoff).first_contact_at == earlier


def test_only_the_current_handoff_is_stopped(salesperson, other_salesperson):
    old = routed(owner=other_salesperson, routed_at=T0 - dt.timedelta(days=40), is_current=False)
    current = routed(owner=salesperson, person=old.person)
    log_activity(
        actor=Actor.for_user(salesperson),
        kind="call",
        person=current.person,
        body="hi",
        occurred_at=T0 + dt.timedelta(minutes=30),
    )
    assert _fresh(current).first_contact_at == T0 + dt.timedelta(minutes=30)
    assert _fresh(old).first_contact_at is None


def test_a_rolled_back_activity_leaves_no_first_contact(salesperson):
    handoff = routed(owner=salesperson)
    with pytest.raises(RuntimeError), transaction.atomic():
        log_activity(
            actor=Actor.for_user(salesperson),
            kind="call",
            person=handoff.person,
            body="hi",
            occurred_at=T0 + dt.timedelta(minutes=30),
        )
        raise RuntimeError
    assert _fresh(handoff).first_contact_at is None


def test_activities_logged_now_by_an_api_token_count(salesperson):
    from tandem.accounts.services import create_token

    handoff = routed(owner=salesperson)
    token, _ = create_token(actor=Actor.system("t"), user=salesperson, name="phone system")
    with time_machine.travel(T0 + dt.timedelta(minutes=7), tick=False):
        log_activity(actor=Actor.for_token(token), kind="call", person=handoff.person, body="x")
    assert _fresh(handoff).first_contact_at == T0 + dt.timedelta(minutes=7)


def test_set_based_for_many_people_at_once(django_assert_max_num_queries, salesperson):
    from tandem.people.models import Activity

    handoffs = [routed(owner=salesperson, name=f"P{i}") for i in range(30)]
    Activity.objects.bulk_create(
        Activity(
            kind="call",
            person=h.person,
            occurred_at=T0 + dt.timedelta(minutes=i),
            actor=salesperson,
            actor_label="Sam",
            body="x",
        )
        for i, h in enumerate(handoffs)
    )
    with django_assert_max_num_queries(1):
        changed = record_first_contacts([h.person_id for h in handoffs])
    assert changed == 30
    assert [_fresh(h).first_contact_at for h in handoffs] == [
        T0 + dt.timedelta(minutes=i) for i in range(30)
    ]

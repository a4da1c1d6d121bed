"""Overrides: people decide. A reason is required, history is kept, expiry lapses by itself."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from tandem.accounts.actor import Actor
from tandem.people import services as people
from tandem.people.models import Person
from tandem.scoring import engine, services
from tandem.scoring.models import PersonScore, ScoreOverride
from tandem.scoring.queries import person_score
from tandem.scoring.tests.factories import active_rules, fit

START = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def lead(system):
    active_rules([fit("title", "contains", "Head of", 20)])
    person = people.create_person(actor=system, data={"last_name": "Lead", "title": "Head of IT"})
    engine.rescore_everyone()
    return person


def _fresh(person: Person) -> Person:
    return Person.objects.get(pk=person.pk)


@time_machine.travel(START, tick=False)
def test_override_sets_the_score_and_the_explanation_says_who_and_why(lead, marketer):
    services.override_score(
        actor=Actor.for_user(marketer),
        person=lead,
        kind="score",
        score=80,
        reason="Asked for a demo at the fair",
    )
    card = person_score(_fresh(lead))
    assert card.score == 80
    assert card.fit_score == 20  # the rules' view stays visible beside it
    assert (
        card.reasons[0].words
        == "Override: Score set to 80, by Mia Marketer: Asked for a demo at the fair"
    )
    assert "+20 Title contains 'Head of'" in [r.words for r in card.reasons]


def test_expired_override_lapses_by_itself(lead, manager):
    with time_machine.travel(START, tick=False):
        services.override_score(
            actor=Actor.for_user(manager),
            person=lead,
            kind="not_a_lead",
            reason="Student, not a buyer",
            expires_at=START + dt.timedelta(days=7),
        )
        assert PersonScore.objects.get(person=lead).score == 0
        assert person_score(_fresh(lead)).is_not_a_lead
    with time_machine.travel(START + dt.timedelta(days=7, minutes=1), tick=False):
        # Read before the worker's minute beat: already lapsed.
        card = person_score(_fresh(lead))
        assert card.score == 20 and not card.is_not_a_lead
        assert all(r.kind != "override" for r in card.reasons)
        # The worker's beat rewrites the stored row, so lists filter on the lapsed score.
        assert engine.lapse_overrides() == 1
        row = PersonScore.objects.get(person=lead)
        assert (row.score, row.is_not_a_lead, row.override_expires_at) == (20, False, None)
    assert ScoreOverride.objects.filter(person=lead).count() == 1  # history kept


@time_machine.travel(START, tick=False)
def test_a_new_override_ends_the_one_before_and_both_stay_in_history(lead, marketer):
    actor = Actor.for_user(marketer)
    services.override_score(actor=actor, person=lead, kind="grade", grade="b", reason="Fits")
    services.override_score(actor=actor, person=lead, kind="score", score=10, reason="Left")
    history = list(ScoreOverride.objects.filter(person=lead).order_by("created_at", "id"))
    assert [o.kind for o in history] == ["grade", "score"]
    assert history[0].ended_at is not None and history[1].ended_at is None
    assert history[0].grade == "B"
    services.end_override(actor=actor, person=lead, reason="Changed my mind")
    assert PersonScore.objects.get(person=lead).score == 20


@time_machine.travel(START, tick=False)
def test_override_needs_a_reason_and_a_future_expiry(lead, marketer):
    actor = Actor.for_user(marketer)
    with pytest.raises(ValidationError) as err:
        services.override_score(actor=actor, person=lead, kind="score", score=5, reason=" ")
    assert "reason" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.override_score(
            actor=actor, person=lead, kind="score", score=5, reason="x", expires_at=START
        )
    assert "expires_at" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.override_score(actor=actor, person=lead, kind="grade", grade="Z", reason="x")
    assert "grade" in err.value.message_dict


def test_only_the_owning_salesperson_may_override(system, salesperson, other_salesperson):
    active_rules([fit("title", "contains", "Head of", 20)])
    mine = people.create_person(actor=system, data={"last_name": "Mine", "owner": salesperson})
    nobodys = people.create_person(actor=system, data={"last_name": "Free"})
    services.override_score(
        actor=Actor.for_user(salesperson), person=mine, kind="grade", grade="A", reason="Mine"
    )
    for who, person in ((other_salesperson, mine), (salesperson, nobodys)):
        with pytest.raises(PermissionDenied):
            services.override_score(
                actor=Actor.for_user(who), person=person, kind="grade", grade="A", reason="x"
            )

"""Rule scoring: fit and engagement rules, decay over time, the explanation in words."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.campaigns.models import Campaign
from tandem.campaigns.services import record_touchpoint
from tandem.people import services as people
from tandem.people.models import Company, Person
from tandem.scoring import engine
from tandem.scoring.models import PersonScore
from tandem.scoring.queries import person_score
from tandem.scoring.tests.factories import active_rules, engagement, fit

pytestmark = pytest.mark.django_db(transaction=False)
START = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def _person(email: str = "", **fields) -> Person:
    return people.create_person(actor=Actor.system("test"), data=fields, email=email)


@time_machine.travel(START, tick=False)
def test_fit_rules_score_who_the_person_is():
    active_rules(
        [
            fit("title", "contains", "Head of", 20),
            fit("company.industry", "in", "Software, SaaS", 15),
            fit("company.size", "between", "51, 1000", 10),
            fit("email", "is_free_mail", "", -10),
            fit("country", "in", ["DE", "AT"], 5),
        ]
    )
    company = Company.objects.create(name="Acme", name_key="acme", industry="saas", size="201-1000")
    head = _person(
        first_name="Hana",
        last_name="Head",
        title="Head of Marketing",
        email="hana@acme.com",
        country="DE",
    )
    head.company = company
    head.save()
    free = _person(last_name="Free", title="Intern", email="free@gmail.com")
    engine.rescore_everyone()
    scores = {s.person_id: s for s in PersonScore.objects.all()}
    assert scores[head.pk].fit_score == 20 + 15 + 10 + 5
    assert scores[free.pk].fit_score == -10
    assert scores[free.pk].score == -10
    words = [r.words for r in person_score(Person.objects.get(pk=head.pk)).reasons]
    assert "+20 Title contains 'Head of'" in words
    assert "+15 Industry is one of 'Software', 'SaaS'" in words


def test_engagement_decays_and_says_how_much_it_was(django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False):
        campaign = Campaign.objects.create(name="Buyer's guide 2026", key="guide")
        active_rules(
            [engagement(15, touchpoint_kind="form_fill", campaign=campaign.pk, half_life_days=30)]
        )
        person = _person(last_name="Reader", email="reader@acme.com")
        with django_capture_on_commit_callbacks(execute=True):
            record_touchpoint(person_id=person.pk, kind="form_fill", campaign=campaign)
        assert PersonScore.objects.get(person=person).engagement_score == 15
    with time_machine.travel(START + dt.timedelta(days=9), tick=False):
        engine.rescore_everyone()
        card = person_score(Person.objects.get(pk=person.pk))
        assert card.engagement_score == 12  # 15 * 0.5 ** (9 / 30) = 12.2
        assert card.reasons[0].words == "+12 Form fill: Buyer's guide 2026, 9 days ago (was +15)"
    with time_machine.travel(START + dt.timedelta(days=300), tick=False):
        engine.rescore_everyone()
        assert PersonScore.objects.get(person=person).engagement_score == 0


@time_machine.travel(START, tick=False)
def test_a_cap_and_negative_points(django_capture_on_commit_callbacks):
    active_rules(
        [
            engagement(10, touchpoint_kind="page_visit", max_points=25),
            engagement(-5, source="activity", activity_kind="call"),
        ]
    )
    person = _person(last_name="Busy")
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):
            record_touchpoint(person_id=person.pk, kind="page_visit", page_url="https://x.test/p")
        people.log_activity(actor=Actor.system("t"), kind="call", person=person, body="No answer")
    row = PersonScore.objects.get(person=person)
    assert row.engagement_score == 25 - 5
    details = {item["points"]: item["detail"] for item in row.explanation}
    assert "capped at 25" in details[25]


@time_machine.travel(START, tick=False)
def test_custom_fields_and_company_custom_fields_are_rule_fields():
    active_rules(
        [fit("custom.seats", "between", "10, 100", 7), fit("custom.plan", "equals", "pro", 3)]
    )
    inside = _person(last_name="In", custom_fields={})
    Person.objects.filter(pk=inside.pk).update(custom_fields={"seats": 40, "plan": "Pro"})
    outside = _person(last_name="Out")
    Person.objects.filter(pk=outside.pk).update(custom_fields={"seats": 400})
    engine.rescore_everyone()
    assert PersonScore.objects.get(person=inside).fit_score == 10
    assert PersonScore.objects.get(person=outside).fit_score == 0


def test_now_is_the_scoring_time():
    assert engine.rescore_people([]) == 0
    assert timezone.now()

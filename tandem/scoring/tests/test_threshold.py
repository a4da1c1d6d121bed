"""Scoring tells the apps above it who reached the MQL threshold (routing moves them to MQL),
once per crossing; and a rescore follows the rules and words as they are now."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tandem.accounts.actor import Actor
from tandem.campaigns.models import Campaign
from tandem.campaigns.services import record_touchpoint, update_campaign
from tandem.people import services as people
from tandem.people.models import Person
from tandem.scoring import engine, extensions
from tandem.scoring.models import PersonScore
from tandem.scoring.queries import person_score
from tandem.scoring.services.overrides import override_score
from tandem.scoring.tests.factories import active_rules, engagement, fit

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def crossings():
    """What a ThresholdStep hears (as routing would), removed after the test."""
    heard: list[extensions.Crossing] = []
    extensions.register_threshold_crossed(
        extensions.ThresholdStep(key="test", crossed=heard.append)
    )
    yield heard
    extensions._threshold_steps.pop("test", None)


def _person(email: str, **fields) -> Person:
    return people.create_person(actor=Actor.system("test"), data=fields, email=email)


@pytest.mark.django_db(transaction=True)
@time_machine.travel(START, tick=False)
def test_a_form_fill_past_the_threshold_is_announced_once_after_the_commit(crossings):
    rules = active_rules(
        [fit("title", "contains", "Head of", 30), engagement(25, touchpoint_kind="form_fill")],
        threshold=50,
    )
    head = _person("hana@acme.com", last_name="Head", title="Head of Sales")
    other = _person("olaf@acme.com", last_name="Other", title="Intern")
    assert crossings == []  # 30 points: below 50
    record_touchpoint(person_id=head.pk, kind="form_fill")
    assert [c.scores for c in crossings] == [{head.pk: 55}]
    assert crossings[0].threshold == 50 and crossings[0].rule_set_version == rules.version
    # Still above: a second form fill and a full rescore announce nothing new.
    record_touchpoint(person_id=head.pk, kind="form_fill")
    engine.rescore_everyone()
    record_touchpoint(person_id=other.pk, kind="form_fill")  # 25: below
    assert len(crossings) == 1


@pytest.mark.django_db(transaction=True)
@time_machine.travel(START, tick=False)
def test_not_a_lead_keeps_a_person_from_being_announced(crossings):
    active_rules([engagement(60, touchpoint_kind="form_fill")], threshold=50)
    person = _person("nina@acme.com", last_name="Nolead")
    override_score(
        actor=Actor.system("test"), person=person, kind="not_a_lead", reason="Competitor"
    )
    record_touchpoint(person_id=person.pk, kind="form_fill")
    assert PersonScore.objects.get(pk=person.pk).is_not_a_lead
    assert crossings == []


@pytest.mark.django_db(transaction=True)
@time_machine.travel(START, tick=False)
def test_a_rescore_uses_the_newly_activated_rules_and_current_campaign_names(crossings):
    """Statements are kept per plan: a new rule set or a renamed campaign makes a new one."""
    campaign = Campaign.objects.create(name="Guide 2026", key="guide-2026")
    active_rules([engagement(10, touchpoint_kind="form_fill", campaign=campaign.pk)])
    person = _person("gus@acme.com", last_name="Guide")
    record_touchpoint(person_id=person.pk, kind="form_fill", campaign=campaign)
    assert PersonScore.objects.get(pk=person.pk).engagement_score == 10
    update_campaign(actor=Actor.system("test"), campaign=campaign, data={"name": "Guide 2027"})
    engine.rescore_everyone()  # the full rescore reads the words afresh
    assert "Guide 2027" in person_score(Person.objects.get(pk=person.pk)).reasons[0].words
    update_campaign(actor=Actor.system("test"), campaign=campaign, data={"name": "Guide 2028"})
    with time_machine.travel(START + dt.timedelta(seconds=61), tick=False):
        engine.rescore_people([person.pk])  # a batch: words at most a minute old
    assert "Guide 2028" in person_score(Person.objects.get(pk=person.pk)).reasons[0].words
    active_rules([engagement(40, touchpoint_kind="form_fill")])
    engine.rescore_people([person.pk])
    assert PersonScore.objects.get(pk=person.pk).engagement_score == 40


@pytest.mark.django_db(transaction=True)
@time_machine.travel(START, tick=False)
def test_a_full_rescore_in_several_ranges_scores_everyone_and_announces_each_once(
    crossings, monkeypatch
):
    """Ranges run side by side on PostgreSQL (a connection each), one after another on
    SQLite; either way every person is scored once and each crossing is heard once."""
    monkeypatch.setattr(engine, "RANGE_SIZE", 7)
    active_rules([fit("title", "contains", "Head", 60)], threshold=50)
    heads = [_person(f"h{i}@acme.com", last_name=f"H{i}", title="Head") for i in range(20)]
    others = [_person(f"o{i}@acme.com", last_name=f"O{i}", title="Clerk") for i in range(20)]
    PersonScore.objects.all().delete()
    crossings.clear()
    assert engine.rescore_everyone() == 40
    scores = dict(PersonScore.objects.values_list("pk", "score"))
    assert {p.pk: 60 for p in heads}.items() <= scores.items()
    assert all(scores[p.pk] == 0 for p in others)
    heard: dict[int, int] = {}
    for crossing in crossings:
        assert not set(crossing.scores) & set(heard)
        heard.update(crossing.scores)
    assert heard == {p.pk: 60 for p in heads}

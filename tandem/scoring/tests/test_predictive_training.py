"""Predictive scoring is measured on rows it did not see, refuses thin history, and leaks nothing."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tandem.accounts.actor import Actor
from tandem.core.models import AuditEvent
from tandem.scoring.models import ModelVersion, PersonPrediction
from tandem.scoring.predictive import dataset, training
from tandem.scoring.predictive.services import evaluate_model, score_people, train_model
from tandem.scoring.tests.history import make_history

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def history():
    return make_history(people=900, now=NOW)


def test_training_keeps_the_family_with_the_better_held_out_auc(history):
    version = train_model(actor=Actor.system("test"), now=NOW)
    family = version.evaluation["family_auc"]
    assert set(family) == {"logistic_regression", "gradient_boosting"}
    assert version.method == max(family, key=family.get)
    assert version.auc == family[version.method]
    assert version.auc > 0.7  # the history has real signal (seniority, industry, form fills)
    assert version.top_decile_lift > 1.5
    assert version.positives >= 50 and version.negatives >= 50
    assert version.evaluation["split"] == "time"
    assert len(version.evaluation["model"]["calibration"]) == 10
    assert not version.is_active  # training never switches a model in


def test_the_split_never_tests_on_its_own_training_rows(history):
    found = dataset.outcomes(now=NOW, window_days=90)
    everyone = list(range(len(found.labels)))
    for lead_at in (found.lead_at, np.zeros(len(found.lead_at))):  # time split, then k-fold
        split = training.split_rows(found.labels, lead_at)
        for train, test in split.folds:
            assert not set(train) & set(test)
            assert sorted([*train, *test]) == everyone
        if split.kind == "kfold":  # every row tested exactly once
            assert sorted(np.concatenate([test for _, test in split.folds])) == everyone
    assert training.split_rows(found.labels, found.lead_at).kind == "time"
    assert training.split_rows(found.labels, np.zeros(len(found.lead_at))).kind == "kfold"
    time_split = training.split_rows(found.labels, found.lead_at).folds[0]
    assert found.lead_at[time_split[0]].max() <= found.lead_at[time_split[1]].min()


def test_noise_scores_as_noise_because_no_row_is_seen_twice(db):
    """Outcomes with no signal: a model judged on its own training rows would look good
    (boosting memorises); on held-out rows it is a coin toss."""
    make_history(people=900, now=NOW, random_labels=True)
    version = train_model(actor=Actor.system("test"), now=NOW)
    assert version.auc < 0.62
    fitted = training.gradient_boosting(np.zeros(0, dtype=bool))
    assert fitted is not None


def test_a_field_recording_the_outcome_is_left_out_as_a_leak(db):
    make_history(people=900, now=NOW, leak_field=True)
    version = train_model(actor=Actor.system("test"), now=NOW)
    assert "person.won_deal_value" in version.evaluation["left_out_as_leaks"]
    assert version.spec["dropped"] == ["person.won_deal_value"]
    assert version.auc < 0.95  # honest figures, not the leak's


def test_touches_after_the_decision_are_not_counted(history):
    """Meetings happen only after a lead became an opportunity: the label itself."""
    found = dataset.outcomes(now=NOW, window_days=90)
    features = dataset.build_features(found.person_ids, found.cutoffs)
    meetings = features.names.index("touch.meeting")
    assert features.matrix[:, meetings].sum() == 0
    activities = features.names.index("activity.meeting")
    assert features.matrix[:, activities].sum() == 0
    everything = dataset.build_features(found.person_ids, np.full(len(found.person_ids), 1e12))
    assert everything.matrix[:, meetings].sum() > 0  # they exist: the cut-off dropped them


def test_outcomes_follow_the_furthest_stage_and_the_window(history):
    found = dataset.outcomes(now=NOW, window_days=90)
    assert found.positives > 50 and found.negatives > 50
    assert found.in_window > 0
    assert len(found.person_ids) + found.in_window <= history.people


def test_thin_history_is_refused_with_the_counts_and_changes_nothing(db, capsys):
    make_history(people=60, now=NOW)
    found = dataset.outcomes(now=NOW, window_days=90)
    with pytest.raises(CommandError) as refused:
        call_command("scoring", "train", "--now", NOW.isoformat())
    message = str(refused.value)
    assert f"{found.positives} positive and {found.negatives} negative" in message
    assert "at least 50 of each" in message
    assert not ModelVersion.objects.exists()
    assert not AuditEvent.objects.filter(event="model_trained").exists()
    with pytest.raises(CommandError, match="at least 50 of each"):
        call_command("scoring", "evaluate", "--now", NOW.isoformat())


def test_scored_people_get_a_likelihood_and_reasons(history):
    version = train_model(actor=Actor.system("test"), now=NOW)
    scored = score_people(version, now=NOW)
    assert scored == PersonPrediction.objects.filter(version=version).count() > 0
    prediction = PersonPrediction.objects.filter(version=version).order_by("-likelihood").first()
    assert 0 < prediction.likelihood < 1
    assert prediction.factors and {"feature", "effect", "unit"} <= set(prediction.factors[0])


def test_evaluate_prints_the_issue_json_shape(history, capsys):
    train_model(actor=Actor.system("test"), now=NOW)
    call_command("scoring", "evaluate", "--json", "--now", NOW.isoformat())
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"model", "rules"}
    assert set(out["model"]) == {
        "auc", "top_decile_lift", "method", "positives", "negatives", "trained_at"
    }  # fmt: skip
    assert set(out["rules"]) == {"auc", "top_decile_lift"}
    assert out["rules"]["auc"] == 0.5  # no rule scores stored in this history: no ranking


def test_evaluate_measures_the_same_figures_as_training_on_the_same_history(history):
    version = train_model(actor=Actor.system("test"), now=NOW)
    again = evaluate_model(version, now=NOW)
    assert again["model"]["auc"] == version.auc
    assert again["split"] == "time"

"""Predictive scoring's writes: train a version, score people with it, switch it on or off.

Training never switches a model in (issue 19, point 9): it keeps a new version
and its figures; an admin activates it, deactivates it, or restores the one that
was active before, each an audited action. Only the active version feeds the
MQL decision (`queries.model_feeds_mql`).
"""

from __future__ import annotations

import datetime as dt
import io
from functools import partial
from typing import Any

import joblib
import numpy as np
import sklearn
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.core.audit import record_audit
from tandem.people.models import Person
from tandem.scoring.models import ModelMethod, ModelVersion, PersonPrediction
from tandem.scoring.predictive import dataset, explain, training

BATCH = 2000


def window_days() -> int:
    return int(settings.TANDEM_SCORING_OUTCOME_WINDOW_DAYS)


def rule_scores(person_ids: np.ndarray) -> np.ndarray:
    """The rule set's combined score of these people; 0 where none is stored.

    Read through the app registry: rule scoring (PersonScore) is another part of
    this app and may not be installed yet; then every rule score is 0.
    """
    scores = np.zeros(len(person_ids))
    app_label, model_name = "scoring", "PersonScore"
    try:
        person_score = apps.get_model(app_label, model_name)
    except LookupError:
        return scores
    index = {int(p): i for i, p in enumerate(person_ids)}
    for pid, score in person_score.objects.values_list("person_id", "score").iterator(
        chunk_size=20_000
    ):
        i = index.get(pid)
        if i is not None:
            scores[i] = score or 0
    return scores


def blank_dropped(matrix: np.ndarray, names: list[str], dropped: Any) -> None:
    """Columns left out as leaks hold one constant: the model can learn nothing from them."""
    for name in dropped:
        if name in names:
            matrix[:, names.index(name)] = 0.0


def _dump(pipeline: Pipeline) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    return buffer.getvalue()


def load_pipeline(version: ModelVersion) -> Pipeline:
    """The version's fitted pipeline; refuses one written by another scikit-learn."""
    if version.sklearn_version != sklearn.__version__:
        raise ValidationError(
            {
                "version": f"{version} was trained with scikit-learn {version.sklearn_version}, "
                f"this is {sklearn.__version__}: train a new version."
            }
        )
    # Only train_model writes these bytes (ADR 0012), so unpickling them is trusted.
    return joblib.load(io.BytesIO(bytes(version.model_bytes)))


def _threads() -> threadpool_limits:
    """Cap OpenMP/BLAS threads while fitting: on a machine shared with web processes,
    gradient boosting's spinning threads cost 4x the wall time of one thread
    (docs/benchmarks.md); TANDEM_SCORING_THREADS raises it on an idle machine."""
    return threadpool_limits(limits=settings.TANDEM_SCORING_THREADS)


def train_model(
    *, actor: Actor, now: dt.datetime | None = None, window: int | None = None
) -> ModelVersion:
    """Fit both families on the history, keep the better held-out AUC, store a new version.

    Raises training.NotEnoughHistory (nothing written) below 50 of either outcome.
    The version is not active; `score_people` then stores its predictions.
    """
    require(actor, "scoring.train_model")
    now = now or timezone.now()
    window = window or window_days()
    found = dataset.outcomes(now=now, window_days=window)
    training.check_enough(found.labels)
    features = dataset.build_features(found.person_ids, found.cutoffs)
    X, y = features.matrix, found.labels.astype(int)
    split = training.split_rows(y, found.lead_at)
    first_train = split.folds[0][0]
    leaks = training.leaking_columns(X[first_train], y[first_train], features.names)
    empty = [features.names[j] for j in training.empty_columns(X, split)]
    features.spec["dropped"] = sorted({*leaks, *empty})
    blank_dropped(features.matrix, features.names, features.spec["dropped"])
    with _threads():
        result = training.train(
            X, y, found.lead_at, features.is_categorical, rule_scores(found.person_ids)
        )
    spec = features.spec
    spec["reference"] = explain.reference_values(X, features.is_categorical)
    spec["attributed"] = result.attributed
    if result.method == ModelMethod.LOGISTIC:
        spec["linear_reference"] = explain.linear_reference(result.pipeline, X)
    evaluation = {
        "split": result.split.kind,
        "split_detail": result.split.detail,
        "held_out": len(result.test_rows),
        "family_auc": result.family_auc,
        "model": result.model_figures,
        "rules": result.rules_figures,
        "left_out_as_leaks": leaks,
        "left_out_as_empty": empty,
        "in_window": found.in_window,
        "window_days": window,
    }
    with transaction.atomic():
        number = (ModelVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ModelVersion.objects.create(
            number=number,
            trained_at=now,
            trained_by=actor.label[:150],
            method=result.method,
            auc=result.model_figures["auc"],
            top_decile_lift=result.model_figures["top_decile_lift"],
            positives=found.positives,
            negatives=found.negatives,
            features=features.names,
            evaluation=evaluation,
            spec=spec,
            model_bytes=_dump(result.pipeline),
            sklearn_version=sklearn.__version__,
        )
        record_audit(
            actor=actor,
            event="model_trained",
            target=version,
            changes={
                "method": [None, version.method],
                "auc": [None, version.auc],
                "positives": [None, version.positives],
                "negatives": [None, version.negatives],
            },
        )
    return version


def score_people(version: ModelVersion, *, now: dt.datetime | None = None) -> int:
    """Store this version's likelihood and reasons for everyone not yet decided.

    Derived data, like a cache of the model: replaced wholesale per version, no
    audit of its own (training and activating are audited). Keeps the predictions
    of the active version and this one only.
    """
    now = now or timezone.now()
    ids = np.asarray(
        sorted(
            Person.objects.filter(
                deleted_at__isnull=True, stage__in=dataset.SCORED_STAGES
            ).values_list("id", flat=True)
        ),
        dtype=np.int64,
    )
    pipeline = load_pipeline(version)
    features = dataset.build_features(ids, np.full(len(ids), now.timestamp()), spec=version.spec)
    blank_dropped(features.matrix, features.names, version.spec.get("dropped", []))
    with _threads():
        likelihood, reasons = explain.predict_with_reasons(
            pipeline, version.method, features, version.spec
        )
    with transaction.atomic():
        keep = [
            version.pk,
            *ModelVersion.objects.filter(is_active=True).values_list("pk", flat=True),
        ]
        PersonPrediction.objects.exclude(version_id__in=keep).delete()
        PersonPrediction.objects.filter(version=version).delete()
        rows = (
            PersonPrediction(
                version=version,
                person_id=int(pid),
                likelihood=round(float(p), 4),
                factors=factors,
                scored_at=now,
            )
            for pid, p, factors in zip(ids, likelihood, reasons, strict=True)
        )
        _bulk_create(rows)
    return len(ids)


def _bulk_create(rows: Any) -> None:
    batch: list[PersonPrediction] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            PersonPrediction.objects.bulk_create(batch)
            batch = []
    if batch:
        PersonPrediction.objects.bulk_create(batch)


def evaluate_model(
    version: ModelVersion, *, now: dt.datetime | None = None, window: int | None = None
) -> dict[str, Any]:
    """Measure the version's method on today's outcomes, beside the rule set, on held-out rows.

    Each fold's model is a fresh copy of the version's pipeline fitted on that
    fold's training rows only; the rules' figures are read on the same rows.
    """
    now = now or timezone.now()
    window = window or version.evaluation.get("window_days") or window_days()
    found = dataset.outcomes(now=now, window_days=window)
    training.check_enough(found.labels)
    features = dataset.build_features(found.person_ids, found.cutoffs, spec=version.spec)
    blank_dropped(features.matrix, features.names, version.spec.get("dropped", []))
    y = found.labels.astype(int)
    split = training.split_rows(y, found.lead_at)
    empty = [features.names[j] for j in training.empty_columns(features.matrix, split)]
    blank_dropped(features.matrix, features.names, empty)
    estimator = clone(load_pipeline(version))
    with _threads():
        rows, probabilities = training.held_out_predictions(estimator, features.matrix, y, split)
    return {
        "version": version.number,
        "method": version.method,
        "trained_at": version.trained_at,
        "positives": found.positives,
        "negatives": found.negatives,
        "in_window": found.in_window,
        "split": split.kind,
        "split_detail": split.detail,
        "held_out": len(rows),
        "model": training.figures(y[rows], probabilities),
        "rules": training.figures(y[rows], rule_scores(found.person_ids)[rows]),
    }


def activate_model(*, actor: Actor, version: ModelVersion) -> ModelVersion:
    """Let this version feed the MQL decision, in place of the one active now."""
    require(actor, "scoring.activate_model")
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update().get(pk=version.pk)
        if version.is_active:
            raise ValidationError({"version": f"{version} is already active."})
        previous = _switch_off()
        version.is_active, version.activated_at = True, timezone.now()
        version.save(update_fields=["is_active", "activated_at"])
        record_audit(
            actor=actor,
            event="model_activated",
            target=version,
            changes={"active_version": [previous.number if previous else None, version.number]},
        )
    _score_if_needed(version)
    return version


def deactivate_model(*, actor: Actor) -> ModelVersion:
    """Stop the active version feeding the MQL decision: the rule score decides alone."""
    require(actor, "scoring.activate_model")
    with transaction.atomic():
        previous = _switch_off()
        if previous is None:
            raise ValidationError({"version": "No model is active."})
        record_audit(
            actor=actor,
            event="model_deactivated",
            target=previous,
            changes={"active_version": [previous.number, None]},
        )
    return previous


def restore_previous_model(*, actor: Actor) -> ModelVersion:
    """Bring back the version that was active before the current one (or before none)."""
    require(actor, "scoring.activate_model")
    with transaction.atomic():
        current = ModelVersion.objects.select_for_update().filter(is_active=True).first()
        candidates = ModelVersion.objects.filter(deactivated_at__isnull=False)
        if current is not None:
            candidates = candidates.exclude(pk=current.pk)
        earlier = candidates.order_by("-deactivated_at", "-number").first()
        if earlier is None:
            raise ValidationError({"version": "No earlier active version to restore."})
        _switch_off()
        earlier.is_active, earlier.activated_at = True, timezone.now()
        earlier.save(update_fields=["is_active", "activated_at"])
        record_audit(
            actor=actor,
            event="model_restored",
            target=earlier,
            changes={"active_version": [current.number if current else None, earlier.number]},
        )
    _score_if_needed(earlier)
    return earlier


def _score_if_needed(version: ModelVersion) -> None:
    """A version switched in without predictions (they are kept for two) is scored after commit."""
    from tandem.scoring.predictive.tasks import score_people_with

    if not version.predictions.exists():
        transaction.on_commit(partial(score_people_with.enqueue, version_id=version.pk))


def _switch_off() -> ModelVersion | None:
    current = ModelVersion.objects.select_for_update().filter(is_active=True).first()
    if current is not None:
        current.is_active, current.deactivated_at = False, timezone.now()
        current.save(update_fields=["is_active", "deactivated_at"])
    return current

"""Fitting and measuring: two model families, held-out rows, AUC, lift, calibration.

Pure computation on arrays (no database): `services` loads the data and keeps
the result. Every figure here is measured on rows the fitted model did not see
(`held_out_predictions`): a time split when the leads span time, stratified
k-fold otherwise. Seeds are fixed, so the same history gives the same figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.base import ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from tandem.scoring.models import ModelMethod

SEED = 19
MINIMUM_EACH = 50  # positives and negatives needed to train or evaluate (issue 19, point 8)
FOLDS = 5
TEST_SHARE = 0.25
# A time split needs the leads to span this many days and its newest quarter to hold
# this many of each outcome; otherwise stratified k-fold.
TIME_SPAN_DAYS = 60
TIME_TEST_MINIMUM = 20
# A single feature that separates the outcomes this well on the training rows is
# recording the outcome (a "contract signed" field, a deal date): it is left out.
LEAK_AUC = 0.97
# Per-person reasons from gradient boosting look at this many features (the most
# important on held-out rows), so scoring 100k people stays a few seconds.
ATTRIBUTED_FEATURES = 15


class NotEnoughHistory(Exception):
    """Too few positives or negatives to measure a model honestly."""

    def __init__(self, positives: int, negatives: int):
        self.positives, self.negatives = positives, negatives
        super().__init__(
            f"Not enough history to train or evaluate: {positives} positive and {negatives} "
            f"negative outcomes; at least {MINIMUM_EACH} of each are needed "
            f"(positives: reached opportunity or later; negatives: disqualified, or no "
            f"progress within the window after becoming a lead)."
        )


def check_enough(labels: np.ndarray) -> None:
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives < MINIMUM_EACH or negatives < MINIMUM_EACH:
        raise NotEnoughHistory(positives, negatives)


@dataclass
class Split:
    """How rows were held out: the folds' (train, test) row indices."""

    kind: str  # "time" or "kfold"
    folds: list[tuple[np.ndarray, np.ndarray]]
    detail: str


def split_rows(labels: np.ndarray, lead_at: np.ndarray) -> Split:
    """A time split (train on older leads, test on the newest quarter) when history spans
    time, else stratified k-fold. Test rows are never training rows of the same fold."""
    n = len(labels)
    order = np.argsort(lead_at, kind="stable")
    cut = round(n * (1 - TEST_SHARE))
    train, test = np.sort(order[:cut]), np.sort(order[cut:])
    span = (lead_at.max() - lead_at.min()) / 86400 if n else 0
    held = labels[test]
    if (
        span >= TIME_SPAN_DAYS
        and held.sum() >= TIME_TEST_MINIMUM
        and len(held) - held.sum() >= TIME_TEST_MINIMUM
        and labels[train].sum() >= TIME_TEST_MINIMUM
        and len(train) - labels[train].sum() >= TIME_TEST_MINIMUM
    ):
        return Split(
            "time",
            [(train, test)],
            f"time split: trained on the {len(train)} oldest leads, tested on the "
            f"{len(test)} newest",
        )
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    return Split(
        "kfold",
        [(tr, te) for tr, te in folds.split(np.zeros(n), labels)],
        f"stratified {FOLDS}-fold: each lead predicted by a model fitted without it",
    )


def logistic_regression(is_categorical: np.ndarray) -> Pipeline:
    """L2-regularised logistic regression: numbers scaled, categories one-hot (sparse)."""
    num = np.flatnonzero(~is_categorical).tolist()
    cat = np.flatnonzero(is_categorical).tolist()
    parts: list[tuple[str, Any, list[int]]] = []
    if num:
        numbers = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
        )
        parts.append(("num", numbers, num))
    if cat:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), cat))
    return Pipeline(
        [
            ("columns", ColumnTransformer(parts, sparse_threshold=0.3)),
            ("model", LogisticRegression(C=0.5, max_iter=2000)),
        ]
    )


def gradient_boosting(is_categorical: np.ndarray) -> Pipeline:
    """Histogram gradient boosting; categorical columns hold codes below 255 (dataset.py)."""
    model = HistGradientBoostingClassifier(
        learning_rate=0.1,
        max_iter=100,
        max_leaf_nodes=31,
        l2_regularization=1.0,
        categorical_features=is_categorical if is_categorical.any() else None,
        early_stopping="auto",
        random_state=SEED,
    )
    return Pipeline([("model", model)])


FAMILIES: dict[str, Callable[[np.ndarray], Pipeline]] = {
    ModelMethod.LOGISTIC.value: logistic_regression,
    ModelMethod.BOOSTING.value: gradient_boosting,
}


def held_out_predictions(
    estimator: ClassifierMixin, X: np.ndarray, y: np.ndarray, split: Split
) -> tuple[np.ndarray, np.ndarray]:
    """(row indices, predicted probability) for every test row, each predicted by a
    model fitted on that fold's training rows only."""
    rows, probabilities = [], []
    for train, test in split.folds:
        assert not np.intersect1d(train, test).size, "a test row is among its training rows"
        fitted = clone(estimator).fit(X[train], y[train])
        rows.append(test)
        probabilities.append(fitted.predict_proba(X[test])[:, 1])
    return np.concatenate(rows), np.concatenate(probabilities)


def top_decile_lift(y: np.ndarray, scores: np.ndarray) -> float:
    """Outcome rate among the highest-scored tenth over the rate among all (1.0 = no better).

    People tied at the tenth's edge count by their share, so a score that ranks
    no one (every rule score 0) has a lift of exactly 1.0, whatever the row order.
    """
    if not len(y) or not y.sum():
        return 0.0
    k = max(1, int(np.ceil(len(y) / 10)))
    edge = np.sort(scores)[::-1][k - 1]
    above, tied = scores > edge, scores == edge
    hits = y[above].sum() + (k - above.sum()) * y[tied].mean()
    return float((hits / k) / y.mean())


def auc(y: np.ndarray, scores: np.ndarray) -> float:
    if len(np.unique(y)) < 2:
        return 0.5
    return float(roc_auc_score(y, scores))


def calibration(y: np.ndarray, scores: np.ndarray) -> list[dict[str, Any]]:
    """Ten equal groups by score, lowest first: people, score range, mean score, observed rate."""
    order = np.argsort(scores, kind="stable")
    table = []
    for number, part in enumerate(np.array_split(order, 10), start=1):
        if not len(part):
            continue
        table.append(
            {
                "decile": number,
                "people": len(part),
                "low": float(scores[part].min()),
                "high": float(scores[part].max()),
                "mean_predicted": float(scores[part].mean()),
                "observed_rate": float(y[part].mean()),
            }
        )
    return table


def figures(y: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    return {
        "auc": round(auc(y, scores), 4),
        "top_decile_lift": round(top_decile_lift(y, scores), 3),
        "calibration": calibration(y, scores),
    }


def empty_columns(X: np.ndarray, split: Split) -> list[int]:
    """Columns with no value at all among some fold's training rows (a field nobody fills,
    or one filled only lately): gradient boosting cannot bin them, and nothing is learned."""
    empty = np.zeros(X.shape[1], dtype=bool)
    for train, _ in [*split.folds, (np.arange(len(X)), None)]:
        empty |= np.isnan(X[train]).all(axis=0)
    return np.flatnonzero(empty).tolist()


def leaking_columns(X: np.ndarray, y: np.ndarray, names: list[str]) -> dict[str, float]:
    """Columns that alone separate the outcomes almost perfectly: {name: AUC}.

    Every column's AUC at once, from ranks (Mann-Whitney); an empty value ranks lowest.
    """
    positives = int(y.sum())
    negatives = len(y) - positives
    if not positives or not negatives:
        return {}
    filled = np.where(np.isnan(X), -np.inf, X)
    ranks = rankdata(filled, axis=0)
    column_auc = (ranks[y == 1].sum(axis=0) - positives * (positives + 1) / 2) / (
        positives * negatives
    )
    found = {}
    for j, name in enumerate(names):
        strength = max(column_auc[j], 1 - column_auc[j])
        if strength >= LEAK_AUC and np.isfinite(filled[:, j]).sum() >= 20:
            found[name] = round(float(strength), 4)
    return found


@dataclass
class Trained:
    method: str
    pipeline: Pipeline
    split: Split
    family_auc: dict[str, float]
    model_figures: dict[str, Any]
    rules_figures: dict[str, Any]
    test_rows: np.ndarray
    attributed: list[int] = field(default_factory=list)


def train(
    X: np.ndarray,
    y: np.ndarray,
    lead_at: np.ndarray,
    is_categorical: np.ndarray,
    rule_scores: np.ndarray,
) -> Trained:
    """Measure each family on held-out rows, keep the better AUC, fit it on every row."""
    check_enough(y)
    split = split_rows(y, lead_at)
    results = {}
    for method, family in FAMILIES.items():
        rows, probabilities = held_out_predictions(family(is_categorical), X, y, split)
        results[method] = (rows, probabilities, auc(y[rows], probabilities))
    method = max(results, key=lambda m: (results[m][2], m == ModelMethod.LOGISTIC))
    rows, probabilities, _ = results[method]
    pipeline = FAMILIES[method](is_categorical).fit(X, y)
    attributed = []
    if method == ModelMethod.BOOSTING:
        attributed = most_important(pipeline, X, y, split)
    return Trained(
        method=method,
        pipeline=pipeline,
        split=split,
        family_auc={m: round(r[2], 4) for m, r in results.items()},
        model_figures=figures(y[rows], probabilities),
        rules_figures=figures(y[rows], rule_scores[rows]),
        test_rows=rows,
        attributed=attributed,
    )


def most_important(pipeline: Pipeline, X: np.ndarray, y: np.ndarray, split: Split) -> list[int]:
    """The columns whose shuffling hurts the AUC most, on (at most 3,000) test rows."""
    test = split.folds[0][1]
    rng = np.random.default_rng(SEED)
    if len(test) > 3000:
        test = np.sort(rng.choice(test, 3000, replace=False))
    if len(np.unique(y[test])) < 2:
        return list(range(min(ATTRIBUTED_FEATURES, X.shape[1])))
    found = permutation_importance(
        pipeline, X[test], y[test], scoring="roc_auc", n_repeats=2, random_state=SEED
    )
    order = np.argsort(-found.importances_mean, kind="stable")
    return [int(j) for j in order[:ATTRIBUTED_FEATURES] if found.importances_mean[j] > 0]

"""Why the model gives a person their likelihood: the few features that move it most.

Two honest attributions, one per family, both relative to a typical person:

- logistic regression: coefficient × (the person's value − the training average),
  per column after scaling and one-hot encoding, summed back to the feature it
  came from. Exact for this model: the contributions add up to the person's
  log-odds minus the average person's. Shown in log-odds.
- gradient boosting: for each of the features that matter most on held-out rows
  (permutation importance, training.most_important), the change in the
  person's likelihood when that one feature is set to its typical value (median,
  or most frequent category). Simple and checkable; it ignores interactions
  between two features, which a SHAP value would share out. Shown in
  likelihood points.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.pipeline import Pipeline

from tandem.scoring.models import ModelMethod
from tandem.scoring.predictive.dataset import Features

TOP_FACTORS = 5
CHUNK = 10_000


def reference_values(X: np.ndarray, is_categorical: np.ndarray) -> list[float]:
    """The typical person: the median of each number, the most frequent code of each category."""
    out = []
    for j in range(X.shape[1]):
        column = X[:, j]
        known = column[~np.isnan(column)]
        if not len(known):
            out.append(float("nan"))
        elif is_categorical[j]:
            values, counts = np.unique(known, return_counts=True)
            out.append(float(values[np.argmax(counts)]))
        else:
            out.append(float(np.median(known)))
    return out


def linear_reference(pipeline: Pipeline, X: np.ndarray) -> list[float]:
    """The training average of each transformed column (the logistic regression's baseline)."""
    transformed = pipeline["columns"].transform(X)
    return [float(v) for v in np.asarray(transformed.mean(axis=0)).ravel()]


def predict_with_reasons(
    pipeline: Pipeline, method: str, features: Features, spec: dict[str, Any]
) -> tuple[np.ndarray, list[list[dict[str, Any]]]]:
    """Each row's likelihood and its top factors, in chunks so memory stays flat."""
    X = features.matrix
    likelihood = np.empty(len(X))
    reasons: list[list[dict[str, Any]]] = []
    for start in range(0, len(X), CHUNK):
        part = X[start : start + CHUNK]
        p = pipeline.predict_proba(part)[:, 1]
        likelihood[start : start + len(part)] = p
        if method == ModelMethod.LOGISTIC:
            effects, columns = _linear_effects(pipeline, part, spec)
            unit = "log-odds"
        else:
            effects, columns = _boosting_effects(pipeline, part, p, spec)
            unit = "likelihood"
        reasons.extend(_top(effects, columns, part, features, unit))
    return likelihood, reasons


def _linear_effects(
    pipeline: Pipeline, part: np.ndarray, spec: dict[str, Any]
) -> tuple[np.ndarray, list[int]]:
    columns = pipeline["columns"]
    transformed = columns.transform(part)
    mean = np.asarray(spec["linear_reference"])
    coef = pipeline["model"].coef_[0]
    if sparse.issparse(transformed):
        transformed = transformed.toarray()
    contribution = (transformed - mean) * coef
    # Back to the input feature each transformed column came from ("num__x3", "cat__x140_2.0").
    origin = []
    for name in columns.get_feature_names_out():
        found = re.search(r"x(\d+)", name)
        origin.append(int(found.group(1)) if found else 0)
    width = part.shape[1]
    mapping = sparse.csr_matrix(
        (np.ones(len(origin)), (np.arange(len(origin)), origin)), shape=(len(origin), width)
    )
    return np.asarray(contribution @ mapping), list(range(width))


def _boosting_effects(
    pipeline: Pipeline, part: np.ndarray, p: np.ndarray, spec: dict[str, Any]
) -> tuple[np.ndarray, list[int]]:
    attributed = list(spec.get("attributed", []))
    reference = spec["reference"]
    effects = np.zeros((len(part), len(attributed)))
    for k, j in enumerate(attributed):
        typical = part.copy()
        typical[:, j] = reference[j]
        effects[:, k] = p - pipeline.predict_proba(typical)[:, 1]
    return effects, attributed


def _top(
    effects: np.ndarray, columns: list[int], part: np.ndarray, features: Features, unit: str
) -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = []
    size = min(TOP_FACTORS, effects.shape[1])
    for i in range(len(part)):
        row = effects[i]
        if not size:
            out.append([])
            continue
        best = np.argpartition(-np.abs(row), size - 1)[:size]
        best = best[np.argsort(-np.abs(row[best]), kind="stable")]
        out.append(
            [
                {
                    "feature": features.describe(columns[k], part[i, columns[k]]),
                    "effect": round(float(row[k]), 4),
                    "unit": unit,
                }
                for k in best
                if abs(row[k]) >= 0.005
            ]
        )
    return out

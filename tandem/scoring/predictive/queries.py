"""Predictive scoring's reads: versions, their figures, a person's likelihood.

`model_feeds_mql` and `predicted_likelihoods` are what the MQL decision reads:
the model counts only when an admin has activated a version.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tandem.people.models import Person
from tandem.scoring.models import ModelVersion, PersonPrediction

VERSIONS_SHOWN = 20


def versions() -> QuerySet[ModelVersion]:
    """Newest first, without the model's bytes (pages and lists never need them)."""
    return ModelVersion.objects.defer("model_bytes", "spec").order_by("-number")


def active_version() -> ModelVersion | None:
    return versions().filter(is_active=True).first()


def model_feeds_mql() -> bool:
    """Whether the MQL decision may read the model: only once an admin activated a version."""
    return ModelVersion.objects.filter(is_active=True).exists()


def predicted_likelihoods(person_ids: list[int]) -> dict[int, float]:
    """The active version's likelihood of these people; empty when no version is active."""
    return dict(
        PersonPrediction.objects.filter(
            version__is_active=True, person_id__in=person_ids
        ).values_list("person_id", "likelihood")
    )


def shown_version() -> ModelVersion | None:
    """The version whose predictions people see: the active one, else the newest."""
    return active_version() or versions().first()


def calibration_rows(version: ModelVersion) -> list[dict[str, Any]]:
    """Model and rules deciles side by side, as the model page and the API show them."""
    model = version.evaluation.get("model", {}).get("calibration", [])
    rules = version.evaluation.get("rules", {}).get("calibration", [])
    return [
        {
            "decile": m["decile"],
            "people": m["people"],
            "mean_predicted": m["mean_predicted"],
            "observed_rate": m["observed_rate"],
            "rules_low": r["low"] if r else None,
            "rules_high": r["high"] if r else None,
            "rules_observed_rate": r["observed_rate"] if r else None,
            "predicted_shown": f"{m['mean_predicted']:.1%}",
            "observed_shown": f"{m['observed_rate']:.1%}",
            "rules_range_shown": f"{r['low']:g}–{r['high']:g}" if r else "—",
            "rules_observed_shown": f"{r['observed_rate']:.1%}" if r else "—",
        }
        for m, r in zip(model, rules + [{}] * (len(model) - len(rules)), strict=False)
    ]


def person_prediction(person: Person) -> dict[str, Any] | None:
    """A person's likelihood by the shown version, with its reasons in words; None if none."""
    # One query: the active version's prediction first, else the newest version's.
    row = (
        PersonPrediction.objects.filter(person=person)
        .select_related("version")
        .defer("version__model_bytes", "version__spec")
        .order_by("-version__is_active", "-version__number")
        .first()
    )
    if row is None:
        return None
    return {
        "likelihood": row.likelihood,
        "percent": round(row.likelihood * 100),
        "version": row.version.number,
        "method": row.version.get_method_display(),
        "is_active": row.version.is_active,
        "scored_at": row.scored_at,
        "factors": [
            {
                "feature": f["feature"],
                "effect": f["effect"],
                "unit": f["unit"],
                "raises": f["effect"] > 0,
                "shown": (
                    f"{f['effect'] * 100:+.0f} pts"
                    if f["unit"] == "likelihood"
                    else f"{f['effect']:+.2f}"
                ),
            }
            for f in row.factors
        ],
    }

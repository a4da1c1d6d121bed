"""The predictive model over HTTP, read-only: versions, figures, a person's likelihood.

Marketers, managers and admins read the model's versions ("scoring.view_model");
everyone signed in reads a person's likelihood (as on the person page).
Switching a version in or out is an admin's action on the model page.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import P, PathEx, Router

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.core.api_errors import ErrorOut
from tandem.people.models import Person
from tandem.scoring.models import ModelVersion
from tandem.scoring.predictive import queries
from tandem.scoring.predictive.schemas import (
    ModelVersionDetailOut,
    ModelVersionList,
    PredictionOut,
)

router = Router(tags=["scoring"])

VersionNumber = PathEx[int, P(ge=1, le=2**31 - 1, description="Model version number")]
PersonId = PathEx[int, P(ge=1, le=2**63 - 1, description="Person id")]


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _out(version: ModelVersion, detail: bool = False) -> dict[str, Any]:
    evaluation = version.evaluation
    out = {
        "number": version.number,
        "method": version.method,
        "trained_at": version.trained_at,
        "trained_by": version.trained_by,
        "is_active": version.is_active,
        "activated_at": version.activated_at,
        "positives": version.positives,
        "negatives": version.negatives,
        "model": {"auc": version.auc, "top_decile_lift": version.top_decile_lift},
        "rules": {
            "auc": evaluation.get("rules", {}).get("auc", 0.5),
            "top_decile_lift": evaluation.get("rules", {}).get("top_decile_lift", 0.0),
        },
        "family_auc": evaluation.get("family_auc", {}),
        "split": evaluation.get("split", ""),
        "held_out": evaluation.get("held_out", 0),
    }
    if detail:
        out["features"] = version.features
        out["left_out_as_leaks"] = sorted(evaluation.get("left_out_as_leaks", {}))
        out["calibration"] = queries.calibration_rows(version)
    return out


@router.get("/scoring/models", response={200: ModelVersionList, 401: ErrorOut, 403: ErrorOut})
def list_models(request: HttpRequest) -> dict[str, Any]:
    """Trained model versions, newest first (at most 20), with their held-out figures."""
    require(_actor(request), "scoring.view_model")
    return {"items": [_out(v) for v in queries.versions()[: queries.VERSIONS_SHOWN]]}


@router.get(
    "/scoring/models/{number}",
    response={200: ModelVersionDetailOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def get_model(request: HttpRequest, number: VersionNumber) -> dict[str, Any]:
    """One version: figures beside the rules', calibration deciles, features, leaks left out."""
    require(_actor(request), "scoring.view_model")
    version = queries.versions().filter(number=number).first()
    if version is None:
        raise Http404
    return _out(version, detail=True)


@router.get(
    "/scoring/people/{person_id}/prediction",
    response={200: PredictionOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def get_prediction(request: HttpRequest, person_id: PersonId) -> dict[str, Any]:
    """A person's likelihood by the active version (else the newest), with its top factors;
    404 when the person is not found or has no prediction (decided already, or no model)."""
    require(_actor(request), "people.view")
    person = Person.objects.live().filter(pk=person_id).first()
    found = queries.person_prediction(person) if person else None
    if found is None:
        raise Http404
    return {
        "person_id": person_id,
        "likelihood": found["likelihood"],
        "version": found["version"],
        "is_active": found["is_active"],
        "scored_at": found["scored_at"],
        "factors": [
            {"feature": f["feature"], "effect": f["effect"], "unit": f["unit"]}
            for f in found["factors"]
        ],
    }

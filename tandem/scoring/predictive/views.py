"""The model page: figures beside the rules', versions, and an admin's switch.

Marketers, managers and admins see it ("scoring.view_model"); only an admin
activates, deactivates or restores a version ("scoring.activate_model"),
checked on the server by the services. Training is `tandem scoring train`.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import can, page_requires
from tandem.core.audit import audit_for
from tandem.scoring.models import ModelMethod, ModelVersion
from tandem.scoring.predictive import queries, services


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


@page_requires("scoring.view_model")
def model_page(request: HttpRequest, number: int | None = None) -> HttpResponse:
    versions = list(queries.versions()[: queries.VERSIONS_SHOWN])
    if number is None:
        shown = queries.shown_version()
    else:
        shown = next((v for v in versions if v.number == number), None)
        shown = shown or queries.versions().filter(number=number).first()
        if shown is None:
            raise Http404("There is no such model version.")
    context = {
        "versions": versions,
        "shown": shown,
        "active": next((v for v in versions if v.is_active), None) or queries.active_version(),
        "calibration": queries.calibration_rows(shown) if shown else [],
        "evaluation": shown.evaluation if shown else {},
        "families": [
            (dict(ModelMethod.choices).get(method, method), auc)
            for method, auc in (shown.evaluation.get("family_auc", {}) if shown else {}).items()
        ],
        "can_switch": can(_user(request), "scoring.activate_model"),
        "can_restore": ModelVersion.objects.filter(deactivated_at__isnull=False).exists(),
        "audit": audit_for(shown, limit=20) if shown else [],
    }
    template = "scoring/_model_versions.html" if request.headers.get("HX-Request") else None
    return render(request, template or "scoring/model.html", context)


def _switched(request: HttpRequest, action, done: str) -> HttpResponse:  # type: ignore[no-untyped-def]
    try:
        version = action(Actor.for_user(_user(request)))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("scoring:model")
    messages.success(request, done.format(version=version))
    return redirect("scoring:model_version", number=version.number)


@require_POST
@page_requires("scoring.activate_model")
def activate(request: HttpRequest, number: int) -> HttpResponse:
    version = ModelVersion.objects.filter(number=number).first()
    if version is None:
        raise Http404("There is no such model version.")
    return _switched(
        request,
        lambda actor: services.activate_model(actor=actor, version=version),
        "{version} now feeds the MQL decision.",
    )


@require_POST
@page_requires("scoring.activate_model")
def deactivate(request: HttpRequest) -> HttpResponse:
    return _switched(
        request,
        lambda actor: services.deactivate_model(actor=actor),
        "{version} is switched off: the rule score decides alone.",
    )


@require_POST
@page_requires("scoring.activate_model")
def restore(request: HttpRequest) -> HttpResponse:
    return _switched(
        request,
        lambda actor: services.restore_previous_model(actor=actor),
        "Restored {version}: it feeds the MQL decision again.",
    )

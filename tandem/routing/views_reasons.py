"""Admin pages for the send-back reasons list (`routing.manage_reasons`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from tandem.accounts.pages import render_admin, request_actor
from tandem.accounts.permissions import page_requires
from tandem.accounts.queries import audit_trail
from tandem.routing import reasons
from tandem.routing.forms_handoffs import ReasonForm
from tandem.routing.models import SendBackReason

SECTION = "send_back_reasons"


@page_requires("routing.manage_reasons")
def reason_list(request: HttpRequest) -> HttpResponse:
    rows = SendBackReason.objects.order_by("-is_active", "position", "id")
    return render_admin(request, "routing/reasons.html", {"reasons": rows}, section=SECTION)


@page_requires("routing.manage_reasons")
def reason_new(request: HttpRequest) -> HttpResponse:
    form = ReasonForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            reason = reasons.create_reason(
                actor=request_actor(request),
                key=data["key"],
                label=data["label"],
                position=data["position"],
            )
            if not data["is_active"]:
                reasons.deactivate_reason(actor=request_actor(request), reason=reason)
        except ValidationError as err:
            form.add_service_error(err)
        else:
            messages.success(request, f"Added the reason “{reason.label}”.")
            return redirect("handoffs:reasons")
    return render_admin(
        request,
        "routing/reason_form.html",
        {"form": form, "reason": None},
        section=SECTION,
        status=400 if form.errors else 200,
    )


@page_requires("routing.manage_reasons")
def reason_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reason = get_object_or_404(SendBackReason, pk=pk)
    initial = {"label": reason.label, "position": reason.position, "is_active": reason.is_active}
    form = ReasonForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if data.get("position") is None:
            data.pop("position", None)
        try:
            reason = reasons.update_reason(actor=request_actor(request), reason=reason, data=data)
        except ValidationError as err:
            form.add_service_error(err)
        else:
            messages.success(request, f"Saved the reason “{reason.label}”.")
            return redirect("handoffs:reasons")
    return render_admin(
        request,
        "routing/reason_form.html",
        {"form": form, "reason": reason, "audit": audit_trail(reason)},
        section=SECTION,
        status=400 if form.errors else 200,
    )

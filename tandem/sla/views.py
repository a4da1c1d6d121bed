"""The SLA settings pages (managers and admins, "sla.manage"): the policies in the order
they are checked, and the business hours of the company and of each team."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tandem.accounts.models import Team
from tandem.accounts.pages import request_actor
from tandem.accounts.permissions import page_requires
from tandem.accounts.queries import audit_trail
from tandem.sla import queries, services
from tandem.sla.forms import HoursForm, PolicyForm
from tandem.sla.models import SlaPolicy


def _page(
    request: HttpRequest, template: str, context: dict, *, section: str, status: int = 200
) -> HttpResponse:
    return render(request, template, {**context, "sla_section": section}, status=status)


@page_requires("sla.manage")
def policy_list(request: HttpRequest) -> HttpResponse:
    rows = list(queries.policies())
    context = {"policies": rows, "last_index": len(rows)}
    return _page(request, "sla/policies.html", context, section="policies")


@page_requires("sla.manage")
def policy_create(request: HttpRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None, initial={"is_active": True, "remind_percent": 50})
    if request.method == "POST" and form.is_valid():
        try:
            policy = services.create_sla_policy(
                actor=request_actor(request), data=form.service_data()
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Added the SLA “{policy.name}”.")
            return redirect("sla:policies")
    status = 400 if form.errors else 200
    return _page(request, "sla/policy_form.html", {"form": form}, section="policies", status=status)


@page_requires("sla.manage")
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=pk)
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_for(policy))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_sla_policy(
                actor=request_actor(request), policy=policy, data=form.service_data()
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Saved the SLA “{form.cleaned_data['name']}”.")
            return redirect("sla:policies")
    context = {"form": form, "policy": policy, "audit": audit_trail(policy)}
    status = 400 if form.errors else 200
    return _page(request, "sla/policy_form.html", context, section="policies", status=status)


@require_POST
@page_requires("sla.manage")
def policy_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Up or down one place (the buttons beside each policy)."""
    policy = get_object_or_404(SlaPolicy, pk=pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    position = max(1, list(queries.policies()).index(policy) + 1 + step)
    services.move_sla_policy(actor=request_actor(request), policy=policy, position=position)
    return redirect("sla:policies")


@require_POST
@page_requires("sla.manage")
def policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(SlaPolicy, pk=pk)
    services.delete_sla_policy(actor=request_actor(request), policy=policy)
    messages.success(request, f"Deleted the SLA “{policy.name}”.")
    return redirect("sla:policies")


@page_requires("sla.manage")
def hours_list(request: HttpRequest) -> HttpResponse:
    return _page(request, "sla/hours.html", {"calendars": queries.all_hours()}, section="hours")


@page_requires("sla.manage")
def hours_edit(request: HttpRequest, team_id: int | None = None) -> HttpResponse:
    """One form for the company default (no team) and for a team's own hours."""
    team = get_object_or_404(Team, pk=team_id) if team_id is not None else None
    current = queries.team_hours(team) if team else queries.company_hours()
    form = HoursForm(request.POST or None, initial=HoursForm.initial_for(current))
    if request.method == "POST" and form.is_valid():
        try:
            services.set_business_hours(
                actor=request_actor(request), team=team, **form.service_data()
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Saved the business hours of {team or 'the company'}.")
            return redirect("sla:hours")
    own = current.calendar if current.uses == ("company" if team is None else "team") else None
    context = {
        "form": form,
        "team": team,
        "current": current,
        "audit": audit_trail(own) if own is not None else [],
        "days_off": queries.days_off(current, today=timezone.localdate()),
    }
    status = 400 if form.errors else 200
    return _page(request, "sla/hours_form.html", context, section="hours", status=status)


@require_POST
@page_requires("sla.manage")
def hours_reset(request: HttpRequest, team_id: int) -> HttpResponse:
    team = get_object_or_404(Team, pk=team_id)
    services.reset_business_hours(actor=request_actor(request), team=team)
    messages.success(request, f"{team} now works the company's hours.")
    return redirect("sla:hours")

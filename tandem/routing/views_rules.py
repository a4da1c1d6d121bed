"""Routing pages: the rules in order (moved up and down by button, so by keyboard too),
a rule's form, salespeople's capacity and out-of-office, and the model's MQL threshold.

Everyone signed in sees the rules and who is away (a salesperson sees why a lead came
to them, and records their own out-of-office); changing rules, order and capacity
needs "routing.manage_rules", checked on the server.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import can, page_requires
from tandem.routing import queries_rules, services_rules
from tandem.routing.forms_rules import ModelThresholdForm, OutOfOfficeForm, RuleForm, rule_initial
from tandem.routing.models import OutOfOffice, RoutingRule, RoutingSettings

MANAGE = "routing.manage_rules"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(_user(request))


def _page(request: HttpRequest, **extra: Any) -> HttpResponse:
    user = _user(request)
    can_manage = can(user, MANAGE)
    likelihood = RoutingSettings.current().model_mql_likelihood
    away_form = extra.pop("away_form", None) or OutOfOfficeForm(initial={"user": user.pk})
    who = away_form.fields["user"]
    if not can_manage and isinstance(who, ModelChoiceField):
        who.queryset = User.objects.filter(pk=user.pk)
    rules = [(r, queries_rules.describe(r)) for r in queries_rules.rules()]
    context = {
        "rules": rules,
        "can_manage": can_manage,
        "availability": queries_rules.availability(),
        "away_form": away_form,
        "threshold_form": extra.pop("threshold_form", None)
        or ModelThresholdForm(
            initial={"model_mql_likelihood": round(likelihood * 100) if likelihood else None}
        ),
        **extra,
    }
    status = (
        400 if any(f.errors for f in (context["away_form"], context["threshold_form"])) else 200
    )
    return render(request, "routing/rules.html", context, status=status)


@page_requires(None)
def rules_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _rule_form(request: HttpRequest, rule: RoutingRule | None) -> HttpResponse:
    form = RuleForm(request.POST or None, initial=rule_initial(rule))
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = services_rules.create_rule(actor=_actor(request), data=form.service_data())
                messages.success(
                    request, f"Added “{saved.name}”, tried last: move it up as needed."
                )
            else:
                services_rules.update_rule(
                    actor=_actor(request), rule=rule, data=form.service_data()
                )
                messages.success(request, "Saved.")
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            return redirect("routing:rules")
    return render(
        request,
        "routing/rule_form.html",
        {"form": form, "rule": rule},
        status=400 if form.errors else 200,
    )


@page_requires(MANAGE)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@page_requires(MANAGE)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_form(request, get_object_or_404(RoutingRule, pk=pk))


@page_requires(MANAGE)
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(RoutingRule, pk=pk)
    services_rules.delete_rule(actor=_actor(request), rule=rule)
    messages.success(request, f"Deleted “{rule.name}”.")
    return redirect("routing:rules")


@page_requires(MANAGE)
@require_POST
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(RoutingRule, pk=pk)
    try:
        services_rules.move_rule(
            actor=_actor(request), rule=rule, direction=request.POST.get("direction", "")
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect(reverse("routing:rules") + f"#rule-{rule.pk}")


@page_requires(MANAGE)
@require_POST
def rules_reorder(request: HttpRequest) -> HttpResponse:
    """The order after a drag (the page's script posts every id in order)."""
    try:
        ids = [int(i) for i in request.POST.getlist("ids")]
        services_rules.reorder_rules(actor=_actor(request), ids=ids)
    except (ValueError, ValidationError):
        messages.error(request, "The order changed meanwhile: try again.")
        return redirect("routing:rules")
    messages.success(request, "Order saved.")
    return redirect("routing:rules")


@page_requires(MANAGE)
@require_POST
def capacity(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id, is_active=True)
    raw = request.POST.get("max_open_handoffs", "").strip()
    try:
        value = int(raw) if raw else None
        services_rules.set_capacity(actor=_actor(request), user=user, max_open_handoffs=value)
    except (ValueError, ValidationError):
        messages.error(request, f"Capacity of {user}: a whole number from 0, or empty.")
    else:
        messages.success(request, f"Capacity of {user} saved.")
    return redirect("routing:rules")


@page_requires(None)
@require_POST
def away_add(request: HttpRequest) -> HttpResponse:
    form = OutOfOfficeForm(request.POST)  # someone else's: the service answers 403
    if form.is_valid():
        try:
            services_rules.add_out_of_office(actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "Out-of-office saved: no new leads on those days.")
            return redirect("routing:rules")
    return _page(request, away_form=form)


@page_requires(None)
@require_POST
def away_remove(request: HttpRequest, pk: int) -> HttpResponse:
    away = get_object_or_404(OutOfOffice.objects.select_related("user"), pk=pk)
    services_rules.remove_out_of_office(actor=_actor(request), away=away)
    messages.success(request, "Out-of-office removed.")
    return redirect("routing:rules")


@page_requires(MANAGE)
@require_POST
def model_threshold(request: HttpRequest) -> HttpResponse:
    form = ModelThresholdForm(request.POST)
    if form.is_valid():
        percent = form.cleaned_data["model_mql_likelihood"]
        services_rules.set_model_threshold(
            actor=_actor(request), likelihood=percent / 100 if percent else None
        )
        messages.success(request, "Saved.")
        return redirect("routing:rules")
    return _page(request, threshold_form=form)

"""Scoring pages: the rule sets and their rules, and a person's score override.

Everyone signed in sees the rules (scores are explained in the open); writing
and activating them needs "scoring.manage_rules", overriding a person's score
"scoring.override" on that person; both checked on the server.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import can, page_requires, require
from tandem.core.audit import audit_for
from tandem.people.models import Person
from tandem.scoring import backtest, queries, services
from tandem.scoring.engine import plan_for
from tandem.scoring.forms import OverrideForm, RuleForm, RuleSetForm
from tandem.scoring.models import Rule, RuleKind, RuleSet, RuleSetStatus

# The rule set's history in words (its audit events).
_HISTORY_WORDS = {
    "created": "Created the draft",
    "changed": "Changed the name, MQL threshold or notes",
    "rule_added": "Added a rule",
    "rule_changed": "Changed a rule",
    "rule_removed": "Removed a rule",
    "activated": "Activated it: everyone rescored with these rules",
    "retired": "Retired it: another rule set was activated",
}


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(_user(request))


@page_requires(None)
def rule_sets(request: HttpRequest) -> HttpResponse:
    """The rule sets, newest version first; the active one's rules in words."""
    active = queries.active_rule_set()
    plan = plan_for(active)
    return render(
        request,
        "scoring/rule_sets.html",
        {
            "rule_sets": list(queries.rule_sets()),
            "active": active,
            "fit": [words for _, words in plan.fit],
            "fit_rules": plan.fit,
            "engagement_rules": plan.engagement,
            "can_manage": can(_user(request), "scoring.manage_rules"),
        },
    )


@page_requires("scoring.manage_rules")
@require_POST
def rule_set_create(request: HttpRequest) -> HttpResponse:
    """A new draft: a copy of the active set (or empty when none is active)."""
    rule_set = services.create_rule_set(actor=_actor(request), copy_from=queries.active_rule_set())
    messages.success(request, f"Made draft version {rule_set.version}.")
    return redirect("scoring:set_detail", pk=rule_set.pk)


@page_requires(None)
def rule_set_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rule_set = get_object_or_404(RuleSet, pk=pk)
    can_manage = can(_user(request), "scoring.manage_rules")
    is_editable = can_manage and rule_set.status == RuleSetStatus.DRAFT
    form = RuleSetForm(
        request.POST or None,
        initial={
            "name": rule_set.name,
            "mql_threshold": rule_set.mql_threshold,
            "notes": rule_set.notes,
        },
    )
    if request.method == "POST":
        require(_user(request), "scoring.manage_rules")
        if form.is_valid():
            try:
                services.update_rule_set(
                    actor=_actor(request), rule_set=rule_set, data=dict(form.cleaned_data)
                )
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, "Saved.")
                return redirect("scoring:set_detail", pk=rule_set.pk)
    plan = plan_for(rule_set)
    context: dict[str, Any] = {
        "rule_set": rule_set,
        "form": form,
        "fit_rules": plan.fit,
        "engagement_rules": plan.engagement,
        "is_editable": is_editable,
        "can_manage": can_manage,
        "audit": [(e, _HISTORY_WORDS.get(e.event, e.event)) for e in audit_for(rule_set, limit=30)],
        "months": backtest.DEFAULT_MONTHS,
        "max_months": backtest.MAX_MONTHS,
    }
    bad = False
    if can_manage and request.method == "GET" and "months" in request.GET:
        # The backtest: replayed on request (it reads every person's history), never saved.
        context["months"] = request.GET["months"]
        try:
            context["backtest"] = backtest.run(
                plan, rule_set.mql_threshold, months=request.GET["months"]
            )
        except ValidationError as exc:
            context["backtest_error"] = exc.messages[0]
            bad = True
    return render(
        request,
        "scoring/rule_set_detail.html",
        context,
        status=400 if form.errors or bad else 200,
    )


@page_requires("scoring.manage_rules")
@require_POST
def rule_set_activate(request: HttpRequest, pk: int) -> HttpResponse:
    rule_set = get_object_or_404(RuleSet, pk=pk)
    try:
        services.activate_rule_set(
            actor=_actor(request), rule_set=rule_set, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("scoring:set_detail", pk=rule_set.pk)
    messages.success(request, f"Version {rule_set.version} now scores everyone.")
    return redirect("scoring:rules")


def _rule_initial(rule: Rule | None) -> dict[str, Any]:
    if rule is None:
        return {"kind": RuleKind.FIT, "points": 10}
    value = rule.value
    return {
        "kind": rule.kind,
        "points": rule.points,
        "label": rule.label,
        "field": rule.field,
        "operator": rule.operator,
        "value": ", ".join(str(v) for v in value) if isinstance(value, list) else value,
        "source": rule.source,
        "touchpoint_kind": rule.touchpoint_kind,
        "campaign": rule.campaign_id,
        "form_id": rule.form_id,
        "page_contains": rule.page_contains,
        "activity_kind": rule.activity_kind,
        "half_life_days": rule.half_life_days,
        "max_points": rule.max_points,
    }


def _rule_form(request: HttpRequest, rule_set: RuleSet, rule: Rule | None) -> HttpResponse:
    require(_user(request), "scoring.manage_rules")
    form = RuleForm(request.POST or None, initial=_rule_initial(rule))
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                services.add_rule(actor=_actor(request), rule_set=rule_set, data=form.rule_data())
            else:
                services.update_rule(actor=_actor(request), rule=rule, data=form.rule_data())
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "Saved the rule.")
            return redirect("scoring:set_detail", pk=rule_set.pk)
    return render(
        request,
        "scoring/rule_form.html",
        {"form": form, "rule": rule, "rule_set": rule_set},
        status=400 if form.errors else 200,
    )


@page_requires("scoring.manage_rules")
def rule_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_form(request, get_object_or_404(RuleSet, pk=pk), None)


@page_requires("scoring.manage_rules")
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule.objects.select_related("rule_set"), pk=pk)
    return _rule_form(request, rule.rule_set, rule)


@page_requires("scoring.manage_rules")
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule.objects.select_related("rule_set"), pk=pk)
    try:
        services.delete_rule(actor=_actor(request), rule=rule)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Removed the rule.")
    return redirect("scoring:set_detail", pk=rule.rule_set_id)


@page_requires(None)
def override(request: HttpRequest, pk: int) -> HttpResponse:
    """Set a person's score, grade or "not a lead", with why and until when."""
    person = get_object_or_404(Person.objects.live(), pk=pk)
    require(_user(request), "scoring.override", person)
    form = OverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        expires = data.get("expires_at")
        if expires is not None and timezone.is_naive(expires):
            expires = timezone.make_aware(expires)
        try:
            services.override_score(
                actor=_actor(request),
                person=person,
                kind=data["kind"],
                reason=data["reason"],
                score=data.get("score"),
                grade=data.get("grade") or "",
                expires_at=expires,
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "Saved the override.")
            return redirect("people:detail", pk=person.pk)
    return render(
        request,
        "scoring/override_form.html",
        {"form": form, "person": person, "card": queries.person_score(person)},
        status=400 if form.errors else 200,
    )


@page_requires(None)
@require_POST
def override_end(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person.objects.live(), pk=pk)
    require(_user(request), "scoring.override", person)
    if services.end_override(actor=_actor(request), person=person):
        messages.success(request, "Ended the override: the rules score this person again.")
    return redirect("people:detail", pk=person.pk)

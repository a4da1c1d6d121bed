"""Campaigns for marketers: list, create, edit, and a page with its budget and cost lines,
its people, forms and touchpoints, and what higher apps add (campaigns/extensions.py).

Reads come from campaigns/queries.py, writes go through campaigns/services.py.

Everyone signed in sees campaigns (the knowledge is shared); creating and
editing, and the budget and cost lines, need "campaigns.manage", checked on the server.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import can, page_requires, require
from tandem.campaigns import budgets, utm
from tandem.campaigns.extensions import render_sections
from tandem.campaigns.filters import CampaignFilter
from tandem.campaigns.forms import CampaignForm, CostForm, mappings_text
from tandem.campaigns.models import Campaign, CampaignCost, CampaignKind
from tandem.campaigns.queries import (
    campaign_costs,
    campaign_forms,
    campaign_people,
    campaigns_page,
    child_campaigns,
    recent_touchpoints,
    rollup,
)
from tandem.campaigns.queries import campaign_detail as campaign_detail_query
from tandem.campaigns.services import ancestor_ids, create_campaign, update_campaign
from tandem.core.audit import audit_for
from tandem.people.views.common import PAGE_SIZE, list_context

FIELDS = (
    "name",
    "key",
    "kind",
    "parent",
    "planned_budget",
    "starts_on",
    "ends_on",
    "description",
    "is_active",
)


# The campaign's history in words, not event codes.
EVENT_WORDS = {
    "created": "Created",
    "changed": "Changed",
    "cost_added": "Cost added",
    "cost_changed": "Cost changed",
    "cost_deleted": "Cost deleted",
    "utm_mappings_changed": "UTM mapping changed",
}


def _in_words(events: Any) -> list[Any]:
    events = list(events)
    for event in events:
        event.words = EVENT_WORDS.get(event.event, event.event.replace("_", " ").capitalize())
    return events


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


SORTS = [
    ("-created_at", "Newest first"),
    ("created_at", "Oldest first"),
    ("name", "Name, A–Z"),
    ("-name", "Name, Z–A"),
]


@page_requires(None)
def campaign_list(request: HttpRequest) -> HttpResponse:
    """The campaign list: one filter with the API (campaigns/filters.py), keyset pages."""
    user = _user(request)
    context, _ = list_context(
        request,
        CampaignFilter,
        lambda **read: campaigns_page(viewer=user, limit=PAGE_SIZE, **read),
    )
    context |= {
        "kinds": CampaignKind.choices,
        "sorts": SORTS,
        "can_manage": can(user, "campaigns.manage"),
    }
    status = 400 if context["errors"] else 200
    return render(request, "campaigns/campaign_list.html", context, status=status)


def _currency() -> str:
    return str(settings.TANDEM_BASE_CURRENCY)


def _utm_error(form: CampaignForm, exc: ValidationError) -> ValidationError | None:
    """Errors about the UTM mappings go next to the field, by line; the rest is returned."""
    if not hasattr(exc, "error_dict"):
        return exc
    rest = {}
    for name, errors in exc.message_dict.items():
        if name.startswith("utm_mappings"):
            parts = name.split(".")
            prefix = f"Line {int(parts[1]) + 1}: " if len(parts) > 1 else ""
            for message in errors:
                form.add_error("utm_mappings", prefix + message)
        else:
            rest[name] = errors
    return ValidationError(rest) if rest else None


def _save(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    require(_user(request), "campaigns.manage")
    initial: dict[str, Any] = (
        {name: getattr(campaign, name) for name in FIELDS} if campaign else {"is_active": True}
    )
    if campaign is not None:
        initial["utm_mappings"] = mappings_text(utm.mappings_of(campaign))
    form = CampaignForm(request.POST or None, initial=initial, currency=_currency())
    if campaign is not None:
        form.fields["parent"].queryset = Campaign.objects.exclude(pk=campaign.pk).order_by(  # type: ignore[attr-defined]
            "name", "id"
        )
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in FIELDS}
        mappings = form.cleaned_data["utm_mappings"]
        actor = Actor.for_user(_user(request))
        try:
            with transaction.atomic():
                if campaign is None:
                    saved = create_campaign(actor=actor, **data)
                    done = f"Made the campaign {saved.name}."
                else:
                    if not data["key"]:
                        data["key"] = campaign.key
                    saved = update_campaign(actor=actor, campaign=campaign, data=data)
                    done = f"Saved the campaign {saved.name}."
                utm.set_utm_mappings(actor=actor, campaign=saved, mappings=mappings)
        except ValidationError as exc:  # all rolled back: the campaign as it was
            rest = _utm_error(form, exc)
            if rest is not None:
                form.add_service_error(rest)
        else:
            messages.success(request, done)
            return redirect("campaigns:detail", pk=saved.pk)
    return render(
        request,
        "campaigns/campaign_form.html",
        {"form": form, "campaign": campaign},
        status=400 if form.errors else 200,
    )


@login_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@login_required
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save(request, get_object_or_404(Campaign, pk=pk))


PEOPLE_PAGE = 25


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("people_page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 6 and int(raw) > 0 else 1


@login_required
def campaign_detail(
    request: HttpRequest, pk: int, cost_form: CostForm | None = None
) -> HttpResponse:
    try:
        campaign = campaign_detail_query(pk)
    except Campaign.DoesNotExist:
        raise Http404("There is no such campaign.") from None
    user = _user(request)
    page = _page_number(request)
    people_rows = campaign_people(campaign, offset=(page - 1) * PEOPLE_PAGE, limit=PEOPLE_PAGE + 1)
    actual = campaign.actual_cost  # type: ignore[attr-defined]
    budget = campaign.planned_budget
    context = {
        "campaign": campaign,
        "forms": campaign_forms(campaign),
        "recent": recent_touchpoints(campaign),
        "touchpoint_count": campaign.touchpoint_count,  # type: ignore[attr-defined]
        "people_count": campaign.people_count,  # type: ignore[attr-defined]
        "people_rows": people_rows[:PEOPLE_PAGE],
        "people_page": page,
        "people_more": len(people_rows) > PEOPLE_PAGE,
        "costs": campaign_costs(campaign),
        "actual_cost": actual,
        "budget_left": None if budget is None else budget - actual,
        "budget_over": actual - budget if budget is not None and actual > budget else None,
        "budget_used_pct": (
            None if not budget else int((actual * 100 / budget).to_integral_value())
        ),
        "currency": _currency(),
        "children": child_campaigns(campaign),
        "rollup": rollup(campaign),
        "ancestors": _ancestors(campaign),
        "utm_mappings": utm.mappings_of(campaign),
        "cost_form": cost_form or CostForm(currency=_currency()),
        "sections": render_sections(campaign, request),
        "can_manage": can(user, "campaigns.manage"),
        "can_manage_forms": can(user, "capture.manage_forms"),
        "audit": _in_words(audit_for(campaign, limit=20)),
    }
    return render(
        request,
        "campaigns/campaign_detail.html",
        context,
        status=400 if cost_form is not None and cost_form.errors else 200,
    )


def _ancestors(campaign: Campaign) -> list[Campaign]:
    ids = ancestor_ids(campaign.pk)
    by_id = Campaign.objects.in_bulk(ids)
    return [by_id[i] for i in reversed(ids) if i in by_id]


# --- cost lines ---------------------------------------------------------------------------


@login_required
@require_POST
def cost_add(request: HttpRequest, pk: int) -> HttpResponse:
    require(_user(request), "campaigns.manage")
    campaign = get_object_or_404(Campaign, pk=pk)
    form = CostForm(request.POST, currency=_currency())
    if form.is_valid():
        try:
            budgets.add_campaign_cost(
                actor=Actor.for_user(_user(request)), campaign=campaign, data=form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "Added the cost.")
            return redirect(reverse("campaigns:detail", args=[pk]) + "#costs-title")
    return campaign_detail(request, pk, cost_form=form)


@login_required
def cost_edit(request: HttpRequest, pk: int, cost_id: int) -> HttpResponse:
    require(_user(request), "campaigns.manage")
    cost = get_object_or_404(
        CampaignCost.objects.select_related("campaign"), pk=cost_id, campaign_id=pk
    )
    initial = {"spent_on": cost.spent_on, "amount": cost.amount, "note": cost.note}
    form = CostForm(request.POST or None, initial=initial, currency=_currency())
    if request.method == "POST" and form.is_valid():
        try:
            budgets.update_campaign_cost(
                actor=Actor.for_user(_user(request)), cost=cost, data=form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "Saved the cost.")
            return redirect(reverse("campaigns:detail", args=[pk]) + "#costs-title")
    return render(
        request,
        "campaigns/cost_form.html",
        {"form": form, "cost": cost, "campaign": cost.campaign},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def cost_delete(request: HttpRequest, pk: int, cost_id: int) -> HttpResponse:
    require(_user(request), "campaigns.manage")
    cost = get_object_or_404(CampaignCost, pk=cost_id, campaign_id=pk)
    budgets.delete_campaign_cost(actor=Actor.for_user(_user(request)), cost=cost)
    messages.success(request, "Deleted the cost.")
    return redirect(reverse("campaigns:detail", args=[pk]) + "#costs-title")

"""Campaigns for marketers: list, create, edit, and a page with its forms and touchpoints.

Reads come from campaigns/queries.py, writes go through campaigns/services.py.

Everyone signed in sees campaigns (the knowledge is shared); creating and
editing needs "campaigns.manage", checked on the server.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import can, page_requires, require
from tandem.campaigns.filters import CampaignFilter
from tandem.campaigns.forms import CampaignForm
from tandem.campaigns.models import Campaign, CampaignKind
from tandem.campaigns.queries import campaign_detail as campaign_detail_query
from tandem.campaigns.queries import campaign_forms, campaigns_page, recent_touchpoints
from tandem.campaigns.services import create_campaign, update_campaign
from tandem.core.audit import audit_for
from tandem.people.views.common import PAGE_SIZE, list_context

FIELDS = ("name", "key", "kind", "starts_on", "ends_on", "description", "is_active")


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


def _save(request: HttpRequest, campaign: Campaign | None) -> HttpResponse:
    require(_user(request), "campaigns.manage")
    initial: dict[str, Any] = (
        {name: getattr(campaign, name) for name in FIELDS} if campaign else {"is_active": True}
    )
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in FIELDS}
        actor = Actor.for_user(_user(request))
        try:
            if campaign is None:
                campaign = create_campaign(actor=actor, **data)
                messages.success(request, f"Made the campaign {campaign.name}.")
            else:
                if not data["key"]:
                    data["key"] = campaign.key
                campaign = update_campaign(actor=actor, campaign=campaign, data=data)
                messages.success(request, f"Saved the campaign {campaign.name}.")
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            return redirect("campaigns:detail", pk=campaign.pk)
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


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        campaign = campaign_detail_query(pk)
    except Campaign.DoesNotExist:
        raise Http404("There is no such campaign.") from None
    context = {
        "campaign": campaign,
        "forms": campaign_forms(campaign),
        "recent": recent_touchpoints(campaign),
        "touchpoint_count": campaign.touchpoint_count,  # type: ignore[attr-defined]
        "people_count": campaign.people_count,  # type: ignore[attr-defined]
        "can_manage": can(_user(request), "campaigns.manage"),
        "can_manage_forms": can(_user(request), "capture.manage_forms"),
        "audit": audit_for(campaign, limit=20),
    }
    return render(request, "campaigns/campaign_detail.html", context)

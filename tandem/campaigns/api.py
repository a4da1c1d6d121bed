"""Campaigns over HTTP: fetch the campaign, call the service, return it.

Everyone signed in reads campaigns; creating and changing them needs
"campaigns.manage" (admins, managers, marketers), checked by the service, so a
read-only token or a salesperson gets 403. Errors are mapped in core/api_errors.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest
from ninja import P, PathEx, Query, QueryEx, Router, Status

from tandem.accounts.actor import Actor
from tandem.campaigns import budgets, services, utm
from tandem.campaigns.filters import CampaignFilter
from tandem.campaigns.models import Campaign, CampaignCost
from tandem.campaigns.queries import ZERO, campaign_detail, campaigns_page
from tandem.campaigns.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignPatch,
    CostIn,
    CostOut,
    CostPage,
    CostPatch,
)
from tandem.core.api_errors import ErrorOut
from tandem.core.pagination import MAX_LIMIT, MAX_OFFSET

router = Router(tags=["campaigns"])

CampaignId = PathEx[int, P(ge=1, le=2**63 - 1, description="Campaign id")]
CostId = PathEx[int, P(ge=1, le=2**63 - 1, description="Cost line id")]
LIMIT = P(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}")
OFFSET = P(ge=0, le=MAX_OFFSET, description="Near the top only; page deeper with `cursor`")


def _refusals(*statuses: int) -> dict[int, Any]:
    """The error statuses an operation can answer, each with the one error shape.

    400 the body is not JSON, 401 no valid credentials, 403 not allowed (role,
    read-only token, CSRF), 404 no such campaign, 409 the key is another
    campaign's (`field`: "key"), 413 body too large, 422 a value refused (schema
    or service rule, named in `detail`).
    """
    return dict.fromkeys(statuses, ErrorOut)


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


@router.get("/campaigns", response={200: CampaignPage, **_refusals(401, 422)})
def list_campaigns(
    request: HttpRequest,
    filters: Query[CampaignFilter],
    limit: QueryEx[int, LIMIT] = 50,
    offset: QueryEx[int, OFFSET] = 0,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Campaigns, filtered and sorted (newest first by default), with their counts."""
    page = campaigns_page(
        viewer=_actor(request).user, filters=filters, limit=limit, cursor=cursor, offset=offset
    )
    return {
        "items": page.items,
        "count": page.count,
        "count_exact": page.count_exact,
        "next_cursor": page.next_cursor,
        "limit": page.limit,
        "offset": page.offset,
    }


def _taken(exc: services.CampaignKeyTaken) -> Status:
    return Status(409, {"detail": " ".join(exc.messages), "field": "key"})


@router.post("/campaigns", response={201: CampaignOut, **_refusals(400, 401, 403, 409, 413, 422)})
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Status:
    """Add a campaign (admins, managers, marketers), with its parent, planned budget and
    UTM mappings; 409 when another campaign has the key."""
    data = payload.model_dump()
    mappings = data.pop("utm_mappings")
    actor = _actor(request)
    try:
        with transaction.atomic():
            campaign = services.create_campaign(actor=actor, **data)
            if mappings:
                utm.set_utm_mappings(actor=actor, campaign=campaign, mappings=mappings)
    except services.CampaignKeyTaken as exc:
        return _taken(exc)
    return Status(201, campaign_detail(campaign.pk))


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **_refusals(401, 404, 422)})
def get_campaign(request: HttpRequest, campaign_id: CampaignId) -> Campaign:
    return campaign_detail(campaign_id)


@router.patch(
    "/campaigns/{campaign_id}",
    response={200: CampaignOut, **_refusals(400, 401, 403, 404, 409, 413, 422)},
)
def update_campaign(
    request: HttpRequest, campaign_id: CampaignId, payload: CampaignPatch
) -> Campaign | Status:
    """Change the fields sent, all or nothing; a new key or new UTM mappings map future
    touchpoints only. `utm_mappings` replaces the list."""
    data = payload.model_dump(exclude_unset=True)
    mappings = data.pop("utm_mappings", None)
    actor = _actor(request)
    campaign = campaign_detail(campaign_id)
    try:
        with transaction.atomic():
            if data or mappings is None:
                services.update_campaign(actor=actor, campaign=campaign, data=data)
            if mappings is not None:
                utm.set_utm_mappings(actor=actor, campaign=campaign, mappings=mappings)
    except services.CampaignKeyTaken as exc:
        return _taken(exc)
    return campaign_detail(campaign_id)


# --- cost lines -------------------------------------------------------------------------


def _cost(campaign_id: int, cost_id: int) -> CampaignCost:
    return CampaignCost.objects.select_related("created_by").get(
        pk=cost_id, campaign_id=campaign_id
    )


@router.get("/campaigns/{campaign_id}/costs", response={200: CostPage, **_refusals(401, 404, 422)})
def list_costs(
    request: HttpRequest,
    campaign_id: CampaignId,
    limit: QueryEx[int, LIMIT] = 50,
    offset: QueryEx[int, OFFSET] = 0,
) -> dict[str, Any]:
    """The campaign's cost lines, newest spending first, with the total of them all."""
    campaign = Campaign.objects.get(pk=campaign_id)
    lines = campaign.costs.select_related("created_by").order_by("-spent_on", "-id")
    total = lines.order_by().aggregate(total=Sum("amount"))["total"]
    return {
        "items": list(lines[offset : offset + limit]),
        "count": lines.count(),
        "total": (total or ZERO).quantize(ZERO),
        "currency": settings.TANDEM_BASE_CURRENCY,
        "limit": limit,
        "offset": offset,
    }


@router.post(
    "/campaigns/{campaign_id}/costs",
    response={201: CostOut, **_refusals(400, 401, 403, 404, 413, 422)},
)
def add_cost(request: HttpRequest, campaign_id: CampaignId, payload: CostIn) -> Status:
    """Add a cost line (admins, managers, marketers)."""
    cost = budgets.add_campaign_cost(
        actor=_actor(request),
        campaign=Campaign.objects.get(pk=campaign_id),
        data=payload.model_dump(),
    )
    return Status(201, _cost(campaign_id, cost.pk))


@router.patch(
    "/campaigns/{campaign_id}/costs/{cost_id}",
    response={200: CostOut, **_refusals(400, 401, 403, 404, 413, 422)},
)
def update_cost(
    request: HttpRequest, campaign_id: CampaignId, cost_id: CostId, payload: CostPatch
) -> CampaignCost:
    """Change the fields sent of a cost line, all or nothing."""
    budgets.update_campaign_cost(
        actor=_actor(request),
        cost=_cost(campaign_id, cost_id),
        data=payload.model_dump(exclude_unset=True),
    )
    return _cost(campaign_id, cost_id)


@router.delete(
    "/campaigns/{campaign_id}/costs/{cost_id}",
    response={204: None, **_refusals(401, 403, 404, 422)},
)
def delete_cost(request: HttpRequest, campaign_id: CampaignId, cost_id: CostId) -> Status:
    budgets.delete_campaign_cost(actor=_actor(request), cost=_cost(campaign_id, cost_id))
    return Status(204, None)

"""Campaigns over HTTP: fetch the campaign, call the service, return it.

Everyone signed in reads campaigns; creating and changing them needs
"campaigns.manage" (admins, managers, marketers), checked by the service, so a
read-only token or a salesperson gets 403. Errors are mapped in core/api_errors.py.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import P, PathEx, Query, QueryEx, Router, Status

from tandem.accounts.actor import Actor
from tandem.campaigns import services
from tandem.campaigns.filters import CampaignFilter
from tandem.campaigns.models import Campaign
from tandem.campaigns.queries import campaign_detail, campaigns_page
from tandem.campaigns.schemas import CampaignIn, CampaignOut, CampaignPage, CampaignPatch
from tandem.core.api_errors import ErrorOut
from tandem.core.pagination import MAX_LIMIT, MAX_OFFSET

router = Router(tags=["campaigns"])

CampaignId = PathEx[int, P(ge=1, le=2**63 - 1, description="Campaign id")]
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
    """Add a campaign (admins, managers, marketers); 409 when another campaign has the key."""
    try:
        campaign = services.create_campaign(actor=_actor(request), **payload.model_dump())
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
    """Change the fields sent, all or nothing; a new key maps future utm_campaign values only."""
    try:
        services.update_campaign(
            actor=_actor(request),
            campaign=campaign_detail(campaign_id),
            data=payload.model_dump(exclude_unset=True),
        )
    except services.CampaignKeyTaken as exc:
        return _taken(exc)
    return campaign_detail(campaign_id)

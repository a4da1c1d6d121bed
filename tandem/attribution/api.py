"""Attribution over HTTP: GET /api/v1/attribution (reports.view; a read-only token may
call it). The arithmetic is engine.py's; bad parameters answer 422 naming the field."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.attribution.engine import CENT, MODELS, attribute, default_period
from tandem.attribution.schemas import AttributionOut, AttributionQuery

router = Router(tags=["attribution"])


@router.get("/attribution", response=AttributionOut, by_alias=True)
def attribution(request: HttpRequest, query: Query[AttributionQuery]) -> dict[str, Any]:
    """Won revenue (deals closed in the period) and open pipeline (deals created in it)
    credited to campaigns, channels, sources or touchpoint kinds under one model:
    first_touch, last_touch, linear, u_shaped (40/20/40), w_shaped (30/30/30 on the
    first, lead-creation and opportunity-creation touches, 10 over the rest), full_path
    (22.5 on those and the close touch, 10 over the rest), time_decay (half-life
    `half_life` days, 7 by default) or markov (removal effects on a Markov chain of won
    and lost deals' paths). A deal's path is its contacts' touchpoints up to its
    creation (its close for full_path), offline ones included; deals without one are
    the `unattributed` item. Amounts are split per deal in cents by largest remainder,
    so the items add up exactly to the totals."""
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    require(actor, "reports.view")
    start, end = default_period(query.from_, query.to)
    report = attribute(
        model=query.model,
        start=start,
        end=end,
        group_by=query.group_by,
        filters={"pipeline": query.pipeline, "owner": query.owner},
        half_life_days=query.half_life or 7.0,
    )
    return {
        "model": report.model,
        "model_label": MODELS[report.model],
        "group_by": report.group_by,
        "from": start,
        "to": end,
        "half_life": report.half_life_days,
        "items": [item.as_dict() for item in report.items],
        "total_revenue": report.total_revenue.quantize(CENT),
        "total_pipeline": report.total_pipeline.quantize(CENT),
        "deals_won": report.deals_won,
        "deals_open": report.deals_open,
        "total_cost": report.total_cost,
    }

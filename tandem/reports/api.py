"""The funnel over HTTP: GET /api/v1/funnel, the figures of the /funnel/ page.

Any signed-in caller may read it ("reports.view"); a read-only token will do. A bad
parameter answers 422 naming it (core/api_errors.py).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.reports import funnel
from tandem.reports.schemas import FunnelOut, FunnelQuery

router = Router(tags=["reports"])


@router.get("/funnel", response=FunnelOut, by_alias=True, url_name="reports_funnel")
def funnel_api(request: HttpRequest, query: Query[FunnelQuery]) -> dict[str, Any]:
    """Conversion by cohort (the month people were added) and days per stage (velocity)."""
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    require(actor, "reports.view")
    params = query.model_dump(by_alias=True)
    return funnel.as_dict(funnel.build(funnel.parse_filters(params)))

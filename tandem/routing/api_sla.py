"""Speed to lead over HTTP: the untouched leads (GET /leads/untouched) and the SLA report
(GET /reports/sla). Both read; a read-only token may call them.

Untouched leads: managers and admins ("routing.view_untouched") see everyone's;
anyone else their own and their team's queue (untouched.py), 403 for another
owner's. The report needs "sla.view_report" (marketers, managers, admins).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, P, Query, QueryEx, Router, Schema

from tandem.accounts.actor import Actor
from tandem.core.pagination import MAX_LIMIT
from tandem.routing import sla_report, untouched

router = Router(tags=["speed to lead"])
MAX_ID = 2**63 - 1  # the database's largest id


def _user(request: HttpRequest) -> Any:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor.user


class UntouchedOut(Schema):
    person_id: int
    person_name: str
    owner: int | None = Field(description="The owner's user id; null: the team's queue.")
    owner_name: str
    team: int | None
    team_name: str
    routed_at: dt.datetime
    routed_by: str = Field(description="The routing rule that matched, in words.")
    due_at: dt.datetime | None = Field(description="First contact due (null: no SLA).")
    overdue: bool
    sla_name: str


class UntouchedPageOut(Schema):
    items: list[UntouchedOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    limit: int
    all_owners: bool = Field(description="True when the list covers every owner's leads.")


class UntouchedFilter(Schema):
    owner: int | None = Field(
        None, ge=1, le=MAX_ID, description="Only this owner's leads (user id)."
    )
    team: int | None = Field(None, ge=1, le=MAX_ID, description="Only this team's leads (team id).")


@router.get("/leads/untouched", response=UntouchedPageOut)
def list_untouched(
    request: HttpRequest,
    filters: Query[UntouchedFilter],
    limit: QueryEx[int, P(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}")] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Routed leads nobody has contacted yet, oldest due first (no due date last)."""
    page = untouched.untouched_page(
        _user(request), owner=filters.owner, team=filters.team, limit=limit, cursor=cursor
    )
    return {
        "items": [untouched.as_item(h, page.now) for h in page.items],
        "next_cursor": page.next_cursor,
        "limit": page.limit,
        "all_owners": page.sees_all,
    }


class SlaRowOut(Schema):
    key: str = Field(description="The source, or the owner's or team's id ('' for none).")
    label: str
    handoffs: int
    met: int
    breached: int
    pending: int
    closed: int = Field(description="Sent back or handed on before due, without contact.")
    no_sla: int
    met_percent: float | None = Field(description="met / (met + breached), in percent.")
    median_seconds: float | None = Field(description="Business seconds to first contact.")
    p90_seconds: float | None


class SlaReportOut(Schema):
    group_by: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    rows: list[SlaRowOut]
    total: SlaRowOut


class SlaReportQuery(Schema):
    from_: dt.date | None = Field(None, alias="from", description="First day (routed_at).")
    to: dt.date | None = Field(None, description="Last day, included (default today).")
    group_by: Literal["source", "owner", "team"] = "source"


@router.get("/reports/sla", response=SlaReportOut, by_alias=True)
def sla_report_api(request: HttpRequest, query: Query[SlaReportQuery]) -> dict[str, Any]:
    """Hand-offs routed in the period: met, breached, pending; time to first contact."""
    report = sla_report.build(
        _user(request), group_by=query.group_by, start=query.from_, end=query.to
    )
    return {
        "group_by": report.group_by,
        "from": report.start,
        "to": report.end,
        "rows": [row.as_dict() for row in report.rows],
        "total": report.total.as_dict(),
    }

"""SLA policies and business hours over HTTP.

Everyone signed in reads them (a salesperson knows what they are held to); changing them
needs "sla.manage" (managers and admins), checked by the services, so a read-only token
gets 403. Errors are mapped in core/api_errors.py.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import P, PathEx, QueryEx, Router, Status

from tandem.accounts.actor import Actor
from tandem.accounts.models import Team
from tandem.core.pagination import MAX_LIMIT
from tandem.sla import queries, services
from tandem.sla.models import SlaPolicy
from tandem.sla.schemas import (
    BusinessHoursIn,
    BusinessHoursOut,
    BusinessHoursPage,
    SlaPolicyIn,
    SlaPolicyOut,
    SlaPolicyPage,
    SlaPolicyPatch,
)

router = Router(tags=["sla"])

Id = PathEx[int, P(ge=1, le=2**63 - 1, description="Id")]
LIMIT = P(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}")
OFFSET = P(ge=0, le=10_000)


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


@router.get("/sla-policies", response=SlaPolicyPage)
def list_sla_policies(
    request: HttpRequest, limit: QueryEx[int, LIMIT] = 50, offset: QueryEx[int, OFFSET] = 0
) -> dict[str, Any]:
    """Every policy in the order they are checked; the first that matches a lead applies."""
    rows = queries.policies()
    items = list(rows[offset : offset + limit])
    return {
        "items": items,
        "count": rows.count(),
        "count_exact": True,
        "next_cursor": None,
        "limit": limit,
        "offset": offset,
    }


@router.post("/sla-policies", response={201: SlaPolicyOut})
def create_sla_policy(request: HttpRequest, payload: SlaPolicyIn) -> Status:
    """Add a policy (managers, admins), last unless `position` says where."""
    data = payload.model_dump(exclude_unset=False)
    if data.get("position") is None:
        data.pop("position", None)
    policy = services.create_sla_policy(actor=_actor(request), data=data)
    return Status(201, SlaPolicy.objects.get(pk=policy.pk))


@router.get("/sla-policies/{policy_id}", response=SlaPolicyOut)
def get_sla_policy(request: HttpRequest, policy_id: Id) -> SlaPolicy:
    return get_object_or_404(SlaPolicy, pk=policy_id)


@router.patch("/sla-policies/{policy_id}", response=SlaPolicyOut)
def update_sla_policy(request: HttpRequest, policy_id: Id, payload: SlaPolicyPatch) -> SlaPolicy:
    """Change the fields sent; `position` moves the policy. Started clocks keep their due time."""
    policy = get_object_or_404(SlaPolicy, pk=policy_id)
    services.update_sla_policy(
        actor=_actor(request), policy=policy, data=payload.model_dump(exclude_unset=True)
    )
    return SlaPolicy.objects.get(pk=policy_id)


@router.delete("/sla-policies/{policy_id}", response={204: None})
def delete_sla_policy(request: HttpRequest, policy_id: Id) -> Status:
    policy = get_object_or_404(SlaPolicy, pk=policy_id)
    services.delete_sla_policy(actor=_actor(request), policy=policy)
    return Status(204, None)


@router.get("/business-hours", response=BusinessHoursPage)
def list_business_hours(request: HttpRequest) -> dict[str, Any]:
    """The company default first, then every team with the hours it works by."""
    items = queries.all_hours()
    return {"items": items, "count": len(items)}


@router.get("/business-hours/default", response=BusinessHoursOut)
def get_default_hours(request: HttpRequest) -> queries.BusinessHours:
    """The company's hours, used by every team without its own."""
    return queries.company_hours()


@router.put("/business-hours/default", response=BusinessHoursOut)
def put_default_hours(request: HttpRequest, payload: BusinessHoursIn) -> queries.BusinessHours:
    _set(request, None, payload)
    return queries.company_hours()


@router.get("/business-hours/{team_id}", response=BusinessHoursOut)
def get_team_hours(request: HttpRequest, team_id: Id) -> queries.BusinessHours:
    """The hours a team works by: its own (`uses`: "team"), else the company default."""
    return queries.team_hours(get_object_or_404(Team, pk=team_id))


@router.put("/business-hours/{team_id}", response=BusinessHoursOut)
def put_team_hours(
    request: HttpRequest, team_id: Id, payload: BusinessHoursIn
) -> queries.BusinessHours:
    """Give a team its own hours (managers, admins)."""
    team = get_object_or_404(Team, pk=team_id)
    _set(request, team, payload)
    return queries.team_hours(team)


@router.delete("/business-hours/{team_id}", response=BusinessHoursOut)
def reset_team_hours(request: HttpRequest, team_id: Id) -> queries.BusinessHours:
    """The team goes back to the company default; answers the hours it now works by."""
    team = get_object_or_404(Team, pk=team_id)
    services.reset_business_hours(actor=_actor(request), team=team)
    return queries.team_hours(team)


def _set(request: HttpRequest, team: Team | None, payload: BusinessHoursIn) -> None:
    data = payload.model_dump()
    data["hours"] = {day: [list(i) for i in intervals] for day, intervals in data["hours"].items()}
    data["closing_days"] = [
        {"date": d["date"].isoformat(), "name": d["name"]} for d in data["closing_days"]
    ]
    services.set_business_hours(actor=_actor(request), team=team, **data)

"""Routing rules over HTTP: /api/v1/routing-rules (list, create, get, patch, delete,
reorder) and the availability round-robin reads (capacity, out-of-office).

Everyone signed in reads the rules (a salesperson sees why a lead came to them);
writing needs "routing.manage_rules" (managers and admins), checked by the services,
so a read-only token gets 403. A user may record their own out-of-office.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import P, PathEx, Router, Status

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.routing import queries_rules, services_rules
from tandem.routing.models import OutOfOffice, RoutingRule
from tandem.routing.schemas_rules import (
    OutOfOfficeIn,
    OutOfOfficeOut,
    RoutingReorderIn,
    RoutingRuleIn,
    RoutingRuleOut,
    RoutingRulePatch,
    SalesAvailabilityOut,
    SalesCapacityIn,
)

router = Router(tags=["routing"])

Id = PathEx[int, P(ge=1, le=2**63 - 1, description="Id")]


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


@router.get("/routing-rules", response=list[RoutingRuleOut])
def list_rules(request: HttpRequest) -> list[RoutingRule]:
    """Every rule, in the order routing tries them."""
    return list(queries_rules.rules())


@router.post("/routing-rules", response={201: RoutingRuleOut})
def create_rule(request: HttpRequest, payload: RoutingRuleIn) -> Status:
    """A new rule, tried last (reorder to move it)."""
    rule = services_rules.create_rule(actor=_actor(request), data=payload.model_dump())
    return Status(201, queries_rules.rules().get(pk=rule.pk))


@router.post("/routing-rules/reorder", response=list[RoutingRuleOut])
def reorder_rules(request: HttpRequest, payload: RoutingReorderIn) -> list[RoutingRule]:
    """Put every rule in the given order."""
    services_rules.reorder_rules(actor=_actor(request), ids=payload.ids)
    return list(queries_rules.rules())


@router.get("/routing-rules/availability", response=list[SalesAvailabilityOut])
def availability(request: HttpRequest) -> list[Any]:
    """Each active user's capacity, open hand-offs and out-of-office days to come."""
    return queries_rules.availability()


@router.put("/routing-rules/capacity/{user_id}", response=SalesAvailabilityOut)
def set_capacity(request: HttpRequest, user_id: Id, payload: SalesCapacityIn) -> Any:
    user = get_object_or_404(User, pk=user_id, is_active=True)
    services_rules.set_capacity(
        actor=_actor(request), user=user, max_open_handoffs=payload.max_open_handoffs
    )
    return next(a for a in queries_rules.availability() if a.user.pk == user.pk)


@router.post("/routing-rules/out-of-office", response={201: OutOfOfficeOut})
def add_out_of_office(request: HttpRequest, payload: OutOfOfficeIn) -> Status:
    user = services_rules.user_by_id_or_name(payload.user)
    away = services_rules.add_out_of_office(
        actor=_actor(request),
        user=user,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        note=payload.note,
    )
    return Status(201, away)


@router.delete("/routing-rules/out-of-office/{away_id}", response={204: None})
def remove_out_of_office(request: HttpRequest, away_id: Id) -> Status:
    away = get_object_or_404(OutOfOffice.objects.select_related("user"), pk=away_id)
    services_rules.remove_out_of_office(actor=_actor(request), away=away)
    return Status(204, None)


@router.get("/routing-rules/{rule_id}", response=RoutingRuleOut)
def get_rule(request: HttpRequest, rule_id: Id) -> RoutingRule:
    return get_object_or_404(queries_rules.rules(), pk=rule_id)


@router.patch("/routing-rules/{rule_id}", response=RoutingRuleOut)
def update_rule(request: HttpRequest, rule_id: Id, payload: RoutingRulePatch) -> RoutingRule:
    rule = get_object_or_404(RoutingRule, pk=rule_id)
    services_rules.update_rule(
        actor=_actor(request), rule=rule, data=payload.model_dump(exclude_unset=True)
    )
    return queries_rules.rules().get(pk=rule.pk)


@router.delete("/routing-rules/{rule_id}", response={204: None})
def delete_rule(request: HttpRequest, rule_id: Id) -> Status:
    rule = get_object_or_404(RoutingRule, pk=rule_id)
    services_rules.delete_rule(actor=_actor(request), rule=rule)
    return Status(204, None)

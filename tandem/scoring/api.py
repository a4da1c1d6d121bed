"""Scoring over HTTP: rule sets and rules, a person's score and its override.

Everyone signed in reads rules and scores (explained in the open); writing and
activating rules needs "scoring.manage_rules", overriding "scoring.override"
on the person; checked by the services, so a read-only token gets 403.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import P, PathEx, Query, Router, Schema, Status
from pydantic import Field

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.people.models import Person
from tandem.scoring import backtest, queries, services
from tandem.scoring.models import Rule, RuleSet
from tandem.scoring.schemas import (
    ActivateIn,
    BacktestOut,
    EndOverrideIn,
    OverrideIn,
    PersonScoreOut,
    RuleIn,
    RuleOut,
    RulePatch,
    RuleSetIn,
    RuleSetOut,
    RuleSetPatch,
)

router = Router(tags=["scoring"])

Id = PathEx[int, P(ge=1, le=2**63 - 1, description="Id")]


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


@router.get("/rule-sets", response=list[RuleSetOut])
def list_rule_sets(request: HttpRequest) -> list[RuleSet]:
    """Every version, newest first; the `active` one scores everyone."""
    return list(queries.rule_sets()[:100])


@router.post("/rule-sets", response={201: RuleSetOut})
def create_rule_set(request: HttpRequest, payload: RuleSetIn) -> Status:
    """A new draft version, empty or a copy of `copy_from`."""
    source = None
    if payload.copy_from:
        source = RuleSet.objects.filter(pk=payload.copy_from).first()
        if source is None:
            raise ValidationError({"copy_from": "There is no such rule set."})
    rule_set = services.create_rule_set(
        actor=_actor(request),
        name=payload.name,
        copy_from=source,
        mql_threshold=payload.mql_threshold,
    )
    return Status(201, rule_set)


@router.get("/rule-sets/{rule_set_id}", response=RuleSetOut)
def get_rule_set(request: HttpRequest, rule_set_id: Id) -> RuleSet:
    return get_object_or_404(RuleSet, pk=rule_set_id)


@router.patch("/rule-sets/{rule_set_id}", response=RuleSetOut)
def update_rule_set(request: HttpRequest, rule_set_id: Id, payload: RuleSetPatch) -> RuleSet:
    """A draft's name, MQL threshold or notes (an active or retired set is 422)."""
    rule_set = get_object_or_404(RuleSet, pk=rule_set_id)
    return services.update_rule_set(
        actor=_actor(request), rule_set=rule_set, data=payload.model_dump(exclude_unset=True)
    )


@router.post("/rule-sets/{rule_set_id}/activate", response=RuleSetOut)
def activate_rule_set(request: HttpRequest, rule_set_id: Id, payload: ActivateIn) -> RuleSet:
    """Make this draft the active set (audited); the previous one is retired and
    everyone is rescored."""
    rule_set = get_object_or_404(RuleSet, pk=rule_set_id)
    return services.activate_rule_set(
        actor=_actor(request), rule_set=rule_set, reason=payload.reason
    )


class BacktestQuery(Schema):
    months: int = Field(
        backtest.DEFAULT_MONTHS,
        ge=1,
        le=backtest.MAX_MONTHS,
        description="How many months of outcomes to replay.",
    )


@router.get("/rule-sets/{rule_set_id}/backtest", response=BacktestOut)
def backtest_rule_set(
    request: HttpRequest, rule_set_id: Id, query: Query[BacktestQuery]
) -> dict[str, Any]:
    """Replay this set over the last `months` of outcomes, beside the active set: new MQLs,
    precision, recall and MQLs per week (see ADR 0011). Reads only; needs the right to
    manage rules."""
    require(_actor(request), "scoring.manage_rules")
    rule_set = get_object_or_404(RuleSet, pk=rule_set_id)
    return backtest.backtest_rule_set(rule_set, months=query.months).as_dict()


@router.post("/rule-sets/{rule_set_id}/rules", response={201: RuleOut})
def add_rule(request: HttpRequest, rule_set_id: Id, payload: RuleIn) -> Status:
    rule_set = get_object_or_404(RuleSet, pk=rule_set_id)
    rule = services.add_rule(actor=_actor(request), rule_set=rule_set, data=payload.model_dump())
    return Status(201, rule)


@router.patch("/rules/{rule_id}", response=RuleOut)
def update_rule(request: HttpRequest, rule_id: Id, payload: RulePatch) -> Rule:
    rule = get_object_or_404(Rule.objects.select_related("rule_set"), pk=rule_id)
    return services.update_rule(
        actor=_actor(request), rule=rule, data=payload.model_dump(exclude_unset=True)
    )


@router.delete("/rules/{rule_id}", response={204: None})
def delete_rule(request: HttpRequest, rule_id: Id) -> Status:
    rule = get_object_or_404(Rule.objects.select_related("rule_set"), pk=rule_id)
    services.delete_rule(actor=_actor(request), rule=rule)
    return Status(204, None)


def _score(person: Person) -> dict[str, Any]:
    card = queries.person_score(person)
    return {
        "person_id": person.pk,
        "score": card.score,
        "fit_score": card.fit_score,
        "engagement_score": card.engagement_score,
        "grade": card.grade,
        "is_not_a_lead": card.is_not_a_lead,
        "is_above_threshold": card.is_above_threshold,
        "mql_threshold": card.mql_threshold,
        "rule_set_version": card.rule_set_version,
        "scored_at": card.scored_at,
        "score_explanation": card.explanation,
        "override": card.override,
        "overrides": card.history,
    }


@router.get("/people/{person_id}", response=PersonScoreOut)
def get_person_score(request: HttpRequest, person_id: Id) -> dict[str, Any]:
    """A person's score, its explanation, and the override in force with its history."""
    return _score(get_object_or_404(Person.objects.live(), pk=person_id))


@router.post("/people/{person_id}/override", response={201: PersonScoreOut})
def override_score(request: HttpRequest, person_id: Id, payload: OverrideIn) -> Status:
    """Set a score, a grade or "not a lead" with a reason and optional expiry (marketers,
    managers, admins, and the salesperson who owns the person)."""
    person = get_object_or_404(Person.objects.live(), pk=person_id)
    services.override_score(actor=_actor(request), person=person, **payload.model_dump())
    return Status(201, _score(Person.objects.get(pk=person.pk)))


@router.post("/people/{person_id}/override/end", response=PersonScoreOut)
def end_override(request: HttpRequest, person_id: Id, payload: EndOverrideIn) -> dict[str, Any]:
    """End the override in force, so the rules score the person again."""
    person = get_object_or_404(Person.objects.live(), pk=person_id)
    services.end_override(actor=_actor(request), person=person, reason=payload.reason)
    return _score(Person.objects.get(pk=person.pk))

"""Helpers to build rule sets and people for scoring tests (through the services)."""

from __future__ import annotations

from typing import Any

from tandem.accounts.actor import Actor
from tandem.scoring import services
from tandem.scoring.models import RuleSet


def active_rules(rules: list[dict[str, Any]], *, threshold: int = 50) -> RuleSet:
    """A rule set with these rules, activated by the system."""
    actor = Actor.system("test")
    rule_set = services.create_rule_set(actor=actor, mql_threshold=threshold)
    for data in rules:
        services.add_rule(actor=actor, rule_set=rule_set, data=data)
    return services.activate_rule_set(actor=actor, rule_set=rule_set)


def fit(field: str, operator: str, value: Any, points: int, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "fit",
        "field": field,
        "operator": operator,
        "value": value,
        "points": points,
        **extra,
    }


def engagement(points: int, **extra: Any) -> dict[str, Any]:
    return {"kind": "engagement", "points": points, **extra}

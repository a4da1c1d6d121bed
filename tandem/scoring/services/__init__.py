"""Scoring writes: rule sets and rules (services.rules), overrides (services.overrides)."""

from tandem.scoring.services.overrides import end_override, override_score
from tandem.scoring.services.rules import (
    RULE_FIELDS,
    activate_rule_set,
    add_rule,
    create_rule_set,
    delete_rule,
    update_rule,
    update_rule_set,
)

__all__ = [
    "RULE_FIELDS",
    "activate_rule_set",
    "add_rule",
    "create_rule_set",
    "delete_rule",
    "end_override",
    "override_score",
    "update_rule",
    "update_rule_set",
]

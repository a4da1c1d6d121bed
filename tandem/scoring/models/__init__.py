from tandem.scoring.models.rules import (
    GRADES,
    EngagementSource,
    Operator,
    OverrideKind,
    PersonScore,
    Rule,
    RuleKind,
    RuleSet,
    RuleSetStatus,
    ScoreOverride,
)
from tandem.scoring.models.state import ScoringClock

__all__ = [
    "GRADES",
    "EngagementSource",
    "Operator",
    "OverrideKind",
    "PersonScore",
    "Rule",
    "RuleKind",
    "RuleSet",
    "RuleSetStatus",
    "ScoreOverride",
    "ScoringClock",
]

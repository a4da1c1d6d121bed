from tandem.scoring.models.predictive import ModelMethod, ModelVersion, PersonPrediction
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
    "ModelMethod",
    "ModelVersion",
    "Operator",
    "OverrideKind",
    "PersonPrediction",
    "PersonScore",
    "Rule",
    "RuleKind",
    "RuleSet",
    "RuleSetStatus",
    "ScoreOverride",
    "ScoringClock",
]

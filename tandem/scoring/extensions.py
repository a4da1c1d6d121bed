"""What apps above scoring hear from it (the pattern of people's extension points, ADR 0005).

- `ThresholdStep`: people whose rule score rose to the active rule set's MQL threshold
  in a rescore (it was below, or they had no score). Called after the rescore's
  commit with each person's new score; routing moves them to MQL and routes them.
  An override of "not a lead" keeps a person out.

`grep -rn "register_" tandem/*/apps.py` lists every contributor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Crossing:
    """People who reached the MQL threshold in one rescore."""

    scores: dict[int, int]  # person id -> new score
    threshold: int
    rule_set_version: int


@dataclass(frozen=True)
class ThresholdStep:
    key: str
    crossed: Callable[[Crossing], None]


_threshold_steps: dict[str, ThresholdStep] = {}


def register_threshold_crossed(step: ThresholdStep) -> None:
    _threshold_steps[step.key] = step


def threshold_steps() -> list[ThresholdStep]:
    return list(_threshold_steps.values())

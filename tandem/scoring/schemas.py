"""What the scoring API takes and returns (fields listed by name).

Inputs forbid unknown fields; what a schema can state is stated here, the
rest (a field a fit rule cannot test, a value its operator cannot use) is the
service's and answers 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, StrictBool

from tandem.campaigns.models import TouchpointKind
from tandem.people.models import ActivityKind
from tandem.people.schemas import ScoreReasonOut, StrictIn
from tandem.scoring.conditions import describe
from tandem.scoring.models import (
    EngagementSource,
    Operator,
    OverrideKind,
    Rule,
    RuleKind,
    RuleSetStatus,
)

Points = Field(ge=-1000, le=1000, description="Points per match; negative takes points off.")
FitValue = str | list[str | float] | None


class RuleIn(StrictIn):
    """A fit rule (`field`, `operator`, `value`) or an engagement rule (the filters,
    `half_life_days`, `max_points`); the fields of the other kind are ignored."""

    kind: RuleKind
    points: int = Points
    label: str = Field("", max_length=200, description="Words; blank: described from the rule.")
    position: int = Field(0, ge=0, le=10_000)
    field: str = Field(
        "",
        max_length=80,
        description="Fit: title, email, country, region, city, source, stage, company.name, "
        "company.industry, company.size, company.country, company.domain, custom.<key>, "
        "company.custom.<key>.",
    )
    operator: Operator | Literal[""] = ""
    value: FitValue = Field(
        "", description="Fit: text; a list for `in`; [low, high] for `between`."
    )
    source: EngagementSource = EngagementSource.TOUCHPOINT
    touchpoint_kind: TouchpointKind | Literal[""] = ""
    campaign: int | None = Field(None, ge=1, le=2**63 - 1, description="Campaign id.")
    form_id: int | None = Field(None, ge=1, le=2**63 - 1, description="Web form id.")
    page_contains: str = Field("", max_length=200)
    activity_kind: ActivityKind | Literal[""] = ""
    half_life_days: int | None = Field(
        None, ge=1, le=36_500, description="Points halve every this many days; null: no decay."
    )
    max_points: int | None = Field(None, ge=-100_000, le=100_000, description="Cap per rule.")


class RulePatch(StrictIn):
    """Only the fields sent change."""

    kind: RuleKind = None  # type: ignore[assignment]
    points: int = Field(None, ge=-1000, le=1000)  # type: ignore[assignment]
    label: str = Field(None, max_length=200)  # type: ignore[assignment]
    position: int = Field(None, ge=0, le=10_000)  # type: ignore[assignment]
    field: str = Field(None, max_length=80)  # type: ignore[assignment]
    operator: Operator | Literal[""] = None  # type: ignore[assignment]
    value: FitValue = None
    source: EngagementSource = None  # type: ignore[assignment]
    touchpoint_kind: TouchpointKind | Literal[""] = None  # type: ignore[assignment]
    campaign: int | None = Field(None, ge=1, le=2**63 - 1)
    form_id: int | None = Field(None, ge=1, le=2**63 - 1)
    page_contains: str = Field(None, max_length=200)  # type: ignore[assignment]
    activity_kind: ActivityKind | Literal[""] = None  # type: ignore[assignment]
    half_life_days: int | None = Field(None, ge=1, le=36_500)
    max_points: int | None = Field(None, ge=-100_000, le=100_000)


class RuleOut(Schema):
    id: int
    kind: RuleKind
    words: str = Field(description="The rule as explanations show it.")
    points: int
    label: str
    position: int
    field: str
    operator: str
    value: Any
    source: str
    touchpoint_kind: str
    campaign: int | None
    form_id: int | None
    page_contains: str
    activity_kind: str
    half_life_days: int | None
    max_points: int | None

    @staticmethod
    def resolve_words(obj: Rule) -> str:
        return describe(obj)

    @staticmethod
    def resolve_campaign(obj: Rule) -> int | None:
        return obj.campaign_id


class RuleSetIn(StrictIn):
    name: str = Field("", max_length=200)
    mql_threshold: int | None = Field(
        None, ge=0, le=100_000, description="Default: the copied set's, else 50."
    )
    copy_from: int | None = Field(
        None, ge=1, le=2**63 - 1, description="Rule set id whose rules the draft starts with."
    )


class RuleSetPatch(StrictIn):
    name: str = Field(None, max_length=200)  # type: ignore[assignment]
    mql_threshold: int = Field(None, ge=0, le=100_000)  # type: ignore[assignment]
    notes: str = Field(None, max_length=5000)  # type: ignore[assignment]


class ActivateIn(StrictIn):
    reason: str = Field("", max_length=500, description="Kept in the audit trail.")


class RuleSetOut(Schema):
    id: int
    version: int
    name: str
    status: RuleSetStatus
    mql_threshold: int
    notes: str
    created_at: dt.datetime
    activated_at: dt.datetime | None
    rules: list[RuleOut]

    @staticmethod
    def resolve_rules(obj: Any) -> list[Any]:
        return list(obj.rules.select_related("campaign").order_by("kind", "position", "id"))


class OverrideIn(StrictIn):
    kind: OverrideKind
    reason: str = Field(min_length=1, max_length=1000, pattern=r"\S", description="Required.")
    score: int | None = Field(None, ge=-1000, le=1000, description="For kind `score`.")
    grade: Literal["A", "B", "C", "D", ""] = Field("", description="For kind `grade`.")
    expires_at: dt.datetime | None = Field(
        None, description="When it lapses by itself (future; UTC without an offset)."
    )


class EndOverrideIn(StrictIn):
    reason: str = Field("", max_length=1000)


class OverrideOut(Schema):
    id: int
    kind: OverrideKind
    score: int | None
    grade: str
    reason: str
    expires_at: dt.datetime | None
    created_by: str = Field(description="Who set it.")
    created_at: dt.datetime
    ended_at: dt.datetime | None
    ended_by: str

    @staticmethod
    def resolve_created_by(obj: Any) -> str:
        return obj.created_by_label

    @staticmethod
    def resolve_ended_by(obj: Any) -> str:
        return obj.ended_by_label


class PersonScoreOut(Schema):
    person_id: int
    score: int
    fit_score: int
    engagement_score: int
    grade: str
    is_not_a_lead: StrictBool
    is_above_threshold: StrictBool = Field(
        description="Score at or above the active MQL threshold."
    )
    mql_threshold: int | None
    rule_set_version: int | None
    scored_at: dt.datetime | None
    score_explanation: list[ScoreReasonOut]
    override: OverrideOut | None = Field(description="The override in force, if any.")
    overrides: list[OverrideOut] = Field(description="History, newest first (up to 20).")


class BacktestWeekOut(Schema):
    starts: dt.date = Field(description="The week's first day.")
    mql: int = Field(description="People who became MQL that week.")


class BacktestResultOut(Schema):
    label: str
    version: int | None = Field(description="The rule set's version (null: rules from a file).")
    mql_threshold: int
    mql: int = Field(description="People who became MQL inside the window.")
    mql_before: int = Field(description="Already at or above the threshold when it opened.")
    converted: int = Field(description="Of `mql`, reached opportunity or later afterwards.")
    precision: float | None = Field(description="converted / mql (null: no MQLs).")
    positives: int = Field(description="People who reached opportunity or later in the window.")
    caught: int = Field(description="Of `positives`, flagged MQL before they got there.")
    recall: float | None = Field(description="caught / positives (null: none).")
    weeks: list[BacktestWeekOut]


class BacktestOut(Schema):
    months: int
    starts: dt.datetime
    ends: dt.datetime
    people: int = Field(description="People who existed at the end of the window.")
    draft: BacktestResultOut = Field(description="The rule set asked about.")
    current: BacktestResultOut | None = Field(
        description="The active set over the same weeks (null: none, or it is the one asked about)."
    )
    seconds: float

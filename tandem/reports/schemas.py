"""What GET /api/v1/funnel takes and returns (reports/funnel.py says what the figures mean)."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Schema

STAGE_KEYS = "subscriber, lead, mql, sal, opportunity, customer"
MONTH = r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$"
NO_NUL = r"^[^\x00]*$"  # PostgreSQL takes no NUL in a text
Size = Literal["", "1-10", "11-50", "51-200", "201-1000", "1001+"]


class FunnelQuery(Schema):
    from_: str | None = Field(
        None,
        alias="from",
        max_length=10,
        pattern=MONTH,
        description="First cohort month, YYYY-MM (a date YYYY-MM-DD means its month). "
        "Default: 11 months before `to`.",
    )
    to: str | None = Field(
        None,
        max_length=10,
        pattern=MONTH,
        description="Last cohort month, included. Default: this month.",
    )
    source: str | None = Field(
        None, max_length=100, pattern=NO_NUL, description="People with this source."
    )
    campaign: str | None = Field(
        None,
        max_length=100,
        description="Campaign id or key: people with a touchpoint of it or of a campaign under it.",
    )
    owner: str | None = Field(
        None, max_length=150, description="Owner's user id or user name; 'none' for unowned."
    )
    industry: str | None = Field(
        None, max_length=100, pattern=NO_NUL, description="The company's industry."
    )
    size: Size | None = Field(None, description="The company's size band.")
    country: str | None = Field(
        None,
        max_length=2,
        pattern=r"^([A-Za-z]{2})?$",
        description="The company's country (two letters).",
    )


class FiltersOut(Schema):
    from_: str = Field(alias="from")
    to: str
    source: str | None
    campaign: int | None
    owner: str | None
    industry: str | None
    size: str | None
    country: str | None


class CohortOut(Schema):
    month: str = Field(description="YYYY-MM, in the site's time zone.")
    entered: int = Field(description="People added that month.")
    reached: dict[str, int] = Field(description=f"Per stage ({STAGE_KEYS}): reached it or later.")
    reached_percent: dict[str, float | None] = Field(description="reached / entered × 100.")
    today: dict[str, int] = Field(description="Per stage: how many are at it today.")


class TotalOut(Schema):
    entered: int
    reached: dict[str, int]
    reached_percent: dict[str, float | None]
    today: dict[str, int]


class StepOut(Schema):
    from_stage: str
    to_stage: str
    reached_from: int
    reached_to: int
    percent: float | None = Field(description="reached_to / reached_from × 100.")


class VelocityOut(Schema):
    stage: str
    next_stage: str
    people: int = Field(description="People who entered the stage and reached a later one.")
    median_days: float | None
    p90_days: float | None = Field(description="90th percentile.")


class FunnelOut(Schema):
    filters: FiltersOut
    stages: list[str]
    cohorts: list[CohortOut]
    total: TotalOut
    steps: list[StepOut]
    velocity: list[VelocityOut]

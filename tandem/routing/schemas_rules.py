"""What /api/v1/routing-rules reads and writes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field, StrictBool

from tandem.people.schemas import UserRef
from tandem.routing.models import RoutingRule
from tandem.routing.queries_rules import describe

Kind = Literal["named_accounts", "territory", "segment", "round_robin", "fallback"]
KIND_HELP = "named_accounts, territory, segment, round_robin or fallback"
TEAM_HELP = "A team's id or name: its members take turns (a fallback: its queue)."
USER_HELP = "A user's id or username: gets every lead the rule matches."


class RoutingTeamRef(Schema):
    id: int
    name: str


class RoutingRuleIn(Schema):
    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    kind: Kind = Field(description=KIND_HELP)
    is_active: StrictBool = True
    countries: list[str] = Field(default_factory=list, description="ISO codes (territory).")
    regions: list[str] = Field(default_factory=list, description="Region names (territory).")
    postcode_ranges: list[list[str]] = Field(
        default_factory=list, description='[["10000", "19999"], ...] (territory).'
    )
    industries: list[str] = Field(default_factory=list, description="Company industries.")
    company_sizes: list[str] = Field(default_factory=list, description="Company sizes.")
    custom_field: str = Field("", description="A custom field's key (segment).")
    custom_values: list[str] = Field(default_factory=list, description="Its values to match.")
    team: int | str | None = Field(None, description=TEAM_HELP)
    user: int | str | None = Field(None, description=USER_HELP)


class RoutingRulePatch(Schema):
    name: str = Field(None, min_length=1, max_length=200, pattern=r"\S")  # type: ignore[assignment]
    kind: Kind = Field(None, description=KIND_HELP)  # type: ignore[arg-type]
    is_active: StrictBool = None  # type: ignore[assignment]
    countries: list[str] = None  # type: ignore[assignment]
    regions: list[str] = None  # type: ignore[assignment]
    postcode_ranges: list[list[str]] = None  # type: ignore[assignment]
    industries: list[str] = None  # type: ignore[assignment]
    company_sizes: list[str] = None  # type: ignore[assignment]
    custom_field: str = None  # type: ignore[assignment]
    custom_values: list[str] = None  # type: ignore[assignment]
    team: int | str | None = Field(None, description=TEAM_HELP)
    user: int | str | None = Field(None, description=USER_HELP)


class RoutingRuleOut(Schema):
    id: int
    name: str
    kind: str
    position: int = Field(description="1 is tried first.")
    is_active: bool
    countries: list[str]
    regions: list[str]
    postcode_ranges: list[list[str]]
    industries: list[str]
    company_sizes: list[str]
    custom_field: str
    custom_values: list[str]
    team: RoutingTeamRef | None
    user: UserRef | None
    description: str = Field(description="The rule in words.")
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_description(obj: RoutingRule) -> str:
        return describe(obj)


class RoutingReorderIn(Schema):
    ids: list[int] = Field(description="Every rule's id once, first tried first.")


class SalesCapacityIn(Schema):
    max_open_handoffs: int | None = Field(
        ge=0,
        le=100_000,
        description="Open hand-offs round-robin gives this user at most; null: no limit.",
    )


class OutOfOfficeIn(Schema):
    user: int | str = Field(description="A user's id or username.")
    starts_on: dt.date
    ends_on: dt.date
    note: str = Field("", max_length=200)


class OutOfOfficeOut(Schema):
    id: int
    user: UserRef
    starts_on: dt.date
    ends_on: dt.date
    note: str


class SalesAvailabilityOut(Schema):
    user: UserRef
    team: RoutingTeamRef | None
    max_open_handoffs: int | None
    open_handoffs: int
    is_away_today: bool
    out_of_office: list[OutOfOfficeOut]

    @staticmethod
    def resolve_user(obj: Any) -> Any:
        return obj.user

    @staticmethod
    def resolve_team(obj: Any) -> Any:
        return obj.user.team

    @staticmethod
    def resolve_out_of_office(obj: Any) -> list[Any]:
        return obj.away

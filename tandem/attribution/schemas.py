"""The attribution report's query and answer (GET /api/v1/attribution)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema

ModelKey = Literal[
    "first_touch",
    "last_touch",
    "linear",
    "u_shaped",
    "w_shaped",
    "full_path",
    "time_decay",
    "markov",
]
GroupKey = Literal["campaign", "channel", "source", "kind"]
MAX_ID = 2**63 - 1


class AttributionQuery(Schema):
    model: ModelKey = Field("linear", description="The attribution model.")
    from_: dt.date | None = Field(
        None, alias="from", description="First day (default: 89 days before `to`)."
    )
    to: dt.date | None = Field(None, description="Last day, included (default: today).")
    group_by: GroupKey = Field(
        "campaign",
        description="campaign; channel; source (the touch's utm_source); kind (of touchpoint).",
    )
    half_life: float | None = Field(
        None, gt=0, le=3650, description="time_decay: half-life in days (default 7)."
    )
    pipeline: int | None = Field(None, ge=1, le=MAX_ID, description="Only this pipeline's deals.")
    owner: int | None = Field(None, ge=1, le=MAX_ID, description="Only this owner's deals.")


class AttributionItemOut(Schema):
    key: str = Field(
        description="The campaign id, channel, source or kind; `none` for touches without "
        "one; `unattributed` for deals without any touchpoint."
    )
    label: str
    revenue: Decimal = Field(
        description="Won revenue credited (base currency, to the cent; items add up to "
        "`total_revenue` exactly)."
    )
    pipeline: Decimal = Field(description="Open pipeline credited by the same model.")
    deals_won: float = Field(
        description="Won deals credited, as fractions: each deal counts 1 in total, shared "
        "among its keys by the model's weights (two decimals)."
    )
    deals_open: float = Field(description="Open deals credited, as fractions.")
    cost: Decimal | None = Field(
        description="Campaign costs spent in the period (campaign grouping; null: no costs)."
    )
    roi: float | None = Field(description="(revenue - cost) / cost; null without a cost.")


class AttributionOut(Schema):
    model: str
    model_label: str
    group_by: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    half_life: float
    items: list[AttributionItemOut]
    total_revenue: Decimal = Field(description="Won deals closed in the period.")
    total_pipeline: Decimal = Field(description="Open deals created in the period.")
    deals_won: int
    deals_open: int
    total_cost: Decimal | None

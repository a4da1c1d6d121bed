"""Attribution: the won revenue and open pipeline of a period credited to campaigns,
channels, sources or touchpoint kinds, under one of nine models (issue 21).

    attribute(model=..., start=date, end=date, group_by="campaign") -> Report

The period: revenue is the base-currency amount of deals won with `closed_at` in
[start, end] (whole days in the site's time zone); pipeline is the amount of deals
still open that were created in it, credited by the same model. A deal's path is
every touchpoint of every one of its contacts up to the deal's creation (up to its
close for full_path), offline kinds included; deals with no touchpoint form the
"unattributed" item. Touchpoints without a value for the grouping (no campaign, no
channel, no UTM source) count under the key "none".

Per deal, the model gives each touch a weight (rules.py, markov.py), the weights are
summed per key, and the deal's amount is split in cents by largest remainder
(rounding.py): every item list adds up exactly to the total revenue and pipeline.
`deals_won` / `deals_open` are credited deal fractions: each deal counts 1 in total,
shared among its keys by weight, so they add up to the number of deals (two decimals).

Each deal's credit under every rule model, and its Markov path, is worked out once
from its path (paths.py, the functions here) and stored (store.py); a report brings
its period's deals up to date (refresh on read) and sums their stored cents, with no
touchpoint join (ADR 0013, with the figures against the issue's time targets).
`time_decay` with a half-life other than the default is credited from the paths
per request, as every model was before.

`cost` (campaign grouping only) is the sum of the campaign's cost lines spent in the
period; `roi` = (revenue - cost) / cost, when the cost is above zero.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from tandem.attribution import markov as markov_model
from tandem.attribution.paths import GROUP_COLUMNS, NONE, DealPath, deal_filter, load_paths
from tandem.attribution.rounding import split_cents
from tandem.attribution.rules import rule_weights
from tandem.campaigns.models import Campaign, CampaignCost, TouchpointKind

MODELS: dict[str, str] = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "linear": "Linear",
    "u_shaped": "U-shaped (40/20/40)",
    "w_shaped": "W-shaped (30/30/30 + 10)",
    "full_path": "Full path (22.5 × 4 + 10)",
    "time_decay": "Time decay",
    "markov": "Data-driven (Markov)",
}
GROUPS: dict[str, str] = {
    "campaign": "Campaign",
    "channel": "Channel",
    "source": "Source",
    "kind": "Touchpoint kind",
}
FILTERS = ("pipeline", "owner")
UNATTRIBUTED = "unattributed"
CENT = Decimal("0.01")


@dataclass
class Item:
    key: str
    label: str
    revenue: Decimal = Decimal("0.00")
    pipeline: Decimal = Decimal("0.00")
    deals_won: float = 0.0
    deals_open: float = 0.0
    cost: Decimal | None = None
    roi: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "revenue": self.revenue,
            "pipeline": self.pipeline,
            "deals_won": self.deals_won,
            "deals_open": self.deals_open,
            "cost": self.cost,
            "roi": self.roi,
        }


@dataclass
class Report:
    items: list[Item]
    total_revenue: Decimal
    total_pipeline: Decimal = Decimal("0.00")
    deals_won: int = 0
    deals_open: int = 0
    model: str = "linear"
    group_by: str = "campaign"
    start: dt.date | None = None
    end: dt.date | None = None
    half_life_days: float = 7.0
    total_cost: Decimal | None = None
    removal_effects: dict[str, float] = field(default_factory=dict)


def _check(
    model: str, start: Any, end: Any, group_by: str, half_life_days: Any, filters: dict | None
) -> dict[str, int]:
    errors: dict[str, str] = {}
    if model not in MODELS:
        errors["model"] = f"Choose one of: {', '.join(MODELS)}."
    if group_by not in GROUPS:
        errors["group_by"] = f"Choose one of: {', '.join(GROUPS)}."
    if not isinstance(start, dt.date):
        errors["from"] = "Give the first day as YYYY-MM-DD."
    elif not FIRST_DAY <= start <= LAST_DAY:
        errors["from"] = DAY_RANGE
    if not isinstance(end, dt.date):
        errors["to"] = "Give the last day as YYYY-MM-DD."
    elif not FIRST_DAY <= end <= LAST_DAY:
        errors["to"] = DAY_RANGE
    elif isinstance(start, dt.date) and end < start:
        errors["to"] = "The last day is before the first."
    try:
        half = float(half_life_days)
        if not 0 < half <= 3650:
            raise ValueError
    except (TypeError, ValueError):
        errors["half_life"] = "Give a half-life in days, above 0 and at most 3650."
    clean: dict[str, int] = {}
    for name, value in (filters or {}).items():
        if name not in FILTERS:
            errors[name] = f"Unknown filter; filter by {' or '.join(FILTERS)}."
        elif value is not None and value != "":
            try:
                clean[name] = int(value)
            except (TypeError, ValueError):
                errors[name] = "Give an id."
    if errors:
        raise ValidationError(errors)
    return clean


DEFAULT_DAYS = 90


FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(9998, 12, 31)
DAY_RANGE = f"Give a day from {FIRST_DAY} to {LAST_DAY}."


def default_period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The period asked for; by default the last 90 days up to today (site time zone)."""
    end = end or timezone.localdate()
    if start is None:
        try:
            start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
        except OverflowError:  # a day near year 1: refused by attribute(), named "to"
            start = dt.date.min
    return start, end


def period_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    first = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return first, after


def _deal_weights(
    model: str, path: DealPath, half_life_days: float, effects: dict[str, float]
) -> dict[str, float]:
    """The deal's weights summed per key, keys in order of their first touch."""
    if model == "markov":
        weighed = markov_model.markov_weights(path.keys, effects)
        return {k: w for k, w in weighed.items() if w > 0}
    return per_key(path.keys, touch_weights(model, path, half_life_days))


def touch_weights(model: str, path: DealPath, half_life_days: float) -> list[float]:
    """A rule model's weight for each touch of the path (the grouping plays no part)."""
    opened = None
    if model == "full_path":
        opened = sum(1 for t in path.times if t <= path.created)
        if path.status == "open":
            opened = len(path.times)
    return rule_weights(
        model,
        path.times,
        created=path.created,
        lead_at=path.lead_at,
        opened=opened,
        half_life_days=half_life_days,
    )


def per_key(keys: list[str], weights: list[float]) -> dict[str, float]:
    """Touch weights summed per key, keys in order of their first touch."""
    out: dict[str, float] = {}
    for key, weight in zip(keys, weights, strict=True):
        if weight > 0:  # a key with no share (first touch: all but one) is no item
            out[key] = out.get(key, 0.0) + weight
    return out or dict.fromkeys(keys, 1.0)


@dataclass
class Credit:
    """What a model gave each key, in cents, over a set of paths."""

    cents: dict[str, list[int]]  # key -> [revenue, pipeline]
    counts: dict[str, list[float]]  # key -> [won deal fractions, open deal fractions]
    won: int = 0
    opened: int = 0
    won_cents: int = 0
    open_cents: int = 0
    effects: dict[str, float] = field(default_factory=dict)


def credit_paths(model: str, paths: list[DealPath], half_life_days: float = 7.0) -> Credit:
    """Share each won and open deal's cents among the keys of its path (no database)."""
    half = float(half_life_days)
    effects: dict[str, float] = {}
    if model == "markov":
        effects = markov_model.removal_effects(
            (
                p.keys,
                p.status == "won",
            )
            for p in paths
            if p.status != "open" and p.keys
        )
    cents: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # key -> [won, open]
    counts: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    credit = Credit(cents, counts)
    for path in paths:
        if path.status == "lost":
            continue
        slot = 0 if path.status == "won" else 1
        if slot == 0:
            credit.won += 1
            credit.won_cents += path.cents
        else:
            credit.opened += 1
            credit.open_cents += path.cents
        if not path.keys:
            cents[UNATTRIBUTED][slot] += path.cents
            counts[UNATTRIBUTED][slot] += 1.0
            continue
        weights = _deal_weights(model, path, half, effects)
        total = sum(weights.values()) or 1.0
        for key, part in split_cents(path.cents, weights).items():
            cents[key][slot] += part
        for key, weight in weights.items():
            counts[key][slot] += weight / total
    credit.effects = effects
    return credit


def attribute(
    *,
    model: str,
    start: dt.date,
    end: dt.date,
    group_by: str = "campaign",
    filters: dict | None = None,
    half_life_days: float = 7,
) -> Report:
    """Credit the period's won revenue and open pipeline under `model` (see the module)."""
    clean = _check(model, start, end, group_by, half_life_days, filters)
    half = float(half_life_days)
    first, after = period_bounds(start, end)
    if model == "time_decay" and half != 7.0:
        # Stored for the default half-life only: another one is credited from the paths.
        paths = load_paths(start=first, end=after, group_by=group_by, filters=clean)
        credit = credit_paths(model, paths, half)
    else:
        from tandem.attribution import store  # it builds on this module's credit

        where, params = deal_filter(first, after, lost=model == "markov", filters=clean)
        store.refresh(where, params, group_by)
        credit = store.read(model, group_by, where, params)
    cents, counts, effects = credit.cents, credit.counts, credit.effects
    won, opened, won_cents, open_cents = (
        credit.won,
        credit.opened,
        credit.won_cents,
        credit.open_cents,
    )
    items = _items(group_by, cents, counts)
    total_cost = _add_costs(items, start, end) if group_by == "campaign" else None
    return Report(
        items=items,
        total_revenue=_money(won_cents),
        total_pipeline=_money(open_cents),
        deals_won=won,
        deals_open=opened,
        model=model,
        group_by=group_by,
        start=start,
        end=end,
        half_life_days=half,
        total_cost=total_cost,
        removal_effects=effects,
    )


def _money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def _items(
    group_by: str, cents: dict[str, list[int]], counts: dict[str, list[float]]
) -> list[Item]:
    labels = _labels(group_by, [k for k in cents if k not in (NONE, UNATTRIBUTED)])
    items = [
        Item(
            key=key,
            label=labels.get(key, key),
            revenue=_money(won),
            pipeline=_money(pipe),
            deals_won=round(counts[key][0], 2),
            deals_open=round(counts[key][1], 2),
        )
        for key, (won, pipe) in cents.items()
    ]
    return sorted(items, key=lambda i: (i.key == UNATTRIBUTED, -i.revenue, -i.pipeline, i.label))


def _labels(group_by: str, keys: list[str]) -> dict[str, str]:
    none = {
        "campaign": "No campaign",
        "channel": "No channel",
        "source": "No source",
        "kind": "No kind",
    }[group_by]
    labels = {NONE: none, UNATTRIBUTED: "Unattributed (no touchpoint)"}
    if group_by == "campaign":
        ids = [int(k) for k in keys if k.isdigit()]
        for pk, name in Campaign.objects.filter(pk__in=ids).values_list("pk", "name"):
            labels[str(pk)] = name
    elif group_by == "kind":
        labels.update({k: str(TouchpointKind(k).label) for k in keys if k in TouchpointKind})
    return labels


def _add_costs(items: list[Item], start: dt.date, end: dt.date) -> Decimal | None:
    """Cost and ROI per campaign item; campaigns that spent without credit get an item."""
    spent = dict(
        CampaignCost.objects.filter(spent_on__gte=start, spent_on__lte=end)
        .values("campaign")
        .annotate(total=Sum("amount"))
        .values_list("campaign", "total")
    )
    if not spent:
        return None
    by_key = {item.key: item for item in items}
    missing = [pk for pk in spent if str(pk) not in by_key]
    for pk, name in Campaign.objects.filter(pk__in=missing).values_list("pk", "name"):
        spender = Item(key=str(pk), label=name)
        items.insert(len([i for i in items if i.key != UNATTRIBUTED]), spender)
        by_key[spender.key] = spender
    for pk, total in spent.items():
        found = by_key.get(str(pk))
        if found is None:
            continue
        item = found
        item.cost = Decimal(total).quantize(CENT)
        if item.cost > 0:
            item.roi = round(float((item.revenue - item.cost) / item.cost), 4)
    return sum((Decimal(t) for t in spent.values()), Decimal("0")).quantize(CENT)


__all__ = ["GROUPS", "GROUP_COLUMNS", "MODELS", "Item", "Report", "attribute"]

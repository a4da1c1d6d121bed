"""The deals of a period and their touch paths, read in three set-based queries.

1. the deals: won deals closed in the period (revenue), open deals created in it
   (pipeline), and for the Markov chain the lost deals closed in it;
2. their touches: deal -> its contacts -> their touchpoints up to the deal's creation
   (up to its close for full_path), one indexed range read per contact on the
   touchpoint (person, occurred_at) index, each path then sorted by time here;
3. for the models that need it, each deal's lead moment: the earliest time one of
   its contacts became a lead (first stage change to `lead`, else their creation).

Times come back as days (floats) so the models can subtract them; only differences
matter, so SQLite's Julian days and PostgreSQL's epoch days serve alike.
"""

# ruff: noqa: S608 — the SQL is built from fixed fragments; values go as parameters

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

# A touch without a value is keyed 0 (campaign) or '' and counts under "none".
GROUP_COLUMNS = {
    "campaign": "COALESCE(t.campaign_id, 0)",
    "channel": "COALESCE(t.channel, '')",
    "source": "COALESCE(t.utm_source, '')",
    "kind": "t.kind",
}


@dataclass
class DealPath:
    deal_id: int
    status: str
    cents: int
    created: float
    lead_at: float | None = None
    times: list[float] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # item keys (key_of), in time order


NONE = "none"


def key_of(raw: Any) -> str:
    """A group value as an item key: no campaign (0), no channel (''): "none"."""
    return NONE if raw is None or raw == "" or raw == 0 else str(raw)


def days_sql(expr: str) -> str:
    if connection.vendor == "postgresql":
        return f"(CAST(EXTRACT(EPOCH FROM {expr}) AS DOUBLE PRECISION) / 86400.0)"
    return f"julianday({expr})"


def deal_filter(
    start: dt.datetime, end: dt.datetime, *, lost: bool, filters: dict[str, int]
) -> tuple[str, list[Any]]:
    statuses = "('won', 'lost')" if lost else "('won')"
    sql = (
        f"((d.status IN {statuses} AND d.closed_at >= %s AND d.closed_at < %s)"
        " OR (d.status = 'open' AND d.created_at >= %s AND d.created_at < %s))"
    )
    params: list[Any] = [start, end, start, end]
    if "pipeline" in filters:
        sql += " AND d.pipeline_id = %s"
        params.append(filters["pipeline"])
    if "owner" in filters:
        sql += " AND d.owner_id = %s"
        params.append(filters["owner"])
    return sql, params


def load_paths(
    *,
    start: dt.datetime,
    end: dt.datetime,
    group_by: str,
    to_close: bool = False,
    lost: bool = False,
    lead_moments: bool = False,
    filters: dict[str, int] | None = None,
) -> list[DealPath]:
    """The period's deals (ordered by id), each with its touches in time order."""
    where, params = deal_filter(start, end, lost=lost, filters=filters or {})
    column = GROUP_COLUMNS[group_by]
    limit = (
        "CASE WHEN d.status = 'open' THEN d.created_at ELSE COALESCE(d.closed_at, d.created_at) END"
        if to_close
        else "d.created_at"
    )
    deals: dict[int, DealPath] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.id, d.status, CAST(ROUND(d.amount_base * 100) AS BIGINT),"
            f" {days_sql('d.created_at')} FROM deals_deal d WHERE {where} ORDER BY d.id",
            params,
        )
        for deal_id, status, cents, created in cursor.fetchall():
            deals[deal_id] = DealPath(deal_id, status, int(cents or 0), float(created))
        if not deals:
            return []
        # Unordered: sorting ~1M rows in the database costs more than sorting each
        # deal's few dozen touches here.
        cursor.execute(
            f"SELECT d.id, {days_sql('t.occurred_at')}, t.id, {column}"
            " FROM deals_deal d"
            " JOIN deals_dealcontact dc ON dc.deal_id = d.id"
            f" JOIN campaigns_touchpoint t ON t.person_id = dc.person_id AND t.occurred_at <= {limit}"
            f" WHERE {where}",
            params,
        )
        touches: dict[int, list[tuple[float, int, str]]] = {}
        keys: dict[Any, str] = {}  # a few hundred values at most: converted once each
        for deal_id, at, touch_id, raw in _rows(cursor):
            key = keys.get(raw)
            if key is None:
                key = keys[raw] = key_of(raw)
            touches.setdefault(deal_id, []).append((at, touch_id, key))
        for deal_id, rows in touches.items():
            rows.sort(key=_by_time)
            path = deals[deal_id]
            path.times = [row[0] for row in rows]
            path.keys = [row[2] for row in rows]
        if lead_moments:
            became_lead = (
                "COALESCE((SELECT MIN(sc.changed_at) FROM people_stagechange sc"
                " WHERE sc.person_id = dc.person_id AND sc.to_stage = 'lead'), p.created_at)"
            )
            cursor.execute(
                f"SELECT d.id, MIN({days_sql(became_lead)}) FROM deals_deal d"
                " JOIN deals_dealcontact dc ON dc.deal_id = d.id"
                " JOIN people_person p ON p.id = dc.person_id"
                f" WHERE {where} GROUP BY d.id",
                params,
            )
            for deal_id, at in cursor.fetchall():
                if at is not None:
                    deals[deal_id].lead_at = float(at)
    return list(deals.values())


def _by_time(row: tuple[float, int, str]) -> tuple[float, int]:
    return row[0], row[1]


def _rows(cursor: Any, size: int = 20000) -> Iterator[tuple[Any, ...]]:
    while batch := cursor.fetchmany(size):
        yield from batch


@dataclass
class DealTouches:
    """One deal's touches for the stored credit: every grouping's keys at once, up to
    its close when won (full_path) and its creation otherwise."""

    deal_id: int
    status: str
    cents: int
    created: float
    lead_at: float | None = None
    times: list[float] = field(default_factory=list)
    opening: list[bool] = field(default_factory=list)  # at or before the deal's creation
    keys: dict[str, list[str]] = field(default_factory=dict)  # group_by -> keys

    def path(self, group_by: str, *, to_close: bool) -> DealPath:
        """The DealPath load_paths gives this deal (full_path: to_close)."""
        keys = self.keys.get(group_by, [])
        if to_close:
            times, chosen = self.times, keys
        else:
            times = [t for t, early in zip(self.times, self.opening, strict=True) if early]
            chosen = [k for k, early in zip(keys, self.opening, strict=True) if early]
        return DealPath(
            self.deal_id, self.status, self.cents, self.created, self.lead_at, times, chosen
        )


def load_deal_touches(deal_ids: list[int]) -> dict[int, DealTouches]:
    """These deals with their touches in time order (ties: touch id) and lead moments."""
    if not deal_ids:
        return {}
    marks = ", ".join(["%s"] * len(deal_ids))
    limit = (
        "CASE WHEN d.status = 'won' THEN COALESCE(d.closed_at, d.created_at) ELSE d.created_at END"
    )
    deals: dict[int, DealTouches] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.id, d.status, CAST(ROUND(d.amount_base * 100) AS BIGINT),"
            f" {days_sql('d.created_at')} FROM deals_deal d WHERE d.id IN ({marks})",
            deal_ids,
        )
        for deal_id, status, cents, created in cursor.fetchall():
            deals[deal_id] = DealTouches(deal_id, status, int(cents or 0), float(created))
        columns = ", ".join(GROUP_COLUMNS[g] for g in GROUPINGS)
        cursor.execute(
            f"SELECT d.id, {days_sql('t.occurred_at')}, t.id,"
            " CASE WHEN t.occurred_at <= d.created_at THEN 1 ELSE 0 END,"
            f" {columns}"
            " FROM deals_deal d"
            " JOIN deals_dealcontact dc ON dc.deal_id = d.id"
            f" JOIN campaigns_touchpoint t ON t.person_id = dc.person_id AND t.occurred_at <= {limit}"
            f" WHERE d.id IN ({marks})",
            deal_ids,
        )
        rows: dict[int, list[tuple[Any, ...]]] = {}
        for row in cursor.fetchall():
            rows.setdefault(row[0], []).append(row)
        known: dict[Any, str] = {}
        for deal_id, touches in rows.items():
            touches.sort(key=lambda r: (r[1], r[2]))
            found = deals[deal_id]
            found.times = [float(r[1]) for r in touches]
            found.opening = [bool(r[3]) for r in touches]
            for i, group_by in enumerate(GROUPINGS):
                keys = []
                for r in touches:
                    raw = r[4 + i]
                    key = known.get(raw)
                    if key is None:
                        key = known[raw] = key_of(raw)
                    keys.append(key)
                found.keys[group_by] = keys
        became_lead = (
            "COALESCE((SELECT MIN(sc.changed_at) FROM people_stagechange sc"
            " WHERE sc.person_id = dc.person_id AND sc.to_stage = 'lead'), p.created_at)"
        )
        cursor.execute(
            f"SELECT dc.deal_id, MIN({days_sql(became_lead)}) FROM deals_dealcontact dc"
            " JOIN people_person p ON p.id = dc.person_id"
            f" WHERE dc.deal_id IN ({marks}) GROUP BY dc.deal_id",
            deal_ids,
        )
        for deal_id, at in cursor.fetchall():
            if at is not None and deal_id in deals:
                deals[deal_id].lead_at = float(at)
    return deals


GROUPINGS = tuple(GROUP_COLUMNS)

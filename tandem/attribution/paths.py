"""The deals of a period and their touch paths, read in three set-based queries.

1. the deals: won deals closed in the period (revenue), open deals created in it
   (pipeline), and for the Markov chain the lost deals closed in it;
2. their touches: deal -> its contacts -> their touchpoints up to the deal's creation
   (up to its close for full_path), one indexed range read per contact on the
   touchpoint (person, occurred_at) index, sorted by deal and time;
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
    keys: list[Any] = field(default_factory=list)


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
        cursor.execute(
            f"SELECT d.id, {days_sql('t.occurred_at')}, {column}"
            " FROM deals_deal d"
            " JOIN deals_dealcontact dc ON dc.deal_id = d.id"
            f" JOIN campaigns_touchpoint t ON t.person_id = dc.person_id AND t.occurred_at <= {limit}"
            f" WHERE {where} ORDER BY d.id, t.occurred_at, t.id",
            params,
        )
        current: DealPath | None = None
        for deal_id, at, key in _rows(cursor):
            if current is None or current.deal_id != deal_id:
                current = deals[deal_id]
            current.times.append(at)
            current.keys.append(key)
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


def deal_totals(
    *, start: dt.datetime, end: dt.datetime, filters: dict[str, int] | None = None
) -> list[tuple[str, int, int]]:
    """(status, deals, cents) of the period's won and open deals."""
    where, params = deal_filter(start, end, lost=False, filters=filters or {})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.status, COUNT(*), SUM(CAST(ROUND(d.amount_base * 100) AS BIGINT))"
            f" FROM deals_deal d WHERE {where} GROUP BY d.status",
            params,
        )
        return [(s, int(n), int(c or 0)) for s, n, c in cursor.fetchall()]


def _rows(cursor: Any, size: int = 20000) -> Iterator[tuple[Any, ...]]:
    while batch := cursor.fetchmany(size):
        yield from batch

"""The rule-based models in one SQL statement: weights, cents and largest remainder.

The same arithmetic as rules.py and rounding.py, done by the database so that no
touchpoint row travels to Python (50k deals have ~1M touches; Python would spend
seconds on them). Steps, each a CTE:

1. `deals`: the period's won and open deals, with their amount in cents and, for the
   models that need it, the moment their first contact became a lead;
2. `touches`: deal -> contacts -> touchpoints up to the deal's creation (its close for
   full_path), with the touch's position `rn` (time order), the path length `n`, the
   touches up to the deal's creation `n_open` and up to the lead moment `n_lead`, and
   the newest touch (window functions partitioned by deal);
3. `weighted`: each touch's weight (rules.py) from those numbers;
4. `per_key`: weights summed per (deal, key), with the key's first position;
5. `ranked`: each key's exact share of the deal's cents, its floor, its remainder,
   its rank by remainder (ties: the earlier key) and the cents left to hand out;
6. the result: per key and status, floors plus one cent for each key ranked within
   the leftover, and the credited deal fractions.
Deals with no touch do not come out of the join: engine.py adds them as unattributed.
"""

# ruff: noqa: S608 — the SQL is built from fixed fragments; values go as parameters

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection

from tandem.attribution.paths import GROUP_COLUMNS, days_sql, deal_filter

SHARES: dict[str, tuple[list[tuple[str, float]], float]] = {
    # model -> (anchors as (position expression, share), rest share); positions 1-based.
    "u_shaped": ([("1", 40.0), ("n", 40.0)], 20.0),
    "w_shaped": ([("1", 30.0), ("lead_pos", 30.0), ("n", 30.0)], 10.0),
    "full_path": (
        [("1", 22.5), ("lead_pos", 22.5), ("opp_pos", 22.5), ("n", 22.5)],
        10.0,
    ),
}


def _positional(anchors: Sequence[tuple[str, float]], rest: float) -> str:
    """rules.positional in SQL: anchor shares summed, the rest over the non-anchors
    (over the distinct anchors when every touch is one)."""
    positions = [p for p, _ in anchors]
    parts = [f"CASE WHEN rn = {p} THEN {share} ELSE 0 END" for p, share in anchors]
    distinct = ["1"] + [
        f"CASE WHEN {p} NOT IN ({', '.join(positions[:i])}) THEN 1 ELSE 0 END"
        for i, p in enumerate(positions)
        if i
    ]
    count = "(" + " + ".join(distinct) + ")"
    is_anchor = f"rn IN ({', '.join(positions)})"
    spread = (
        f"CASE WHEN NOT ({is_anchor}) THEN {rest} / (n - {count})"
        f" WHEN n = {count} THEN {rest} / {count} ELSE 0 END"
    )
    return "(" + " + ".join([*parts, spread]) + ")"


def _weight(model: str) -> str:
    if model == "first_touch":
        return "CASE WHEN rn = 1 THEN 1.0 ELSE 0.0 END"
    if model == "last_touch":
        return "CASE WHEN rn = n THEN 1.0 ELSE 0.0 END"
    if model == "linear":
        return "1.0"
    if model == "time_decay":
        return "POWER(2.0, -(newest - at) / %s)"
    anchors, rest = SHARES[model]
    return _positional(anchors, rest)


def credit_sql(
    *,
    model: str,
    start: dt.datetime,
    end: dt.datetime,
    group_by: str,
    half_life_days: float,
    filters: dict[str, int],
) -> list[tuple[Any, str, int, float]]:
    """(raw key, status, cents, deal fractions) per key and status ('won' / 'open')."""
    where, params = deal_filter(start, end, lost=False, filters=filters)
    needs_lead = model in ("w_shaped", "full_path")
    limit = (
        "CASE WHEN x.status = 'open' THEN x.created_at ELSE COALESCE(x.closed_at, x.created_at) END"
        if model == "full_path"
        else "x.created_at"
    )
    lead_column = ""
    lead_count = "0"
    if needs_lead:
        # Per deal, once: the earliest moment one of its contacts became a lead.
        became_lead = (
            "COALESCE((SELECT MIN(sc.changed_at) FROM people_stagechange sc"
            " WHERE sc.person_id = dc.person_id AND sc.to_stage = 'lead'), p.created_at)"
        )
        lead_column = (
            f", (SELECT MIN({became_lead}) FROM deals_dealcontact dc"
            " JOIN people_person p ON p.id = dc.person_id WHERE dc.deal_id = d.id) AS lead_at"
        )
        lead_count = "CASE WHEN t.occurred_at <= x.lead_at THEN 1 ELSE 0 END"
    key = GROUP_COLUMNS[group_by]
    # One window for every column (the same partition, order and whole-path frame), so
    # the database sorts the touches once.
    ordered = "PARTITION BY x.id ORDER BY t.occurred_at, t.id"
    whole = f"{ordered} ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"
    opp_pos = "CASE WHEN n_open < 1 THEN 1 ELSE n_open END"
    cap = "n" if model == "w_shaped" else f"({opp_pos})"
    lead_pos = f"CASE WHEN n_lead < 1 THEN 1 WHEN n_lead > {cap} THEN {cap} ELSE n_lead END"
    weight = _weight(model).replace("lead_pos", f"({lead_pos})").replace("opp_pos", f"({opp_pos})")
    # Only the window columns the model reads: each costs a pass over the touches.
    columns = [f"ROW_NUMBER() OVER ({ordered}) AS rn"]
    if model in ("last_touch", "u_shaped", "w_shaped", "full_path"):
        columns.append(f"COUNT(*) OVER ({whole}) AS n")
    if model == "full_path":
        columns.append(
            f"SUM(CASE WHEN t.occurred_at <= x.created_at THEN 1 ELSE 0 END) OVER ({whole})"
            " AS n_open"
        )
    if needs_lead:
        columns.append(f"SUM({lead_count}) OVER ({whole}) AS n_lead")
    if model == "time_decay":
        at = days_sql("t.occurred_at")
        columns += [f"{at} AS at", f"MAX({at}) OVER ({whole}) AS newest"]
    sql = f"""
    WITH deals AS (
        SELECT d.id, d.status, d.created_at, d.closed_at,
               CAST(ROUND(d.amount_base * 100) AS BIGINT) AS cents{lead_column}
        FROM deals_deal d WHERE {where}
    ),
    touches AS (
        SELECT x.id AS deal_id, x.status, x.cents, {key} AS key, {", ".join(columns)}
        FROM deals x
        JOIN deals_dealcontact dc ON dc.deal_id = x.id
        JOIN campaigns_touchpoint t ON t.person_id = dc.person_id AND t.occurred_at <= {limit}
    ),
    weighted AS (
        SELECT deal_id, status, cents, key, rn, {weight} AS w FROM touches
    ),
    per_key AS (
        SELECT deal_id, status, cents, key, SUM(w) AS w, MIN(rn) AS first_rn
        FROM weighted GROUP BY deal_id, status, cents, key HAVING SUM(w) > 0
    ),
    shares AS (
        SELECT deal_id, status, cents, key, first_rn,
               w / SUM(w) OVER (PARTITION BY deal_id) AS frac,
               cents * w / SUM(w) OVER (PARTITION BY deal_id) AS exact
        FROM per_key
    ),
    ranked AS (
        SELECT key, status, frac, FLOOR(exact) AS base,
               ROW_NUMBER() OVER (PARTITION BY deal_id
                   ORDER BY ROUND(CAST(exact - FLOOR(exact) AS NUMERIC), 9) DESC, first_rn) AS pos,
               cents - SUM(FLOOR(exact)) OVER (PARTITION BY deal_id) AS leftover
        FROM shares
    )
    SELECT key, status, SUM(base + CASE WHEN pos <= leftover THEN 1 ELSE 0 END), SUM(frac)
    FROM ranked GROUP BY key, status
    """
    half = [float(half_life_days)] if model == "time_decay" else []
    with connection.cursor() as cursor:
        cursor.execute(sql, params + half)
        return [(k, s, round(float(c)), float(f)) for k, s, c, f in cursor.fetchall()]

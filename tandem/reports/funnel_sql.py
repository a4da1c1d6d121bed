"""The funnel's one statement, for SQLite and PostgreSQL (funnel.py says what it counts).

    pp    one row per person of the chosen cohorts: their cohort (by `created_at`
          against month boundaries computed in the site's time zone), the furthest
          stage their history or their stage today reached, the first time they
          entered each stage, and the first time they reached anything past it;
    conv  per cohort: people, how many reached each stage, where they are today;
    dur   per person and stage: whole hours from entering it to reaching a later one;
    vel   per stage: how many moved on, median and 90th percentile of those hours
          (PostgreSQL: percentile_cont; SQLite: the same interpolation over a
          histogram of hours, with window functions).

Every value from the request is a parameter; only the repository's own constants
(table names, stage names, the number of months) are written into the text.
"""

# ruff: noqa: S608 — the SQL text holds only constants; values are parameters

from __future__ import annotations

from typing import Any

from tandem.campaigns.models import Touchpoint
from tandem.people.models import Company, Person, Stage, StageChange

# Funnel rank of each stage; advocate is past customer; the side exits have none.
RANKS: dict[str, int] = {
    Stage.SUBSCRIBER: 1,
    Stage.LEAD: 2,
    Stage.MQL: 3,
    Stage.SAL: 4,
    Stage.OPPORTUNITY: 5,
    Stage.CUSTOMER: 6,
    Stage.ADVOCATE: 6,
}
STEP_STAGES = ("subscriber", "lead", "mql", "sal", "opportunity", "customer")
TODAY_STAGES = (*STEP_STAGES, "advocate", "disqualified", "recycled")
VELOCITY_STEPS = 5  # subscriber .. opportunity: the stages with a next one


def _rank(column: str) -> str:
    whens = " ".join(f"WHEN '{stage}' THEN {rank}" for stage, rank in RANKS.items())
    return f"(CASE {column} {whens} ELSE 0 END)"


def _cohort(column: str, count: int) -> str:
    """The 0-based month of `column` (bounds are parameters %s: the starts of months 1..n-1)."""
    if count == 1:
        return "0"
    whens = " ".join(f"WHEN {column} < %s THEN {i}" for i in range(count - 1))
    return f"(CASE {whens} ELSE {count - 1} END)"


def _hours(vendor: str, start: str, end: str) -> str:
    if vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) / 3600)::bigint"
    return f"((unixepoch({end}) - unixepoch({start})) / 3600)"


def _velocity(vendor: str) -> str:
    if vendor == "postgresql":
        return """vel AS (
            SELECT k, COUNT(*) AS n,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY h) AS p50,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY h) AS p90
            FROM dur GROUP BY k
        )"""
    # Value at 0-based rank i = the smallest h whose running count exceeds i; the
    # percentile sits at rank (n - 1) * q: its floor, the next rank, and the fraction
    # between them, in integer arithmetic so 90% of 11 is exactly rank 9.
    return """hist AS (SELECT k, h, COUNT(*) AS c FROM dur GROUP BY k, h),
        cum AS (
            SELECT k, h,
                SUM(c) OVER (PARTITION BY k ORDER BY h) AS upto,
                SUM(c) OVER (PARTITION BY k) AS n
            FROM hist
        ),
        ranks AS (
            SELECT k, h, upto, n,
                (n - 1) / 2 AS lo50, ((n - 1) % 2) / 2.0 AS f50,
                ((n - 1) * 9) / 10 AS lo90, (((n - 1) * 9) % 10) / 10.0 AS f90
            FROM cum
        ),
        picks AS (
            SELECT k, MAX(n) AS n, MAX(f50) AS f50, MAX(f90) AS f90,
                MIN(CASE WHEN upto > lo50 THEN h END) AS a50,
                MIN(CASE WHEN upto > lo50 + 1 THEN h END) AS b50,
                MIN(CASE WHEN upto > lo90 THEN h END) AS a90,
                MIN(CASE WHEN upto > lo90 + 1 THEN h END) AS b90
            FROM ranks GROUP BY k
        ),
        vel AS (
            SELECT k, n,
                a50 + (COALESCE(b50, a50) - a50) * f50 AS p50,
                a90 + (COALESCE(b90, a90) - a90) * f90 AS p90
            FROM picks
        )"""


def statement(
    *,
    vendor: str,
    bounds: list[Any],
    source: str | None = None,
    campaigns: list[int] | None = None,
    owner: int | str | None = None,
    industry: str | None = None,
    size: str | None = None,
    country: str | None = None,
) -> tuple[str, list[Any]]:
    """The SQL and its parameters. `bounds`: month starts in UTC, the last one the end.

    Rows: ("c", cohort, people, reached × 6, today × 9, NULL, NULL) per cohort with
    people, then ("v", step 1..5, people who moved on, NULL × 15, median h, p90 h).
    """
    person, change = Person._meta.db_table, StageChange._meta.db_table
    company, touchpoint = Company._meta.db_table, Touchpoint._meta.db_table
    months = len(bounds) - 1
    params: list[Any] = list(bounds[1:-1])  # the cohort CASE comes first in the text
    where = ["p.deleted_at IS NULL", "p.created_at >= %s", "p.created_at < %s"]
    where_params: list[Any] = [bounds[0], bounds[-1]]
    joins = []
    if source is not None:
        where.append("p.source = %s")
        where_params.append(source)
    if owner == "none":
        where.append("p.owner_id IS NULL")
    elif owner is not None:
        where.append("p.owner_id = %s")
        where_params.append(owner)
    segment = {"industry": industry, "size": size, "country": country}
    if any(v is not None for v in segment.values()):
        joins.append(f"JOIN {company} co ON co.id = p.company_id")
        for column, value in segment.items():
            if value is not None:
                where.append(f"co.{column} = %s")
                where_params.append(value)
    if campaigns:
        marks = ", ".join(["%s"] * len(campaigns))
        where.append(
            f"p.id IN (SELECT t.person_id FROM {touchpoint} t WHERE t.campaign_id IN ({marks}))"
        )
        where_params.extend(campaigns)
    params += where_params

    entered = ",\n".join(
        f"MIN(CASE WHEN sc.to_stage = '{stage}' THEN sc.changed_at END) AS e{i}"
        for i, stage in enumerate(STEP_STAGES[:VELOCITY_STEPS], start=1)
    )
    past = ",\n".join(
        f"MIN(CASE WHEN sc.r > {i} THEN sc.changed_at END) AS n{i}"
        for i in range(1, VELOCITY_STEPS + 1)
    )
    reached = ", ".join(
        f"SUM(CASE WHEN r >= {i} THEN 1 ELSE 0 END)" for i in range(1, len(STEP_STAGES) + 1)
    )
    today = ", ".join(
        f"SUM(CASE WHEN now_stage = '{stage}' THEN 1 ELSE 0 END)" for stage in TODAY_STAGES
    )
    pick_entered = " ".join(f"WHEN {i} THEN pp.e{i}" for i in range(1, VELOCITY_STEPS + 1))
    pick_past = " ".join(f"WHEN {i} THEN pp.n{i}" for i in range(1, VELOCITY_STEPS + 1))
    values = ", ".join(f"({i})" for i in range(1, VELOCITY_STEPS + 1))
    nulls = ", ".join(["NULL"] * (len(STEP_STAGES) + len(TODAY_STAGES)))
    sql = f"""
        WITH pp AS (
            SELECT {_cohort("p.created_at", months)} AS cohort,
                p.stage AS now_stage,
                {_rank("p.stage")} AS now_rank,
                MAX(sc.r) AS top,
                {entered},
                {past}
            FROM {person} p
            {" ".join(joins)}
            LEFT JOIN (
                SELECT person_id, to_stage, changed_at, {_rank("to_stage")} AS r FROM {change}
            ) sc ON sc.person_id = p.id
            WHERE {" AND ".join(where)}
            GROUP BY p.created_at, p.id
        ),
        conv AS (
            SELECT cohort, COUNT(*) AS n, {reached}, {today}
            FROM (
                SELECT cohort, now_stage,
                    CASE WHEN COALESCE(top, 0) > now_rank THEN top ELSE now_rank END AS r
                FROM pp
            ) x
            GROUP BY cohort
        ),
        steps(k) AS (VALUES {values}),
        dur AS (
            SELECT k, {_hours(vendor, "e", "nx")} AS h
            FROM (
                SELECT steps.k AS k,
                    CASE steps.k {pick_entered} END AS e,
                    CASE steps.k {pick_past} END AS nx
                FROM pp CROSS JOIN steps
            ) d
            WHERE e IS NOT NULL AND nx IS NOT NULL AND nx >= e
        ),
        {_velocity(vendor)}
        SELECT 'c', conv.*, NULL, NULL FROM conv
        UNION ALL
        SELECT 'v', k, n, {nulls}, p50, p90 FROM vel
    """
    return sql, params

"""The funnel's one statement, for SQLite and PostgreSQL (funnel.py says what it counts).

    pp    one row per person of the chosen cohorts with their folded history
          (reports.FunnelFact, kept by funnel_facts.py): their cohort (by `created_at`
          against month boundaries computed in the site's time zone), the furthest
          stage their history or their stage today reached, their stage today, and
          per stage the whole hours from first entering it to first reaching any
          later one;
    conv  per cohort: people, how many reached each stage, where they are today;
    dur   those hours, one row per person and stage;
    vel   per stage: how many moved on, median and 90th percentile of those hours
          (percentile_cont's interpolation over a histogram of the hours, with
          window functions, on both databases).

Every value from the request is a parameter; only the repository's own constants
(table names, stage names, the number of months) are written into the text.
"""

# ruff: noqa: S608 — the SQL text holds only constants; values are parameters

from __future__ import annotations

import datetime as dt
from typing import Any

from tandem.campaigns.models import Touchpoint
from tandem.people.models import Company, Person, Stage
from tandem.reports.funnel_facts import HOURS_COLUMNS
from tandem.reports.models import FunnelCell, FunnelFact, FunnelHours

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


def rank_sql(column: str) -> str:
    return _rank(column)


def _rank(column: str) -> str:
    whens = " ".join(f"WHEN '{stage}' THEN {rank}" for stage, rank in RANKS.items())
    return f"(CASE {column} {whens} ELSE 0 END)"


def _cohort(column: str, count: int) -> tuple[str, list[int]]:
    """The 0-based month of `column`, by halving (about log2(months) comparisons a person).

    Returns the expression and, in the order its %s appear, the indexes of the month
    starts it compares with (1 .. count - 1; the caller passes those bounds).
    """

    def pick(lo: int, hi: int) -> tuple[str, list[int]]:  # months lo .. hi
        if lo == hi:
            return str(lo), []
        mid = (lo + hi + 1) // 2
        below, below_marks = pick(lo, mid - 1)
        above, above_marks = pick(mid, hi)
        return (
            f"(CASE WHEN {column} < %s THEN {below} ELSE {above} END)",
            [mid, *below_marks, *above_marks],
        )

    return pick(0, count - 1)


def _velocity() -> str:
    """Median and 90th percentile per stage from a histogram of the hours, on both
    databases: the same interpolation as PostgreSQL's percentile_cont, which sorted
    ~1.4M durations for 36 months (1.5 s) where the histogram hashes them (1.2 s).
    """
    # Value at 0-based rank i = the smallest h whose running count exceeds i; the
    # percentile sits at rank (n - 1) * q: its floor, the next rank, and the fraction
    # between them, in integer arithmetic so 90% of 11 is exactly rank 9.
    return "hist AS (SELECT k, h, COUNT(*) AS c FROM dur GROUP BY k, h),\n" + _percentiles()


def _percentiles() -> str:
    """vel (k, n, p50, p90) from hist (k, h, c): the hours h of step k, c times."""
    return """cum AS (
            SELECT k, h,
                CAST(SUM(c) OVER (PARTITION BY k ORDER BY h) AS BIGINT) AS upto,
                CAST(SUM(c) OVER (PARTITION BY k) AS BIGINT) AS n
            FROM hist
        ),
        ranks AS (
            SELECT k, h, upto, n,
                (n - 1) / 2 AS lo50, ((n - 1) %% 2) / 2.0 AS f50,
                ((n - 1) * 9) / 10 AS lo90, (((n - 1) * 9) %% 10) / 10.0 AS f90
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
    person, fact = Person._meta.db_table, FunnelFact._meta.db_table
    company, touchpoint = Company._meta.db_table, Touchpoint._meta.db_table
    months = len(bounds) - 1
    cohort, marks = _cohort("p.created_at", months)
    params: list[Any] = [bounds[i] for i in marks]  # the cohort CASE comes first in the text
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
        placeholders = ", ".join(["%s"] * len(campaigns))
        where.append(
            f"p.id IN (SELECT t.person_id FROM {touchpoint} t "
            f"WHERE t.campaign_id IN ({placeholders}))"
        )
        where_params.extend(campaigns)
    params += where_params

    reached = ", ".join(
        f"SUM(CASE WHEN r >= {i} THEN 1 ELSE 0 END)" for i in range(1, len(STEP_STAGES) + 1)
    )
    today = ", ".join(
        f"SUM(CASE WHEN now_stage = '{stage}' THEN 1 ELSE 0 END)" for stage in TODAY_STAGES
    )
    hours = ", ".join(f"f.{column} AS h{k}" for k, column in enumerate(HOURS_COLUMNS, start=1))
    durations = [
        f"SELECT {k} AS k, h{k} AS h FROM pp WHERE h{k} IS NOT NULL"
        for k in range(1, VELOCITY_STEPS + 1)
    ]
    dur = "\nUNION ALL ".join(durations)
    nulls = ", ".join(["NULL"] * (len(STEP_STAGES) + len(TODAY_STAGES)))
    now_rank = _rank("p.stage")
    sql = f"""
        WITH pp AS (
            SELECT {cohort} AS cohort,
                p.stage AS now_stage,
                CASE WHEN COALESCE(f.reached, 0) > {now_rank}
                    THEN f.reached ELSE {now_rank} END AS r,
                {hours}
            FROM {person} p
            {" ".join(joins)}
            LEFT JOIN {fact} f ON f.person_id = p.id
            WHERE {" AND ".join(where)}
        ),
        conv AS (
            SELECT cohort, COUNT(*) AS n, {reached}, {today} FROM pp GROUP BY cohort
        ),
        dur AS ({dur}),
        {_velocity()}
        SELECT 'c', conv.*, NULL, NULL FROM conv
        UNION ALL
        SELECT 'v', k, n, {nulls}, p50, p90 FROM vel
    """
    return sql, params


def rollup_statement(*, first: dt.date, last: dt.date) -> tuple[str, list[Any]]:
    """The unfiltered funnel from the monthly rollups (reports.FunnelCell, FunnelHours):
    the same rows as `statement` for the months `first` .. `last` without a filter,
    summed from a few thousand rows (495 + 4,907 for 36 months of the bench) instead of a pass over every person."""
    cell, hours = FunnelCell._meta.db_table, FunnelHours._meta.db_table
    low, high = first.year * 100 + first.month, last.year * 100 + last.month
    reached = ", ".join(
        f"SUM(CASE WHEN c.r >= {i} THEN c.n ELSE 0 END)" for i in range(1, len(STEP_STAGES) + 1)
    )
    today = ", ".join(
        f"SUM(CASE WHEN c.stage_now = '{stage}' THEN c.n ELSE 0 END)" for stage in TODAY_STAGES
    )
    nulls = ", ".join(["NULL"] * (len(STEP_STAGES) + len(TODAY_STAGES)))
    sql = f"""
        WITH conv AS (
            SELECT (c.cohort_month / 100 - %s) * 12 + c.cohort_month %% 100 - %s AS cohort,
                SUM(c.n) AS n, {reached}, {today}
            FROM {cell} c
            WHERE c.cohort_month >= %s AND c.cohort_month <= %s
            GROUP BY c.cohort_month
            HAVING SUM(c.n) > 0
        ),
        hist AS (
            SELECT k, h, CAST(SUM(n) AS BIGINT) AS c FROM {hours}
            WHERE cohort_month >= %s AND cohort_month <= %s
            GROUP BY k, h
            HAVING SUM(n) > 0
        ),
        {_percentiles()}
        SELECT 'c', conv.*, NULL, NULL FROM conv
        UNION ALL
        SELECT 'v', k, n, {nulls}, p50, p90 FROM vel
    """
    return sql, [first.year, first.month, low, high, low, high]

"""The funnel's per-person facts, kept up to date (models.FunnelFact, ADR 0014).

Each person's stage history is folded into one row: `reached`, the furthest funnel
step any of their stage changes took them to (1 subscriber .. 6 customer, advocate
counting as customer), and per step 1..5 the whole hours from first entering that
step to first reaching any later one (NULL when they skipped it, never moved on, or
went back in time). funnel_sql.py reads these rows instead of the history.

How the rows follow the history, without a hook in every writer (capture drains,
imports and people's services all insert stage changes, some by COPY):

- Stage changes are only ever inserted, so a watermark (the highest change id folded)
  finds every person with new history: their rows are folded again, whole.
- On PostgreSQL ids are handed out before commit, so a change with a lower id can
  commit after one with a higher id. The watermark only moves up to an id that is
  *settled* (core.watermarks: read under a brief SHARE lock). If the lock is not had
  in time, the new people are folded anyway but the watermark stays, so the next
  refresh looks again. SQLite has one writer and increasing ids.
- A dedup merge moves stage changes between people (and its undo moves them back)
  without new ids: the people of every merge made or undone since the last refresh
  (with a margin for transactions still open then) are folded again.
- Erasing a person deletes their row with them (the model's cascade); rows of people
  gone by other means are never read (the report starts from the people).

`refresh()` runs before every report (so the figures are never behind), in the
worker every minute (`refresh_loop`) and after a big import; a refresh with nothing new costs three indexed reads and
takes no lock.
`rebuild()` (`tandem funnel_facts --rebuild`) folds everyone again.
"""

# ruff: noqa: S608 — the SQL text holds only table names and constants; values are parameters

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from tandem.core import watermarks
from tandem.dedup.models import Merge
from tandem.people.models import StageChange
from tandem.reports.models import FunnelFact, FunnelFactState

log = logging.getLogger(__name__)

# Funnel steps and the stages that enter each (advocate is past customer).
STEP_ENTRIES: tuple[tuple[str, ...], ...] = (
    ("subscriber",),
    ("lead",),
    ("mql",),
    ("sal",),
    ("opportunity",),
    ("customer", "advocate"),
)
HOURS_COLUMNS = (
    "hours_subscriber",
    "hours_lead",
    "hours_mql",
    "hours_sal",
    "hours_opportunity",
)
MERGE_MARGIN = dt.timedelta(hours=1)  # a merge's transaction open longer than this is missed
FULL_FOLD_OVER = 200_000  # more new changes than this: fold everyone (one grouped pass)


@dataclass(frozen=True)
class Refreshed:
    people: int  # rows folded (people with new history, or everyone)
    full: bool
    last_change_id: int


def _epoch(expr: str) -> str:
    if connection.vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM {expr}))::bigint"
    return f"unixepoch({expr})"


def _earliest(columns: list[str]) -> str:
    """The earliest of `columns`, NULLs left out (NULL when all are)."""
    if len(columns) == 1:
        return columns[0]
    if connection.vendor == "postgresql":
        return f"LEAST({', '.join(columns)})"
    # SQLite's min() of several values is NULL when one is; no epoch second reaches 2**62.
    never = str(2**62)
    return f"NULLIF(min({', '.join(f'COALESCE({c}, {never})' for c in columns)}), {never})"


def fold_sql(condition: str | None) -> str:
    """INSERT-or-update the folded rows of the people who have a stage change `x`
    matching `condition` (None: everyone)."""
    table, change = FunnelFact._meta.db_table, StageChange._meta.db_table
    entries = [
        _epoch(
            "MIN(CASE WHEN sc.to_stage IN ("
            + ", ".join(f"'{stage}'" for stage in stages)
            + ") THEN sc.changed_at END)"
        )
        + f" AS e{i}"
        for i, stages in enumerate(STEP_ENTRIES, start=1)
    ]
    steps = len(STEP_ENTRIES)
    furthest = " ".join(f"WHEN e{i} IS NOT NULL THEN {i}" for i in range(steps, 0, -1))
    hours = []
    for k in range(1, steps):
        later = _earliest([f"e{j}" for j in range(k + 1, steps + 1)])
        hours.append(
            f"CASE WHEN e{k} IS NOT NULL AND {later} >= e{k} THEN ({later} - e{k}) / 3600 END"
        )
    columns = ", ".join(("person_id", "reached", *HOURS_COLUMNS))
    updates = ", ".join(f"{c} = excluded.{c}" for c in ("reached", *HOURS_COLUMNS))
    which = (
        f"WHERE sc.person_id IN (SELECT x.person_id FROM {change} x WHERE {condition})"
        if condition
        else ""
    )
    return f"""
        INSERT INTO {table} ({columns})
        SELECT person_id, CASE {furthest} ELSE 0 END, {", ".join(hours)}
        FROM (
            SELECT sc.person_id, {", ".join(entries)}
            FROM {change} sc
            {which}
            GROUP BY sc.person_id
        ) AS folded
        WHERE 1 = 1
        ON CONFLICT (person_id) DO UPDATE SET {updates}
    """


def _fold_everyone(cursor) -> int:
    cursor.execute(f"DELETE FROM {FunnelFact._meta.db_table}")
    cursor.execute(fold_sql(None))
    return cursor.rowcount


def _visible_high_water() -> int:
    return watermarks.visible_max_id(StageChange._meta.db_table)


def _settled_high_water() -> tuple[int, bool]:
    """The highest stage change id, and whether every lower id is committed or gone."""
    return watermarks.settled_max_id(StageChange._meta.db_table)


def refresh(*, full: bool = False) -> Refreshed:
    """Fold the people whose history changed since the last refresh (everyone if `full`,
    or if the facts were never built, or if there is more new history than FULL_FOLD_OVER)."""
    if not full:
        # Nothing new (the usual case): no lock, no write. Ids at or below the watermark
        # were settled when it was set; any still uncommitted are above it.
        state = FunnelFactState.objects.filter(pk=1).first()
        if (
            state is not None
            and state.rebuilt_at is not None
            and _visible_high_water() <= state.last_change_id
            and not _merged_people(state.merges_seen_at)
        ):
            return Refreshed(people=0, full=False, last_change_id=state.last_change_id)
    high, settled = _settled_high_water()
    now = timezone.now()
    with transaction.atomic():
        FunnelFactState.objects.get_or_create(pk=1)
        state = FunnelFactState.objects.select_for_update().get(pk=1)
        low = state.last_change_id
        everyone = full or state.rebuilt_at is None or high - low > FULL_FOLD_OVER
        with connection.cursor() as cursor:
            if everyone:
                folded = _fold_everyone(cursor)
                state.rebuilt_at = now
            else:
                folded = 0
                if high > low:
                    cursor.execute(fold_sql("x.id > %s AND x.id <= %s"), [low, high])
                    folded += max(cursor.rowcount, 0)
                people = _merged_people(state.merges_seen_at)
                if people:
                    marks = ", ".join(["%s"] * len(people))
                    cursor.execute(fold_sql(f"x.person_id IN ({marks})"), people)
                    folded += max(cursor.rowcount, 0)
        if settled and high > low:
            state.last_change_id = high
        state.merges_seen_at = now
        state.refreshed_at = now
        state.save()
    return Refreshed(people=folded, full=everyone, last_change_id=state.last_change_id)


def _merged_people(since: dt.datetime | None) -> list[int]:
    if since is None:
        return []
    after = since - MERGE_MARGIN
    pairs = Merge.objects.filter(Q(at__gte=after) | Q(undone_at__gte=after)).values_list(
        "survivor_id", "merged_id"
    )
    return sorted({pk for pair in pairs for pk in pair})


def rebuild() -> Refreshed:
    """Fold everyone again (the command; after restoring a backup by hand, say)."""
    return refresh(full=True)


@task()
def refresh_facts() -> int:
    """The worker's refresh after a big write, so the next report finds the facts ready."""
    return refresh().people


BIG_WRITE = 1000  # people added at once (an import) before the worker folds them ahead


def people_added(person_ids: list[int], found_by: str) -> None:
    """people's NewPeopleCheck: after an import (or a big capture batch), fold ahead."""
    if len(person_ids) >= BIG_WRITE:
        transaction.on_commit(_enqueue)


def _enqueue() -> None:
    try:
        refresh_facts.enqueue()
    except Exception:  # derived data: the next report folds them itself
        log.exception("could not queue the funnel facts refresh")


def refresh_loop(stop: threading.Event, *, poll_seconds: float = 60.0) -> None:
    """The worker's funnel beat (core.worker_start): new history is folded before a report
    asks, so a report's own refresh usually finds nothing to do."""
    while not stop.is_set():
        try:
            refresh()
        except Exception:  # derived data: the next beat or report folds it
            log.exception("funnel facts refresh failed; the next beat or report retries")
        finally:
            close_old_connections()
        stop.wait(poll_seconds)

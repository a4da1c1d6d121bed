"""The funnel's per-person facts and monthly rollups, kept up to date (ADR 0014).

Each person's stage history is folded into one row: `reached`, the furthest funnel
step any of their stage changes took them to (1 subscriber .. 6 customer, advocate
counting as customer), and per step 1..5 the whole hours from first entering that
step to first reaching any later one (NULL when they skipped it, never moved on, or
went back in time). funnel_sql.py reads these rows instead of the history.

Each row also keeps a snapshot of the person as last folded (cohort month in the site's
time zone, stage today, live), and the rows of live people are summed into monthly
rollups (models.FunnelCell, FunnelHours) that the unfiltered funnel reads. A person
folded again takes their snapshot's contribution out and puts the new one in
(set-based upserts of n = n + delta), so the rollups always equal the sum of the rows.

Who must be folded again, without a hook in every writer (capture drains, imports,
people's services, bulk edits, merges, raw SQL):

- Stage changes are only ever inserted: a watermark on their ids (`last_change_id`).
- New people (with or without history): a watermark on person ids (`last_person_id`).
- People whose stage, created_at or deleted_at changed, and people deleted: database
  triggers on people_person (migration 0002) put their id in FunnelPersonChange, read
  by a third watermark (`last_queue_id`); read rows are deleted.
- On PostgreSQL ids are handed out before commit, so a row with a lower id can commit
  after one with a higher id. A watermark only moves up to an id that is *settled*
  (core.watermarks: read under a brief SHARE lock). If the lock is not had in time,
  the people are folded anyway but the watermark stays, so the next refresh looks
  again (folding a person twice changes nothing). SQLite has one writer and increasing ids.
- A dedup merge moves stage changes between people (and its undo moves them back)
  without new ids: the people of every merge made or undone since the last refresh
  (with a margin for transactions still open then) are folded again.
- Erasing a person takes their contribution out and deletes their row inside the
  erasure (people's ErasureStep, `forget_person`); a person gone by other means is
  queued by the DELETE trigger and their row dropped by the next refresh.
- The cohort months depend on the time zone: a refresh under another TIME_ZONE than
  the one the facts were folded in (`zone`) folds everyone.

The people to fold again are first collected in FunnelDirty, so the contribution taken
out and the one put in are of the same people.

`refresh()` runs before every report (so the figures are never behind), in the
worker every minute (`refresh_loop`) and after a big import; a refresh with nothing new costs five indexed reads and
takes no lock.
`rebuild()` (`tandem funnel_facts --rebuild`) folds everyone again.
"""

# ruff: noqa: S608 — the SQL text holds only table names and constants; values are parameters

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from tandem.core import watermarks
from tandem.dedup.models import Merge
from tandem.people.models import Person, StageChange
from tandem.reports.models import (
    FunnelCell,
    FunnelDirty,
    FunnelFact,
    FunnelFactState,
    FunnelHours,
    FunnelPersonChange,
)

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


def _cohort_month(cursor, which: str) -> tuple[str, list]:
    """The SQL of `p.created_at`'s month (yyyymm) in the site's time zone, for the people
    `which` selects. SQLite has no time zones: the month starts between their first and
    last created_at are worked out here and compared with by halving (funnel_sql._cohort)."""
    zone = settings.TIME_ZONE
    if connection.vendor == "postgresql":
        return "CAST(to_char(p.created_at AT TIME ZONE %s, 'YYYYMM') AS integer)", [zone]
    person = Person._meta.db_table
    cursor.execute(f"SELECT MIN(p.created_at), MAX(p.created_at) FROM {person} p WHERE {which}")
    low, high = cursor.fetchone()
    if low is None:
        return "0", []
    local = ZoneInfo(zone)

    def month(value) -> dt.date:
        when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.astimezone(local).date().replace(day=1)

    months, last = [month(low)], month(high)
    while months[-1] < last:
        m = months[-1]
        months.append(dt.date(m.year + m.month // 12, m.month % 12 + 1, 1))
    starts = [
        connection.ops.adapt_datetimefield_value(
            dt.datetime(m.year, m.month, 1, tzinfo=local).astimezone(dt.UTC)
        )
        for m in months
    ]

    def pick(lo: int, hi: int) -> tuple[str, list]:
        if lo == hi:
            return str(months[lo].year * 100 + months[lo].month), []
        mid = (lo + hi + 1) // 2
        below, below_params = pick(lo, mid - 1)
        above, above_params = pick(mid, hi)
        return (
            f"(CASE WHEN p.created_at < %s THEN {below} ELSE {above} END)",
            [starts[mid], *below_params, *above_params],
        )

    return pick(0, len(months) - 1)


def fold_sql(which: str, cohort: str) -> str:
    """INSERT the folded rows of the people `which` selects (a condition on `p`, the
    person; `sc` is their history): their furthest step and hours from the history, and
    their snapshot (cohort month, stage today, live) from the person."""
    table, change = FunnelFact._meta.db_table, StageChange._meta.db_table
    person = Person._meta.db_table
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
    columns = ", ".join(
        ("person_id", "reached", *HOURS_COLUMNS, "cohort_month", "stage_now", "live")
    )
    history_which = which.replace("p.id", "sc.person_id")
    return f"""
        INSERT INTO {table} ({columns})
        SELECT p.id, CASE {furthest} ELSE 0 END, {", ".join(hours)},
            {cohort}, p.stage, p.deleted_at IS NULL
        FROM {person} p
        LEFT JOIN (
            SELECT sc.person_id, {", ".join(entries)}
            FROM {change} sc
            WHERE {history_which}
            GROUP BY sc.person_id
        ) AS folded ON folded.person_id = p.id
        WHERE {which}
    """


def _contribute(cursor, sign: int, scope: str, params: list) -> None:
    """Add (sign 1) or take out (-1) what the facts `scope` selects (a condition on `f`)
    count for in the rollups; cells that come to nothing are dropped."""
    from tandem.reports.funnel_sql import rank_sql

    fact = FunnelFact._meta.db_table
    cell, hours = FunnelCell._meta.db_table, FunnelHours._meta.db_table
    rank = rank_sql("f.stage_now")
    cursor.execute(
        f"""
        INSERT INTO {cell} (cohort_month, stage_now, r, n)
        SELECT f.cohort_month, f.stage_now,
            CASE WHEN f.reached > {rank} THEN f.reached ELSE {rank} END, {sign} * COUNT(*)
        FROM {fact} f
        WHERE f.live AND {scope}
        GROUP BY 1, 2, 3
        ON CONFLICT (cohort_month, stage_now, r) DO UPDATE SET n = {cell}.n + excluded.n
        """,
        params,
    )
    durations = "\nUNION ALL ".join(
        f"SELECT f.cohort_month, {k} AS k, f.{column} AS h FROM {fact} f "
        f"WHERE f.live AND f.{column} IS NOT NULL AND {scope}"
        for k, column in enumerate(HOURS_COLUMNS, start=1)
    )
    cursor.execute(
        f"""
        INSERT INTO {hours} (cohort_month, k, h, n)
        SELECT d.cohort_month, d.k, d.h, {sign} * COUNT(*)
        FROM ({durations}) AS d
        WHERE 1 = 1
        GROUP BY 1, 2, 3
        ON CONFLICT (cohort_month, k, h) DO UPDATE SET n = {hours}.n + excluded.n
        """,
        params * len(HOURS_COLUMNS),
    )
    if sign < 0:
        cursor.execute(f"DELETE FROM {cell} WHERE n = 0")
        cursor.execute(f"DELETE FROM {hours} WHERE n = 0")


def _fold_everyone(cursor) -> int:
    for model in (FunnelFact, FunnelCell, FunnelHours):
        cursor.execute(f"DELETE FROM {model._meta.db_table}")
    cohort, params = _cohort_month(cursor, "1 = 1")
    cursor.execute(fold_sql("1 = 1", cohort), params)
    folded = cursor.rowcount
    _contribute(cursor, 1, "1 = 1", [])
    return folded


DIRTY = "p.id IN (SELECT d.person_id FROM reports_funneldirty d)"


def _fold_dirty(cursor) -> int:
    """Fold again the people in FunnelDirty: their old contribution out, their facts
    folded afresh from the person and the history, the new contribution in."""
    fact = FunnelFact._meta.db_table
    scope = DIRTY.replace("p.id", "f.person_id")
    _contribute(cursor, -1, scope, [])
    cursor.execute(f"DELETE FROM {fact} WHERE {DIRTY.replace('p.id', 'person_id')}")
    cohort, params = _cohort_month(cursor, DIRTY)
    cursor.execute(fold_sql(DIRTY, cohort), params)
    folded = max(cursor.rowcount, 0)
    _contribute(cursor, 1, scope, [])
    return folded


def _high_waters() -> dict[str, tuple[int, bool]]:
    return {
        "change": watermarks.settled_max_id(StageChange._meta.db_table),
        "person": watermarks.settled_max_id(Person._meta.db_table),
        "queue": watermarks.settled_max_id(FunnelPersonChange._meta.db_table),
    }


def _nothing_new(state: FunnelFactState | None) -> bool:
    tables = (
        (StageChange, "last_change_id"),
        (Person, "last_person_id"),
        (FunnelPersonChange, "last_queue_id"),
    )
    return (
        state is not None
        and state.rebuilt_at is not None
        and state.zone == settings.TIME_ZONE
        and all(
            watermarks.visible_max_id(model._meta.db_table) <= getattr(state, mark)
            for model, mark in tables
        )
        and not _merged_people(state.merges_seen_at)
    )


def rollup_zone() -> str:
    """The time zone of the rollups' cohort months (after a refresh: settings.TIME_ZONE)."""
    return settings.TIME_ZONE


def refresh(*, full: bool = False) -> Refreshed:
    """Fold the people who changed since the last refresh (everyone if `full`, if the
    facts were never built or in another time zone, or if there is more new than
    FULL_FOLD_OVER), and bring the rollups along."""
    if not full:
        # Nothing new (the usual case): no lock, no write. Ids at or below the watermarks
        # were settled when they were set; any still uncommitted are above them.
        state = FunnelFactState.objects.filter(pk=1).first()
        if _nothing_new(state):
            assert state is not None
            return Refreshed(people=0, full=False, last_change_id=state.last_change_id)
    highs = _high_waters()
    now = timezone.now()
    with transaction.atomic():
        FunnelFactState.objects.get_or_create(pk=1)
        state = FunnelFactState.objects.select_for_update().get(pk=1)
        marks = {"change": "last_change_id", "person": "last_person_id", "queue": "last_queue_id"}
        lows = {key: getattr(state, mark) for key, mark in marks.items()}
        new = sum(max(highs[key][0] - lows[key], 0) for key in marks)
        everyone = (
            full
            or state.rebuilt_at is None
            or state.zone != settings.TIME_ZONE
            or new > FULL_FOLD_OVER
        )
        with connection.cursor() as cursor:
            if everyone:
                folded = _fold_everyone(cursor)
                state.rebuilt_at = now
                state.zone = settings.TIME_ZONE
            else:
                folded = _refold_changed(cursor, lows, highs, state.merges_seen_at)
            for key, mark in marks.items():
                high, settled = highs[key]
                if settled and high > lows[key]:
                    setattr(state, mark, high)
            cursor.execute(
                f"DELETE FROM {FunnelPersonChange._meta.db_table} WHERE id <= %s",
                [state.last_queue_id],
            )
        state.merges_seen_at = now
        state.refreshed_at = now
        state.save()
    return Refreshed(people=folded, full=everyone, last_change_id=state.last_change_id)


def _refold_changed(cursor, lows: dict, highs: dict, merges_seen_at) -> int:
    """Who changed: new stage changes, new people, people the triggers queued, people of
    merges made or undone; their ids go to FunnelDirty (one set for the whole fold)."""
    dirty = FunnelDirty._meta.db_table
    change, person = StageChange._meta.db_table, Person._meta.db_table
    queue = FunnelPersonChange._meta.db_table
    cursor.execute(f"DELETE FROM {dirty}")
    cursor.execute(
        f"""
        INSERT INTO {dirty} (person_id)
        SELECT x.person_id FROM {change} x WHERE x.id > %s AND x.id <= %s
        UNION SELECT y.id FROM {person} y WHERE y.id > %s AND y.id <= %s
        UNION SELECT z.person_id FROM {queue} z WHERE z.id > %s AND z.id <= %s
        """,
        [
            lows["change"],
            highs["change"][0],
            lows["person"],
            highs["person"][0],
            lows["queue"],
            highs["queue"][0],
        ],
    )
    for pk in _merged_people(merges_seen_at):
        cursor.execute(
            f"INSERT INTO {dirty} (person_id) VALUES (%s) ON CONFLICT (person_id) DO NOTHING",
            [pk],
        )
    cursor.execute(f"SELECT COUNT(*) FROM {dirty}")
    if not cursor.fetchone()[0]:
        return 0
    folded = _fold_dirty(cursor)
    cursor.execute(f"DELETE FROM {dirty}")
    return folded


def forget_person(person: Person, emails: set[str]) -> None:
    """people's ErasureStep: the erased person's contribution out of the rollups and
    their fact row gone, inside the erasure's transaction (before the person goes)."""
    FunnelFactState.objects.select_for_update().filter(pk=1).first()  # after a refresh
    with connection.cursor() as cursor:
        _contribute(cursor, -1, "f.person_id = %s", [person.pk])
        cursor.execute(f"DELETE FROM {FunnelFact._meta.db_table} WHERE person_id = %s", [person.pk])


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
    connections.close_all()  # this thread's own connections: none left open when it ends

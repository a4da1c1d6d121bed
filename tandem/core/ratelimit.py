"""Fixed-window rate limits counted in the database, so every web process shares them.

A hit is one statement: an UPSERT that adds one to the window's counter (or
starts it at 1) and returns the new count (`INSERT ... ON CONFLICT DO UPDATE
... RETURNING`, on SQLite 3.35+ and PostgreSQL). The unique (key, window)
constraint decides concurrent first hits; no read-then-write race, no
savepoints, and several keys (a form's per-IP and per-form limits) in one
statement. `Hits` gives that statement to a caller that runs it as part of its
own (the web-form inbox does, on PostgreSQL, to store a post in one round trip).

A busy key with a large limit (a form's per-minute limit during a campaign burst)
is counted in shards: each hit adds to one of up to 16 counters chosen at random,
each allowed its share of the limit. Else every post of a burst waits for the one
counter row's lock until the post before it commits: on PostgreSQL that held web-form
capture to 309 accepted posts/s, against 821/s with shards, in the same minutes
(`python -m bench.capture_e2e --db postgres`, docs/benchmarks.md). The limit then
holds in total (never more hits than it), but a burst may be refused a little before
it is reached, when one shard fills first. Small limits (log-in tries, one visitor's
posts) stay one exact counter.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import F

from tandem.core.models import RateCounter

# Windows this old are dropped, at most once a minute per process.
_KEEP_SECONDS = 86400
_CLEANUP_EVERY_SECONDS = 60
_cleanup_lock = threading.Lock()
_next_cleanup = [0.0]
_UPSERT_SQL: dict[int, str] = {}
# Limits from this many hits a window are counted in shards of at least SHARD_SIZE each.
SHARD_FROM = 400
SHARD_SIZE = 50
MAX_SHARDS = 16


def sharded(key: str, limit: int) -> tuple[str, int]:
    """The counter one hit goes to, and that counter's share of the limit."""
    shards = min(MAX_SHARDS, limit // SHARD_SIZE) if limit >= SHARD_FROM else 1
    if shards <= 1:
        return key, limit
    # Each shard's share rounded down: all of them together never allow more than `limit`.
    return f"{key[:190]}#{random.randrange(shards)}", limit // shards


@dataclass(frozen=True)
class RateResult:
    allowed: bool
    retry_after: int


class Hits:
    """One hit for each (key, limit) in the current window, as SQL to run.

    `sql` returns rows of (key, hits); `results` turns them into a RateResult
    per key, in the order given.
    """

    def __init__(self, limits: Sequence[tuple[str, int]], *, window_seconds: int) -> None:
        if len({key[:200] for key, _ in limits}) != len(limits):
            raise ValueError("count each key once per hit")
        counted = [sharded(key[:200], limit) for key, limit in limits]
        self.keys = [key for key, _ in counted]
        self.limits = [limit for _, limit in counted]
        now = int(time.time())
        self.now = now
        self.window_start = now - now % window_seconds
        self.retry_after = max(self.window_start + window_seconds - now, 1)
        self.sql = _upsert_sql(len(self.keys))
        self.params: list[str | int] = []
        for key in self.keys:
            self.params += [key, self.window_start]

    def results(self, rows: Sequence[tuple[str, int]]) -> list[RateResult]:
        _maybe_drop_old_windows(self.now)
        return self.results_only(rows)

    def results_only(self, rows: Sequence[tuple[str, int]]) -> list[RateResult]:
        """`results`, for counters kept elsewhere than RateCounter (no clean-up of it)."""
        hits = dict(rows)
        return [
            RateResult(allowed=hits[key] <= limit, retry_after=self.retry_after)
            for key, limit in zip(self.keys, self.limits, strict=True)
        ]


def _upsert_sql(rows: int) -> str:
    sql = _UPSERT_SQL.get(rows)
    if sql is None:
        table = connection.ops.quote_name(RateCounter._meta.db_table)
        values = ", ".join(["(%s, %s, 1)"] * rows)
        sql = _UPSERT_SQL[rows] = (
            # The table name from the model, values as parameters.
            f'INSERT INTO {table} ("key", "window_start", "hits") VALUES {values} '  # noqa: S608
            f'ON CONFLICT ("key", "window_start") DO UPDATE SET "hits" = {table}."hits" + 1 '
            'RETURNING "key", "hits"'
        )
    return sql


def hit_many(limits: Sequence[tuple[str, int]], *, window_seconds: int) -> list[RateResult]:
    """Count one hit for each (key, limit); a result per key, in order.

    A key is allowed while its window holds at most `limit` hits (this one included).
    """
    hits = Hits(limits, window_seconds=window_seconds)
    with connection.cursor() as cursor:
        cursor.execute(hits.sql, hits.params)
        rows = cursor.fetchall()
    return hits.results(rows)


def hit(key: str, *, limit: int, window_seconds: int) -> RateResult:
    """Count one hit for `key`; allowed while the window holds at most `limit` hits."""
    return hit_many([(key, limit)], window_seconds=window_seconds)[0]


def peek(key: str, *, limit: int, window_seconds: int) -> RateResult:
    """Whether one more hit would be allowed, without counting one."""
    now = int(time.time())
    start = now - now % window_seconds
    row = RateCounter.objects.filter(key=key[:200], window_start=start).values_list(
        "hits", flat=True
    )
    hits = row[0] if row else 0
    return RateResult(allowed=hits < limit, retry_after=max(start + window_seconds - now, 1))


def refund(key: str, *, window_seconds: int) -> None:
    """Take back one hit counted in the current window (a try that turned out fine)."""
    now = int(time.time())
    RateCounter.objects.filter(
        key=key[:200], window_start=now - now % window_seconds, hits__gt=0
    ).update(hits=F("hits") - 1)


def clear(key: str) -> None:
    RateCounter.objects.filter(key=key[:200]).delete()


def _maybe_drop_old_windows(now: int) -> None:
    with _cleanup_lock:
        if now < _next_cleanup[0]:
            return
        _next_cleanup[0] = now + _CLEANUP_EVERY_SECONDS
    RateCounter.objects.filter(window_start__lt=now - _KEEP_SECONDS).delete()

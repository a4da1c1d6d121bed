"""Fixed-window rate limits counted in the database, so every web process shares them.

A hit is one statement: an UPSERT that adds one (or a lease, below) to the
window's counter (or starts it there) and returns the new count (`INSERT ... ON
CONFLICT DO UPDATE ... RETURNING`, on SQLite 3.35+ and PostgreSQL). The unique
(key, window) constraint decides concurrent first hits; no read-then-write race,
no savepoints, and several keys (a form's per-IP and per-form limits) in one
statement. `Hits` gives that statement to a caller that runs it as part of its
own (the web-form inbox does, on PostgreSQL, to store a post in one round trip).

A key with a large limit (a form's per-minute limit during a campaign burst) is
counted in leases: a process that needs a hit of it adds LEASE_SHARE of the limit
to the counter at once and spends those hits from memory, one per post, until
they run out or the window ends. Counted one by one, every post of a burst waited
for the one counter row's lock until the post before it committed (on PostgreSQL
309 against 821 accepted posts/s with the 16 shards counted before leases), and
even sharded, two counter updates a post were the biggest single cost of a post
on PostgreSQL: leases took `python -m bench.capture_e2e --db postgres` from
0.32-0.38× to 0.40-0.46× of the floor app (4 alternated pairs, 2026-12-07;
docs/benchmarks.md). The limit still holds in total: a lease is taken only as far
as the counter allows, so the processes together never get more hits than the
limit, though a burst may be refused a little before it is reached while other
processes hold unspent hits (at most LEASE_SHARE of the limit each). Small limits
(log-in tries, one visitor's posts) stay one exact counter, hit by hit.
"""

from __future__ import annotations

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
# Limits from LEASE_FROM hits a window are counted in leases of LEASE_SHARE of the limit.
LEASE_FROM = 400
LEASE_SHARE = 0.01
_LEASES_KEPT = 10_000  # keys with a lease in one process: past it, old windows' are dropped


class _Leases:
    """This process's hits in hand: key → (window start, hits left to spend)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[str, tuple[int, int]] = {}

    def take(self, key: str, window_start: int) -> bool:
        """Spend one hit of this window's lease of `key`; False when none is left."""
        with self.lock:
            window, left = self.held.get(key, (0, 0))
            if window != window_start or left < 1:
                return False
            self.held[key] = (window, left - 1)
            return True

    def keep(self, key: str, window_start: int, hits: int) -> None:
        """Hold `hits` more of this window's lease of `key` to spend later (two threads
        may each have taken a lease of it at once: both are kept)."""
        with self.lock:
            if key not in self.held and len(self.held) >= _LEASES_KEPT:
                self.held = {k: v for k, v in self.held.items() if v[0] >= window_start}
                if len(self.held) >= _LEASES_KEPT:
                    self.held.clear()
            window, left = self.held.get(key, (0, 0))
            self.held[key] = (window_start, hits + (left if window == window_start else 0))

    def give_back(self, key: str, window_start: int) -> bool:
        """Return one spent hit to the lease of `key` (False: no lease of this window)."""
        with self.lock:
            window, left = self.held.get(key, (0, 0))
            if window != window_start:
                return False
            self.held[key] = (window, left + 1)
            return True


_leases = _Leases()


def forget_leases() -> None:
    """Drop this process's hits in hand (tests: each starts with counters of its own)."""
    with _leases.lock:
        _leases.held.clear()


def lease_size(limit: int) -> int:
    """Hits a process takes of a key's counter at once: 1 below LEASE_FROM."""
    return max(1, int(limit * LEASE_SHARE)) if limit >= LEASE_FROM else 1


@dataclass(frozen=True)
class RateResult:
    allowed: bool
    retry_after: int


class Hits:
    """One hit for each (key, limit) in the current window, as SQL to run.

    A hit spent from this process's lease of a key (see the module) is allowed
    here and now; `keys` are those to count in the database: `sql` adds each
    one's `sizes` (a lease, or 1) to its counter and returns rows of (key,
    hits); `results` turns them into a RateResult per key given, in order, and
    keeps what is left of a lease. With no `keys`, there is no SQL to run.
    A counter's new count allows the hit when it is at most its `thresholds`
    (the limit, plus the lease's size less one: part of a lease may still fit).
    """

    def __init__(self, limits: Sequence[tuple[str, int]], *, window_seconds: int) -> None:
        if len({key[:200] for key, _ in limits}) != len(limits):
            raise ValueError("count each key once per hit")
        now = int(time.time())
        self.now = now
        self.window_start = now - now % window_seconds
        self.retry_after = max(self.window_start + window_seconds - now, 1)
        self._asked = [(key[:200], limit) for key, limit in limits]
        self._spent = {
            key
            for key, limit in self._asked
            if limit >= LEASE_FROM and _leases.take(key, self.window_start)
        }
        counted = [(key, limit) for key, limit in self._asked if key not in self._spent]
        self.keys = [key for key, _ in counted]
        self.limits = [limit for _, limit in counted]
        self.sizes = [lease_size(limit) for _, limit in counted]
        self.thresholds = [
            limit + size - 1 for limit, size in zip(self.limits, self.sizes, strict=True)
        ]
        self.sql = _upsert_sql(len(self.keys)) if self.keys else ""
        self.params: list[str | int] = []
        for key, size in zip(self.keys, self.sizes, strict=True):
            self.params += [key, self.window_start, size]

    def results(self, rows: Sequence[tuple[str, int]]) -> list[RateResult]:
        _maybe_drop_old_windows(self.now)
        return self.results_only(rows)

    def results_only(self, rows: Sequence[tuple[str, int]]) -> list[RateResult]:
        """`results`, for counters kept elsewhere than RateCounter (no clean-up of it)."""
        counts = dict(rows)
        allowed: dict[str, bool] = {}
        for key, limit, size in zip(self.keys, self.limits, self.sizes, strict=True):
            count = counts[key]
            # The lease's hits that fit under the limit: this one, and the rest to keep.
            granted = min(size, limit - (count - size))
            allowed[key] = granted >= 1
            if size > 1 and granted > 1:
                _leases.keep(key, self.window_start, granted - 1)
        return [
            RateResult(allowed=key in self._spent or allowed[key], retry_after=self.retry_after)
            for key, _ in self._asked
        ]


def _upsert_sql(rows: int) -> str:
    sql = _UPSERT_SQL.get(rows)
    if sql is None:
        table = connection.ops.quote_name(RateCounter._meta.db_table)
        values = ", ".join(["(%s, %s, %s)"] * rows)
        sql = _UPSERT_SQL[rows] = (
            # The table name from the model, values as parameters.
            f'INSERT INTO {table} ("key", "window_start", "hits") VALUES {values} '  # noqa: S608
            f'ON CONFLICT ("key", "window_start") DO UPDATE SET "hits" = {table}."hits" + '
            '"excluded"."hits" RETURNING "key", "hits"'
        )
    return sql


def hit_many(limits: Sequence[tuple[str, int]], *, window_seconds: int) -> list[RateResult]:
    """Count one hit for each (key, limit); a result per key, in order.

    A key is allowed while its window holds at most `limit` hits (this one included).
    """
    hits = Hits(limits, window_seconds=window_seconds)
    rows = []
    if hits.keys:
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
    start = now - now % window_seconds
    if _leases.give_back(key[:200], start):
        return
    RateCounter.objects.filter(key=key[:200], window_start=start, hits__gt=0).update(
        hits=F("hits") - 1
    )


def clear(key: str) -> None:
    with _leases.lock:
        _leases.held.pop(key[:200], None)
    RateCounter.objects.filter(key=key[:200]).delete()


def _maybe_drop_old_windows(now: int) -> None:
    with _cleanup_lock:
        if now < _next_cleanup[0]:
            return
        _next_cleanup[0] = now + _CLEANUP_EVERY_SECONDS
    RateCounter.objects.filter(window_start__lt=now - _KEEP_SECONDS).delete()

"""How long the worker's drain takes per web-form submission, and what it runs.

    python -m bench.drain_time --db sqlite|postgres [--rows 1000] [--statements]
        [--profile N] [--pg-name NAME] [--repeat-share 0.1] [--rules]

Sets up a fresh database (SQLite in a temporary TANDEM_DATA_DIR, or the
PostgreSQL database `tandem_drain_time_bench`, dropped and created again),
builds the J1 form (`demo-guide`) and posts `--rows` submissions to it through
Django's test client with the database task backend, so they wait in the
capture inbox (the same bodies as `bench.capture_load`, 10% of them an earlier
email again; `--repeat-share 0` makes every one a new person, as
`bench.capture_e2e` posts). Then it drains them in this process with
`capture.inbox.drain` and prints the wall time and the CPU time of the process
per submission.

With `--statements` the drain runs under Django's query capture instead and
the statements are counted by kind (SELECT, INSERT, SAVEPOINT, ...), per
submission: the timing of that run includes the capture's own cost, so time
and count are separate runs. Statements sent on a raw driver cursor (the
inbox insert, ADR 0007) are not in the count; the drain uses none.

With `--profile N` the drain runs under cProfile and the N functions with the
most cumulative time are printed after the figures (the profiler slows it too).

Deterministic: the same rows give the same people and the same statements.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.capture_load import bench_env, create_form, make_bodies
from bench.common import database_label, drop_pg_database, use_database

PG_NAME = "tandem_drain_time_bench"
EXECUTEMANY = re.compile(r"\d+ times: ")


def statement_kind(sql: str) -> str:
    """The first keyword of a statement, upper case ("SELECT", "SAVEPOINT", ...).

    Django records an `executemany` as "N times: SQL": one round trip, counted as
    its statement's kind with " (many)" after it.
    """
    many = EXECUTEMANY.match(sql)
    if many:
        return f"{statement_kind(sql[many.end() :])} (many)"
    words = sql.lstrip(" (").split(None, 1)
    return words[0].upper().rstrip(";") if words else "?"


def count_kinds(statements: list[str]) -> Counter[str]:
    return Counter(statement_kind(sql) for sql in statements)


def fill_inbox(rows: int, *, repeat_share: float = 0.1) -> int:
    """Post `rows` J1 submissions through the test client; how many wait in the inbox."""
    from django.test import Client

    from tandem.capture import inbox, spool

    # Nothing drains while the posts are made, so past the back-pressure's mark each post
    # would be answered up to 40 ms later: 4,000 posts took 2.5 minutes of sleeps.
    spool.BACKLOG = sys.maxsize
    key, fill, with_consent = create_form("guide")
    bodies, _ = make_bodies(
        total=rows, repeat_share=repeat_share, token=fill, with_consent=with_consent
    )
    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1")
    for body in bodies:
        response = client.post(
            f"/f/{key}", data=body, content_type="application/x-www-form-urlencoded"
        )
        if response.status_code != 303:
            raise SystemExit(f"a post was answered {response.status_code}, not 303")
    for timer in threading.enumerate():  # the posts' drain timer only enqueues a task
        if timer.name == "tandem-capture-drain":
            timer.join()
    return inbox.waiting_count()


@dataclass
class DrainTiming:
    waiting: int
    captured: int
    failed: int
    wall: float  # seconds
    cpu: float  # seconds of this process
    kinds: Counter[str] = field(default_factory=Counter)
    server_cpu: float | None = None  # PostgreSQL: seconds of this connection's server process


def time_drain(*, statements: bool, profile: int = 0) -> DrainTiming:
    """Drain the inbox once: submissions captured, wall and CPU seconds, statement kinds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tandem.capture import inbox

    waiting = inbox.waiting_count()
    capture = CaptureQueriesContext(connection)
    backend = _backend_pid()
    server0 = _server_cpu(backend)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if statements:
        with capture:
            result = inbox.drain(max_seconds=10**6)
    elif profile:
        profiler = cProfile.Profile()
        result = profiler.runcall(inbox.drain, max_seconds=10**6)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
    else:
        result = inbox.drain(max_seconds=10**6)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    server = _server_cpu(backend)
    kinds = count_kinds([q["sql"] for q in capture.captured_queries]) if statements else Counter()
    server_cpu = server - server0 if server is not None and server0 is not None else None
    return DrainTiming(waiting, result.captured, result.failed, wall, cpu, kinds, server_cpu)


def _backend_pid() -> int | None:
    """PostgreSQL: the server process of this connection (the drain keeps it: same thread)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _server_cpu(pid: int | None) -> float | None:
    """CPU seconds of a local server process so far (None when it cannot be read)."""
    if pid is None:
        return None
    from bench.capture_load import process_cpu_seconds

    return process_cpu_seconds(pid).get(pid)


def report(db_label: str, out: DrainTiming) -> None:
    n = max(1, out.waiting)
    print(f"{db_label}: {out.captured} captured, {out.failed} failed of {out.waiting} waiting")
    print(f"  {out.wall * 1000 / n:.2f} ms a submission (wall), {out.cpu * 1000 / n:.2f} ms CPU")
    if out.server_cpu is not None:
        print(f"  {out.server_cpu * 1000 / n:.1f} ms CPU of the PostgreSQL server process")
    if out.kinds:
        total = sum(out.kinds.values())
        print(f"  {total / n:.1f} statements a submission ({total} in all):")
        for kind, count in out.kinds.most_common():
            print(f"    {kind:<18} {count / n:6.2f}  ({count})")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drain_time", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rows", type=int, default=1000, help="submissions in the inbox")
    parser.add_argument(
        "--statements", action="store_true", help="count the drain's statements by kind"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="profile the drain: top N functions"
    )
    parser.add_argument("--pg-name", default=PG_NAME, help="PostgreSQL database to (re)create")
    parser.add_argument(
        "--repeat-share", type=float, default=0.1, help="share of posts with an earlier email"
    )
    parser.add_argument(
        "--rules",
        action="store_true",
        help="the demo's rule set active, so each drained batch is scored too (issue 19)",
    )
    args = parser.parse_args(argv)
    pg_name = args.pg_name
    work = Path(tempfile.mkdtemp(prefix="drain-time-"))
    os.environ.clear()
    os.environ.update(bench_env(args.db, work / "data", pg_name))
    try:
        use_database(args.db, pg_name=pg_name, sqlite_folder=str(work / "data"), keep=False)
        if args.rules:
            from tandem.accounts.actor import Actor
            from tandem.scoring.demo import load_demo_rules

            load_demo_rules(Actor.system("bench"))
        waiting = fill_inbox(args.rows, repeat_share=args.repeat_share)
        print(f"{waiting} submissions waiting in the inbox")
        out = time_drain(statements=args.statements, profile=args.profile)
        report(database_label(), out)
        return 0 if out.failed == 0 and out.captured == waiting else 1
    finally:
        from django.db import connections

        connections.close_all()
        if args.db == "postgres":
            drop_pg_database(pg_name)
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The worker's CPU per captured lead in the follow-ups of the capture drain (issue 17).

    python -m bench.follow_ups --db sqlite|postgres [--rows 2000] [--batch 100]
        [--email smtp|dummy] [--profile N] [--pg-name NAME]

After a drain, the worker's loop enqueues two follow-up tasks for a window's
captures (capture/inbox.py, FollowUps): the duplicate check of the new people
(dedup.tasks.find_duplicates) and the sending of their queued confirmation
emails (capture.tasks.send_emails). This sets up a fresh database (SQLite in a
temporary TANDEM_DATA_DIR, or the PostgreSQL database `tandem_follow_ups_bench`,
dropped and created again), posts `--rows` J1 submissions (`demo-guide`, double
opt-in, a new email each and a company of 300, as `bench.capture_e2e` posts),
then, in a process of its own (as the worker: no leftovers of the posts in its
memory, which every collection of the cycle collector would walk), drains them
holding the follow-ups and runs the two tasks' bodies on them in slices of
`--batch` ids, and prints each one's CPU time per person: that process's
(time.process_time) and, on PostgreSQL, its server process's.

The emails go by SMTP (`--email smtp`, what production runs) to a sink on a
local port: aiosmtpd in a process of its own, so its CPU is not counted here.
`--email dummy` uses the backend `bench.capture_e2e`'s worker runs with.

With `--profile N` each task's run is profiled with cProfile and the N functions
with the most cumulative time are printed (the profiler slows it too).

Deterministic: the same rows give the same people, pairs and emails.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.capture_load import bench_env
from bench.common import database_label, drop_pg_database, use_database
from bench.drain_time import _backend_pid, _server_cpu, fill_inbox

PG_NAME = "tandem_follow_ups_bench"


def captured_follow_ups(rows: int) -> tuple[list[int], list[int]]:
    """Post `rows` new leads to the J1 form and drain them holding the follow-ups: the
    ids of the people made and of the confirmation emails queued (nothing enqueued)."""
    fill_inbox(rows, repeat_share=0.0)
    return drain_held()


def drain_held() -> tuple[list[int], list[int]]:
    """Drain the inbox as the worker's loop does, holding the follow-ups instead of
    enqueueing them: the ids of the people made and of the emails queued."""
    from tandem.capture import inbox

    class Held(inbox.FollowUps):
        def due(self, now: float, *, behind: bool = False) -> bool:
            return False

    held = Held()
    result = inbox.drain(max_seconds=10**6, follow_ups=held)
    if result.failed or inbox.waiting_count():
        raise SystemExit(f"the drain failed {result.failed}, left {inbox.waiting_count()}")
    return list(held.created), list(held.emails)


@dataclass
class Timing:
    task: str
    people: int
    tasks: int
    cpu: float  # seconds of this process
    wall: float
    server_cpu: float | None  # PostgreSQL: seconds of this connection's server process
    result: dict[str, int]

    def line(self) -> str:
        n = max(1, self.people)
        text = (
            f"{self.task}: {self.people} people in {self.tasks} tasks, "
            f"{self.cpu * 1000 / n:.3f} ms CPU a person ({self.wall * 1000 / n:.3f} ms wall)"
        )
        if self.server_cpu is not None:
            text += f", PostgreSQL server {self.server_cpu * 1000 / n:.3f} ms"
        return f"{text}; {self.result}"


def run_in_slices(
    name: str, ids: list[int], batch: int, run: Callable[[list[int]], Any], profile: int = 0
) -> Timing:
    """`run` on each slice of `batch` ids, timed together; its results summed."""
    slices = [ids[start : start + batch] for start in range(0, len(ids), batch)]
    totals: dict[str, int] = {}
    profiler = cProfile.Profile() if profile else None
    backend = _backend_pid()
    server0 = _server_cpu(backend)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for chunk in slices:
        out = profiler.runcall(run, chunk) if profiler else run(chunk)
        for key, value in (out if isinstance(out, dict) else {"created": out}).items():
            totals[key] = totals.get(key, 0) + int(value)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    server = _server_cpu(backend)
    if profiler:
        print(f"--- {name}")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
    server_cpu = server - server0 if server is not None and server0 is not None else None
    return Timing(name, len(ids), len(slices), cpu, wall, server_cpu, totals)


def time_follow_ups(
    people: list[int], emails: list[int], *, batch: int, profile: int = 0
) -> list[Timing]:
    """The duplicate check of `people` and the sending of `emails`, `batch` ids a task."""
    from tandem.capture.tasks import send_emails
    from tandem.dedup.tasks import find_duplicates

    return [
        run_in_slices(
            "duplicate check",
            people,
            batch,
            lambda ids: find_duplicates.call(ids, "capture"),
            profile,
        ),
        run_in_slices("emails sent", emails, batch, send_emails.call, profile),
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_sink() -> Iterator[int]:
    """An SMTP server accepting and dropping every message, in a process of its own;
    yields its port."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink"),
            *("-l", f"127.0.0.1:{port}"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the SMTP sink did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.follow_ups", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rows", type=int, default=2000, help="new leads captured")
    parser.add_argument("--batch", type=int, default=100, help="ids per follow-up task")
    parser.add_argument("--email", choices=("smtp", "dummy"), default="smtp")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="profile the tasks: top N functions"
    )
    parser.add_argument("--pg-name", default=PG_NAME, help="PostgreSQL database to (re)create")
    parser.add_argument("--worker-side", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker_side:
        return worker_side(args)
    work = Path(tempfile.mkdtemp(prefix="follow-ups-"))
    with smtp_sink() if args.email == "smtp" else nullport() as port:
        os.environ.clear()
        os.environ.update(bench_env(args.db, work / "data", args.pg_name))
        if port:
            os.environ["TANDEM_EMAIL_BACKEND"] = "django.core.mail.backends.smtp.EmailBackend"
            os.environ["TANDEM_EMAIL_HOST"], os.environ["TANDEM_EMAIL_PORT"] = (
                "127.0.0.1",
                str(port),
            )
        try:
            use_database(
                args.db, pg_name=args.pg_name, sqlite_folder=str(work / "data"), keep=False
            )
            fill_inbox(args.rows, repeat_share=0.0)
            from django.db import connections

            connections.close_all()
            # The drain and the tasks in a process of their own, as in the worker: the
            # posts' leftovers here (the test client's) doubled what every full pass of
            # the cycle collector walks.
            child = [sys.executable, "-m", "bench.follow_ups", "--worker-side", *argv]
            return subprocess.run(child, check=False).returncode
        finally:
            from django.db import connections

            connections.close_all()
            if args.db == "postgres":
                drop_pg_database(args.pg_name)
            subprocess.run(["rm", "-rf", str(work)], check=False)


def worker_side(args: argparse.Namespace) -> int:
    """The worker's part, on the database the parent filled (its environment too)."""
    use_database(
        args.db,
        pg_name=args.pg_name,
        sqlite_folder=os.environ.get("TANDEM_DATA_DIR", ""),
        keep=True,
    )
    from tandem.core.collector import settle_startup

    settle_startup()  # as `tandem worker` does at its start
    people, emails = drain_held()
    print(
        f"{database_label()}: {len(people)} people and {len(emails)} emails from "
        f"{args.rows} posts; email by {args.email}, {args.batch} ids a task"
    )
    timings = time_follow_ups(people, emails, batch=args.batch, profile=args.profile)
    for timing in timings:
        print(f"  {timing.line()}", flush=True)
    return 0 if timings[1].result.get("sent") == len(emails) else 1


@contextmanager
def nullport() -> Iterator[int]:
    yield 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

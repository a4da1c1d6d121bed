"""CPU of the web server per accepted web-form post, in process (issue 17, point 1).

    python -m bench.accept_cpu --db sqlite|postgres [--posts 2000] [--warmup 200]
        [--rounds 3] [--profile N] [--no-drain-loop] [--pg-name NAME]

Sets up a fresh database (SQLite in a temporary TANDEM_DATA_DIR, or the
PostgreSQL database `tandem_accept_cpu_bench`, dropped and created again) with
the production settings (debug off, the database task backend, rate limits
lifted by their settings, as `bench.capture_e2e` runs `tandem serve`), builds
the J1 form (`demo-guide`) and posts the bodies `bench.capture_load` posts (a
new email each, the newsletter consent ticked, signed fill time, UTM tags)
straight to Django's WSGI handler, as granian calls it: the whole middleware
chain, the view, the inbox insert and the request's end, with no HTTP server
and no client in the way. `--warmup` posts first (not timed), then `--rounds`
times `--posts` posts; each round prints the CPU time of this process (all its
threads) per post and the wall time per post, and the best round is reported
last.

A worker's drain loop is taken as running (its heartbeat file is kept fresh,
as `tandem worker` does during bench.capture_e2e), so posts enqueue no drain
task; `--no-drain-loop` leaves it out: each 0.25 s a timer thread enqueues one.
Nothing drains the inbox: it grows by the posts, so the back-pressure
(`capture.spool.hold`) is lifted for this process.

With `--profile N` one more round runs under cProfile and the N functions with
the most cumulative time are printed (the profiler slows it: figures apart).

Deterministic: the same bodies in the same order on every run.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.capture_load import HOST, PORT, bench_env, create_form, make_bodies
from bench.common import database_label, drop_pg_database, use_database

PG_NAME = "tandem_accept_cpu_bench"


def post_environ(path: str, body: bytes) -> dict[str, Any]:
    """The WSGI environ of a browser's urlencoded post, as granian builds it."""
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": HOST,
        "SERVER_PORT": str(PORT),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": f"{HOST}:{PORT}",
        "HTTP_ORIGIN": "http://shop.example.net",
        "HTTP_REFERER": "http://shop.example.net/guide",
        "HTTP_USER_AGENT": "accept-cpu/1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def post_all(
    app: Callable[..., Iterable[bytes]],
    path: str,
    bodies: list[bytes],
    beat: Callable[[], None] | None = None,
) -> int:
    """Post each body through the WSGI app; how many were answered 303."""
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    answered = 0
    for n, body in enumerate(bodies):
        if beat is not None and n % 200 == 0:
            beat()
        result = app(post_environ(path, body), start_response)
        try:
            for _ in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # the request's end: request_finished, connections looked after
        if statuses[-1].startswith("303"):
            answered += 1
    return answered


def keep_drain_loop_alive() -> Callable[[], None]:
    """Touch the heartbeat file a worker's drain loop keeps (capture.inbox)."""
    from tandem.capture import inbox

    def beat() -> None:
        name = inbox._heartbeat_file()
        if name is not None:
            with open(name, "a"):
                os.utime(name)

    return beat


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.accept_cpu", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--posts", type=int, default=2000, help="posts a round")
    parser.add_argument("--warmup", type=int, default=200, help="posts before timing")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="one more round profiled: top N"
    )
    parser.add_argument(
        "--no-drain-loop", action="store_true", help="no worker's drain loop: timers enqueue"
    )
    parser.add_argument("--pg-name", default=PG_NAME, help="PostgreSQL database to (re)create")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="accept-cpu-"))
    (work / "data").mkdir()  # TANDEM_DATA_DIR: on PostgreSQL the drain loop's heartbeat is there
    os.environ.clear()
    os.environ.update(bench_env(args.db, work / "data", args.pg_name))
    try:
        use_database(args.db, pg_name=args.pg_name, sqlite_folder=str(work / "data"), keep=False)
        from django.core.handlers.wsgi import WSGIHandler

        from tandem.capture import spool

        # Nothing drains here, so the waiting posts pass the back-pressure's mark at once
        # and each post would be answered up to 40 ms later (a sleep, no CPU): timed with
        # it, the sleeps made the process's own background CPU look like the posts'.
        spool.BACKLOG = sys.maxsize
        key, token, with_consent = create_form("guide")
        rounds = args.rounds + (1 if args.profile else 0)
        total = args.warmup + rounds * args.posts
        texts, _ = make_bodies(
            total=total, repeat_share=0.0, token=token, with_consent=with_consent
        )
        bodies = [t.encode() for t in texts]
        app = WSGIHandler()
        path = f"/f/{key}"
        beat = None if args.no_drain_loop else keep_drain_loop_alive()
        if post_all(app, path, bodies[: args.warmup], beat) != args.warmup:
            raise SystemExit("a warm-up post was not answered 303")
        label = database_label()
        best = None
        start = args.warmup
        for r in range(args.rounds):
            chunk = bodies[start : start + args.posts]
            start += args.posts
            cpu0, wall0 = time.process_time(), time.perf_counter()
            answered = post_all(app, path, chunk, beat)
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
            if answered != len(chunk):
                raise SystemExit(f"{len(chunk) - answered} posts were not answered 303")
            per_post = cpu * 1000 / len(chunk)
            best = per_post if best is None else min(best, per_post)
            print(
                f"{label}: round {r + 1}: {per_post:.3f} ms CPU a post, "
                f"{wall * 1000 / len(chunk):.3f} ms wall ({len(chunk)} posts)"
            )
        print(f"{label}: best {best:.3f} ms CPU a post (web server, in process)")
        if args.profile:
            chunk = bodies[start : start + args.posts]
            profiler = cProfile.Profile()
            profiler.runcall(post_all, app, path, chunk, beat)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        if args.db == "postgres":
            drop_pg_database(args.pg_name)
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Shared by the bench commands: Django setup, timing, percentiles, result tables.

The bench runs Tandem in process with its production settings (debug off),
against whatever database the environment names: DATABASE_URL, or SQLite in
TANDEM_DATA_DIR. Only what an in-process run cannot have is relaxed: the test
client's host name, plain-HTTP cookies, and static files served unhashed.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# Environment defaults for an in-process bench run; an explicit value wins.
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "tandem.settings",
    "TANDEM_SECRET_KEY": "bench-only-secret-key-not-for-production-" + "b" * 24,
    "TANDEM_ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "TANDEM_SSL_REDIRECT": "false",
    "TANDEM_SECURE_COOKIES": "false",
    "TANDEM_HSTS_SECONDS": "0",
}


def setup_django() -> None:
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    # WhiteNoise warns that STATIC_ROOT is missing: in process nothing is collected there.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.conf import settings

    # The manifest needs `collectstatic`; hashed names make no difference to timings.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def use_database(db: str, *, pg_name: str, sqlite_folder: str, keep: bool) -> str:
    """Point this process at a bench database, set Django up on it and migrate; where it is.

    "postgres": the database `pg_name` on PG_SERVER (DATABASE_URL), dropped and created
    again, or with `keep` only created when it is missing. "sqlite": the file
    tandem.sqlite3 in `sqlite_folder` (TANDEM_DATA_DIR, made when missing), removed with
    its -wal and -shm files unless `keep`. Returns the PostgreSQL database's name or the
    SQLite file's path. Django already set up (a caller's) is not set up again.
    """
    if db == "postgres":
        os.environ["DATABASE_URL"] = f"{PG_SERVER}/{pg_name}"
        _make_pg_database(pg_name, keep=keep)
        location = pg_name
    elif db == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        os.makedirs(sqlite_folder, exist_ok=True)
        os.environ["TANDEM_DATA_DIR"] = sqlite_folder
        location = os.path.join(sqlite_folder, "tandem.sqlite3")
        if not keep:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(location + suffix)
    else:
        raise ValueError("db is 'sqlite' or 'postgres'")
    from django.apps import apps

    if not apps.ready:
        setup_django()
    migrate()
    return location


def _make_pg_database(name: str, *, keep: bool) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not keep:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_pg_database(name: str) -> None:
    """Drop a bench's PostgreSQL database after its run; a failure is printed, not raised."""
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    except psycopg.Error as error:
        print(f"could not drop the database {name}: {error}", file=sys.stderr)


def series_sql(vendor: str, count: int) -> str:
    """A SELECT of the numbers 1..count as column `n`, on PostgreSQL or SQLite."""
    if vendor == "postgresql":
        return f"SELECT generate_series(1, {count})::bigint AS n"
    return (
        f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {count}) "  # noqa: S608
        "SELECT n FROM s"
    )


def move_sequences(cursor: Any, tables: Sequence[str]) -> None:
    """PostgreSQL: after rows inserted with their own ids, the tables' id sequences past them."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    for table in tables:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"  # noqa: S608
        )


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop a server or worker this bench started: terminate, then kill after 30 s."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def bench_user(username: str) -> Any:
    """The active user a bench signs in as; exits when the bench data is not loaded."""
    from tandem.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise SystemExit(f"No active user {username!r}: load the bench data first (bench load).")
    return user


@contextmanager
def signed_in(user: Any, *, token_name: str) -> Iterator[tuple[Any, Any, dict[str, str]]]:
    """(browser, api, bearer headers): test clients, one with `user`'s session, one for the
    API with a read token of theirs, revoked at the end."""
    from django.test import Client

    from tandem.accounts.actor import Actor
    from tandem.accounts.models import TokenScope
    from tandem.accounts.services import create_token, revoke_token

    browser = Client(raise_request_exception=False)
    browser.force_login(user)
    api = Client(raise_request_exception=False)
    system = Actor.system("bench")
    token, raw = create_token(actor=system, user=user, name=token_name, scope=TokenScope.READ)
    try:
        yield browser, api, {"Authorization": f"Bearer {raw}"}
    finally:
        revoke_token(actor=system, token=token)


def database_label() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        return f"PostgreSQL {version} ({connection.settings_dict['NAME']})"
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} ({connection.settings_dict['NAME']})"
    return connection.vendor


def machine_label() -> str:
    cores = os.cpu_count() or 0
    memory = ""
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.system()} {platform.machine()}, {cores} cores{memory}, Python {platform.python_version()}"


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """`with stopwatch() as elapsed: ...; elapsed()` gives seconds so far (and after)."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of at least one value."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Timing:
    name: str
    url: str
    samples_ms: list[float] = field(default_factory=list)
    status: str = ""
    queries: int | None = None
    note: str = ""
    limit_ms: float | None = None

    @property
    def measured(self) -> bool:
        return bool(self.samples_ms)

    def p(self, q: float) -> float:
        return percentile(self.samples_ms, q)

    @property
    def verdict(self) -> str:
        if not self.measured or self.limit_ms is None:
            return ""
        return "ok" if self.p(95) <= self.limit_ms else "over"


def _cells(t: Timing) -> list[str]:
    if not t.measured:
        return [t.name, t.url, t.status, "–", "–", "–", "–", "", t.note]
    return [
        t.name,
        t.url,
        t.status,
        f"{t.p(50):.1f}",
        f"{t.p(95):.1f}",
        f"{max(t.samples_ms):.1f}",
        "" if t.queries is None else str(t.queries),
        f"≤ {t.limit_ms:.0f}: {t.verdict}" if t.limit_ms else "",
        t.note,
    ]


HEADERS = [
    "what",
    "request",
    "status",
    "p50 ms",
    "p95 ms",
    "max ms",
    "queries",
    "target p95",
    "note",
]


def print_results(title: str, timings: Sequence[Timing]) -> None:
    """A rich table for the terminal, then the same as markdown for docs/benchmarks.md."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for header in HEADERS:
        table.add_column(header, justify="right" if header.endswith(("ms", "queries")) else "left")
    for t in timings:
        table.add_row(*_cells(t))
    console = Console()
    if not console.is_terminal:  # piped to a file: do not squeeze the table to 80 columns
        console = Console(width=170)
    console.print(table)
    print()
    print(markdown_table(timings))


def markdown_table(timings: Sequence[Timing]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for t in timings:
        cells = [c.replace("|", "\\|") for c in _cells(t)]
        cells[1] = f"`{cells[1]}`"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "–"


def human(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else str(n)

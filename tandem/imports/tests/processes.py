"""Real `tandem` processes (CLI, web server, worker) on this test's database.

Children name the database with DATABASE_URL on both databases (sqlite:////…
for SQLite), the way a deployment names it, and share the test's secret key so
a form's signed fill time checks out.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

from tandem.imports.models import ImportJob
from tandem.people.models import Person

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    """A port nobody listens on now, so runs side by side (and other tests) never collide."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PORT_LOCK_TEST = free_port()
PORT_CONCURRENCY_TEST = free_port()


def database_url() -> str:
    d = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{d['NAME']}"
    password = f":{d['PASSWORD']}" if d.get("PASSWORD") else ""
    host, port = d["HOST"] or "127.0.0.1", d["PORT"] or "5432"
    return f"postgres://{d['USER']}{password}@{host}:{port}/{d['NAME']}"


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TANDEM_", "DJANGO_")) and k != "DATABASE_URL"
    }
    env.update(
        PYTHONPATH=str(ROOT),
        TANDEM_DEBUG="true",
        TANDEM_SECRET_KEY=settings.SECRET_KEY,
        TANDEM_DATA_DIR=str(tmp_path / "child-data"),
        DATABASE_URL=database_url(),
        TANDEM_TASKS="database",
        TANDEM_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        TANDEM_FORM_RATE_PER_IP=str(10**9),
        TANDEM_FORM_RATE_PER_FORM=str(10**9),
        **extra,
    )
    return env


def tandem(*args: str) -> list[str]:
    return [sys.executable, "-m", "tandem", *args]


def wait_until_up(proc: subprocess.Popen, base: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        assert proc.poll() is None, f"the server stopped (exit {proc.returncode})"
        assert time.monotonic() < deadline, "no answer from tandem serve"
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def write_lock_held() -> Iterator[None]:
    """Take the database's write lock from another connection, as a long writer would.

    SQLite: BEGIN IMMEDIATE on the file (every other writer waits). PostgreSQL: an
    EXCLUSIVE lock on the people and import tables (reads go on, no write there).
    """
    d = connection.settings_dict
    if connection.vendor == "sqlite":
        # Tried every half millisecond, not through SQLite's busy handler: that one sleeps up
        # to 100 ms between tries, and a writer that begins again right after each commit
        # (an import's next batch) wins every time.
        raw = sqlite3.connect(d["NAME"], timeout=0, isolation_level=None)
        deadline = time.monotonic() + 30
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.0005)
        try:
            yield
        finally:
            raw.execute("ROLLBACK")
            raw.close()
        return
    import psycopg

    with psycopg.connect(
        host=d["HOST"] or "127.0.0.1",
        port=d["PORT"] or 5432,
        user=d["USER"],
        password=d.get("PASSWORD") or None,
        dbname=d["NAME"],
    ) as raw:
        raw.execute("SET lock_timeout = '30s'")
        tables = ", ".join(f'"{m._meta.db_table}"' for m in (Person, ImportJob))
        raw.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            raw.rollback()


def hold_write_lock_in_background(
    seconds: float, release: threading.Event | None = None
) -> threading.Thread:
    """The lock, taken now and held for `seconds` by a thread (or until `release` is set,
    at most `seconds`); returns once it is held."""
    held = threading.Event()

    def hold() -> None:
        with write_lock_held():
            held.set()
            if release is None:
                time.sleep(seconds)
            else:
                release.wait(seconds)

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(30), "could not take the write lock"
    return thread

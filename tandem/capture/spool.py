"""SQLite: web-form posts are spooled in a file of their own, so they never wait for the drain.

Why (issue 17, point 1): SQLite has one writer at a time per database file. The
posts and the drain took turns for it (core/write_turn.py); under a burst the
drain held the turn about half of the time, a batch of a hundred captures at a
time, and every post waited behind it: ~0.33× the floor app's accepted posts/s,
the machine 70% busy, p99 70-85 ms. A post only appends a row; here it appends
it to `<database>.capture-spool`, another SQLite file (WAL) with a write lock of
its own, which only posts and the drain's clean-up write.

The drain moves spooled rows into the inbox (`InboxSubmission`) before it
captures, exactly once: in one transaction of the main database it inserts the
rows and records the highest spool id moved (`SpoolMark`, keyed by the spool
file's own identity); the moved rows are deleted from the spool afterwards. A
crash between the two leaves rows the mark says were moved: they are deleted,
not moved again. A spool file made anew (deleted, restored) has another
identity, so its ids, which start again at 1, are not taken as moved.

PostgreSQL locks rows, not the database: posts go straight to the inbox there.
An in-memory SQLite database (tests) has no file to put a spool beside: the
same.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from tandem.capture.models import InboxSubmission, SpoolMark, WebForm
from tandem.core import ratelimit
from tandem.core.models import RateCounter
from tandem.core.write_turn import file_turn, write_turn

# The web-form posts' rate counters live in the spool too, in a table named as the main
# database's (so `ratelimit.Hits` runs there as it is): counting is a write as well.
_COUNTERS = f'"{RateCounter._meta.db_table}"'
log = logging.getLogger(__name__)

MOVE_BATCH = 2000  # rows moved per main-database transaction by move_all (the drain: its batch)
# Back-pressure: while more than BACKLOG posts wait in the spool (about a second of the
# drain's work), a post, once stored, is answered a little later, the more the further
# behind the drain is: the web processes then leave CPU to the worker, so a lead is a
# person within seconds of its post even in a burst longer than the drain keeps up with;
# only while a worker's drain loop runs (`inbox.accept`).
# PostgreSQL's posts hold the same way (`inbox_sql.waiting_lately` counts its inbox).
BACKLOG = 500
HOLD_PER_ROW_SECONDS = 0.00004
MAX_HOLD_SECONDS = 0.04

_local = threading.local()
_schema_done: set[str] = set()
_schema_lock = threading.Lock()


def path() -> str | None:
    """The spool file for the default database, or None when posts go to the inbox."""
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict["NAME"])
    if not name or name == ":memory:" or "mode=memory" in name:
        return None
    return f"{name}.capture-spool"


def _is_wal(file: str) -> bool:
    """Whether the file is an SQLite database in WAL mode already (its header's read and
    write versions, bytes 18 and 19, are 2): a setting kept in the file."""
    try:
        with open(file, "rb") as f:
            header = f.read(20)
    except OSError:
        return False
    return header[:16] == b"SQLite format 3\x00" and header[18:20] == b"\x02\x02"


def _connect(file: str) -> sqlite3.Connection:
    timeout = settings.TANDEM_DB_LOCK_TIMEOUT_MS / 1000  # as the database's busy timeout
    db = sqlite3.connect(file, timeout=timeout, isolation_level=None, check_same_thread=False)
    # Set once, kept in the file. Asked again while another process recovers the file (a
    # worker killed in the middle of a write), the pragma failed at once with "database
    # is locked", without waiting the busy timeout: a web-form post answered 500 (seen
    # with two workers, one killed -9 during a burst). So: only when not in WAL yet, and
    # tried again until the timeout.
    deadline = time.monotonic() + timeout
    while not _is_wal(file):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    db.execute("PRAGMA synchronous=NORMAL")
    with _schema_lock:
        if file not in _schema_done:
            with _turn(file):
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS spool (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                    "form_id INTEGER NOT NULL, received_at TEXT NOT NULL, payload TEXT NOT NULL)"
                )
                db.execute(
                    f"CREATE TABLE IF NOT EXISTS {_COUNTERS} (key TEXT NOT NULL, "
                    "window_start INTEGER NOT NULL, hits INTEGER NOT NULL, "
                    "PRIMARY KEY (key, window_start)) WITHOUT ROWID"
                )
                db.execute(
                    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
                )
                db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('identity', ?)",
                    [uuid.uuid4().hex],
                )
                db.execute("COMMIT")
            _schema_done.add(file)
    return db


def close() -> None:
    """Close this thread's spool connections; the next use opens (and if need be makes)
    the file again."""
    conns: dict[str, sqlite3.Connection] = getattr(_local, "conns", None) or {}
    for db in conns.values():
        db.close()
    conns.clear()
    with _schema_lock:
        _schema_done.clear()


def _db(file: str) -> sqlite3.Connection:
    """This thread's connection to the spool file (opened once per thread)."""
    conns: dict[str, sqlite3.Connection] = getattr(_local, "conns", None) or {}
    _local.conns = conns
    db = conns.get(file)
    if db is None:
        db = conns[file] = _connect(file)
    return db


def _turn(file: str) -> AbstractContextManager[None]:
    """The spool's write turn across processes (flock, woken at once; core/write_turn.py)."""
    return file_turn(f"{file}.lock")


def _counted(db: sqlite3.Connection, hits: ratelimit.Hits | None) -> int:
    """Run the hits on the spool's counters; seconds to wait if a limit is exceeded."""
    if hits is None:
        return 0
    rows = db.execute(_native(hits.sql), hits.params).fetchall() if hits.keys else []
    results = hits.results_only(rows)
    if hits.now >= _next_cleanup[0]:
        _next_cleanup[0] = hits.now + 60
        db.execute(f"DELETE FROM {_COUNTERS} WHERE window_start < ?", [hits.now - 86400])  # noqa: S608
    return max((r.retry_after for r in results if not r.allowed), default=0)


_next_cleanup = [0.0]
_natives: dict[str, str] = {}


def _native(sql: str) -> str:
    native = _natives.get(sql)
    if native is None:
        native = _natives[sql] = sql.replace("%s", "?")
    return native


def put(
    file: str,
    hits: ratelimit.Hits | None,
    still_open: Callable[[], bool],
    row: tuple[int, str, str],
) -> tuple[int, bool, int]:
    """Count the post's hits and append it (form id, received at, payload as JSON),
    in one transaction of the spool: (seconds to wait, stored, posts waiting for the
    drain, for `hold`). Nothing is stored when a limit is exceeded or `still_open()`
    says the form changed or closed."""
    db = _db(file)
    with _turn(file):
        db.execute("BEGIN IMMEDIATE")
        try:
            wait = _counted(db, hits)
            stored = not wait and still_open()
            backlog = 0
            if stored:
                spooled = db.execute(
                    "INSERT INTO spool (form_id, received_at, payload) VALUES (?, ?, ?)", row
                ).lastrowid
                moved = db.execute("SELECT value FROM meta WHERE key = 'moved'").fetchone()
                backlog = int(spooled or 0) - int(moved[0] if moved else 0)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return wait, stored, backlog


def hold(backlog: int) -> None:
    """Back-pressure: answer a post a little later while `backlog` posts wait to be
    captured, past BACKLOG (see there). PostgreSQL's inbox uses it too. The caller
    holds only while a worker's drain loop runs: with none, holding a post leaves
    CPU to no one (`inbox.accept`)."""
    if backlog > BACKLOG:
        time.sleep(min(MAX_HOLD_SECONDS, (backlog - BACKLOG) * HOLD_PER_ROW_SECONDS))


def hit_many(file: str, hits: ratelimit.Hits) -> int:
    """Count hits on the spool's counters (a post not stored); seconds to wait or 0."""
    db = _db(file)
    with _turn(file):
        return _counted(db, hits)


def count(form_id: int | None = None) -> int:
    """Posts spooled and not yet moved into the inbox (to one form, or to any)."""
    file = path()
    if file is None or not os.path.exists(file):
        return 0
    db = _db(file)
    moved = _moved_to(_identity(db))
    if form_id is None:
        row = db.execute("SELECT COUNT(*) FROM spool WHERE id > ?", [moved]).fetchone()
    else:
        row = db.execute(
            "SELECT COUNT(*) FROM spool WHERE id > ? AND form_id = ?", [moved, form_id]
        ).fetchone()
    return int(row[0])


def clear() -> None:
    """Empty the spool, posts and counters (tests: each starts with none)."""
    file = path()
    if file is None or not os.path.exists(file):
        return
    db = _db(file)
    with _turn(file):
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM spool")
        db.execute(f"DELETE FROM {_COUNTERS}")  # noqa: S608
        db.execute(  # nothing waits: the back-pressure counts from here
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('moved', "
            "(SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'spool'))"
        )
        db.execute("COMMIT")


def _identity(db: sqlite3.Connection) -> str:
    return str(db.execute("SELECT value FROM meta WHERE key = 'identity'").fetchone()[0])


def _moved_to(identity: str) -> int:
    """The highest spool id moved into the inbox (the main database's record)."""
    moved = SpoolMark.objects.filter(spool=identity).values_list("moved_to", flat=True).first()
    return int(moved or 0)


_INSERT = (
    f'INSERT INTO "{InboxSubmission._meta.db_table}" '  # noqa: S608
    '("form_id", "received_at", "payload", "attempts", "last_error") '
    "VALUES (%s, %s, %s, 0, '')"
)


def move(limit: int = MOVE_BATCH) -> int:
    """Move up to `limit` spooled posts into the inbox, oldest first; how many moved.

    The drain moves what it is about to capture, so the spool's length says how far
    behind it is (what the back-pressure reads). The rows and the mark are written in
    one transaction of the main database; the rows leave the spool once it commits (in
    a caller's transaction that rolls back, they stay and are moved again).
    """
    file = path()
    if file is None or not os.path.exists(file):
        return 0
    db = _db(file)
    identity = _identity(db)
    moved = _moved_to(identity)
    if not db.execute("SELECT 1 FROM spool WHERE id > ? LIMIT 1", [moved]).fetchone():
        if db.execute("SELECT 1 FROM spool WHERE id <= ? LIMIT 1", [moved]).fetchone():
            _forget_moved(file, moved)  # moved before a crash, not yet deleted
        return 0
    with write_turn(), transaction.atomic():
        moved = _moved_to(identity)  # again in the turn: another drain may have moved some
        rows: list[Any] = db.execute(
            "SELECT form_id, received_at, payload, id FROM spool WHERE id > ? ORDER BY id LIMIT ?",
            [moved, limit],
        ).fetchall()
        if not rows:
            return 0
        forms = set(
            WebForm.objects.filter(pk__in={row[0] for row in rows}).values_list("pk", flat=True)
        )
        kept = [row for row in rows if row[0] in forms]
        if len(kept) < len(rows):  # a form deleted since (not through Tandem: forms stay)
            _set_aside(file, db, [row for row in rows if row[0] not in forms])
        with connection.cursor() as cursor:
            cursor.executemany(_INSERT, [row[:3] for row in kept])
        moved = rows[-1][3]
        if not SpoolMark.objects.filter(spool=identity).update(moved_to=moved):
            SpoolMark.objects.create(spool=identity, moved_to=moved)
        transaction.on_commit(lambda: _forget_moved(file, moved))
    return len(kept)


def move_all() -> int:
    """Move every spooled post into the inbox (before reading or deleting inbox rows
    that must include them: erasing a person)."""
    total = 0
    while moved := move():
        total += moved
    return total


def _set_aside(file: str, db: sqlite3.Connection, rows: list[Any]) -> None:
    """Keep posts whose form is gone in the spool's `orphaned` table, and say so."""
    log.error(
        "%s spooled web-form posts name a form that no longer exists; kept in %s, table orphaned",
        len(rows),
        file,
    )
    with _turn(file):
        db.execute("BEGIN IMMEDIATE")
        db.execute(
            "CREATE TABLE IF NOT EXISTS orphaned (id INTEGER PRIMARY KEY, form_id INTEGER, "
            "received_at TEXT, payload TEXT)"
        )
        db.executemany(
            "INSERT OR IGNORE INTO orphaned (form_id, received_at, payload, id) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )
        db.execute("COMMIT")


def _forget_moved(file: str, moved: int) -> None:
    """Delete the rows the inbox has now, and note how far the drain is (back-pressure)."""
    db = _db(file)
    with _turn(file):
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM spool WHERE id <= ?", [moved])
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('moved', ?)", [moved])
        db.execute("COMMIT")

"""A write that waited too long for another's lock: told apart from other database errors.

SQLite gives up after its busy timeout ("database is locked"); PostgreSQL after
`lock_timeout`, when one is set (TANDEM_DB_LOCK_TIMEOUT_MS). Either is a moment
of contention, not a bug: callers say so in one line and what to do, and
leave the work where it can be resumed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import OperationalError

_SQLITE_NAMES = ("SQLITE_BUSY", "SQLITE_LOCKED")
_PG_LOCK_NOT_AVAILABLE = "55P03"

T = TypeVar("T")


def is_lock_timeout(exc: BaseException) -> bool:
    """True for a database error that only says another writer held the lock too long.

    Django's OperationalError, or the driver's own (a COPY runs on psycopg's cursor).
    """
    for error in (exc, exc.__cause__):
        if error is None:
            continue
        name = getattr(error, "sqlite_errorname", "") or ""
        if name.startswith(_SQLITE_NAMES):
            return True
        if getattr(error, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
            return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc)


def lock_wait_seconds() -> float:
    return settings.TANDEM_DB_LOCK_TIMEOUT_MS / 1000


def busy_text() -> str:
    """What happened, in the words a user reads."""
    return (
        "The database stayed locked by other writes for longer than "
        f"{lock_wait_seconds():g} s (TANDEM_DB_LOCK_TIMEOUT_MS)."
    )


def retry_on_lock(write: Callable[[], T], *, patience: float = 30.0) -> T:
    """Run a small write again while the lock is still held, for up to `patience` seconds
    more than one wait: recording that something stopped must not stop on the same lock."""
    deadline = time.monotonic() + max(patience, 3 * lock_wait_seconds())
    while True:
        try:
            return write()
        except Exception as exc:
            if not is_lock_timeout(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)

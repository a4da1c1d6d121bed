"""Taking turns for SQLite's write lock across processes (web, worker), woken at once.

A writer waiting here is woken by the kernel the moment the lock is free
(flock on a file next to the database). Left to SQLite, a writer that finds
the database locked sleeps in its busy handler (1, 2, 5, 10 ... ms): under a
burst the CPU then idles while writers queue (measured on web-form posts:
765 → 1,058 posts/s). Every writer of a hot path takes its turn here: the
web-form posts, the capture inbox's drain and the emails it queues; a writer
that does not (a task claim) still works, through the busy handler.

PostgreSQL locks rows, not the database: no turn is needed there.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

_guard = threading.Lock()
_thread_locks: dict[str, threading.RLock] = {}
_lock_files: dict[str, int] = {}
_depth = threading.local()


@contextmanager
def write_turn() -> Iterator[None]:
    """Hold the write turn on SQLite (re-entrant within a thread); nothing elsewhere."""
    if connection.vendor != "sqlite":
        yield
        return
    with file_turn(f"{connection.settings_dict['NAME']}.tandem-write-lock"):
        yield


@contextmanager
def file_turn(lock_file: str) -> Iterator[None]:
    """Hold the turn `lock_file` stands for, across processes and threads (re-entrant
    within a thread). The web-form spool takes its own (capture/spool.py)."""
    thread_lock = _thread_locks.get(lock_file)
    if thread_lock is None:
        with _guard:
            thread_lock = _thread_locks.setdefault(lock_file, threading.RLock())
    with thread_lock:  # threads of one process share the file lock: one at a time
        depths: dict[str, int] = getattr(_depth, "by_file", None) or {}
        _depth.by_file = depths
        depth = depths.get(lock_file, 0)
        depths[lock_file] = depth + 1
        try:
            if depth:
                yield
                return
            fd = _lock_files.get(lock_file)
            if fd is None:
                fd = _lock_files[lock_file] = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            depths[lock_file] = depth

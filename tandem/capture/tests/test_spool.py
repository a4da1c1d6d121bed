"""SQLite: web-form posts spooled in a file of their own (capture/spool.py), so a post never
waits for the drain's write lock, and every post is captured exactly once whatever happens
between the spool and the inbox. On PostgreSQL posts go straight to the inbox."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time

import pytest
from django.db import connection, transaction

from tandem.campaigns.models import Touchpoint
from tandem.capture import inbox, inbox_sql, spool
from tandem.capture.models import InboxSubmission, WebForm
from tandem.capture.tests.test_inbox import post
from tandem.core.write_turn import write_turn
from tandem.people.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _drain_timers_done(drain_timers_done):
    pass


def spooled_rows() -> list[tuple[int, int, str, str]]:
    with sqlite3.connect(spool.path()) as db:
        return db.execute("SELECT id, form_id, received_at, payload FROM spool").fetchall()


def test_on_postgresql_posts_go_straight_to_the_inbox(queued, guide):
    assert post(guide, "pg@example.com") == 303
    if connection.vendor == "sqlite":
        assert spool.path() and len(spooled_rows()) == 1
        assert not InboxSubmission.objects.exists()  # until the drain moves it
    else:
        assert spool.path() is None
        assert InboxSubmission.objects.count() == 1
    assert inbox.waiting_count() == 1
    assert inbox.drain().captured == 1
    assert Person.objects.get().email == "pg@example.com"


def test_a_post_is_stored_while_the_drain_holds_the_databases_write_lock(queued, guide):
    """The drain's long write transactions held every post behind them; spooled, a post
    is answered while one is open (SQLite; PostgreSQL locks rows, so never waited)."""
    held, release = threading.Event(), threading.Event()

    def drain_like_writer() -> None:
        name = connection.settings_dict["NAME"]
        if connection.vendor == "sqlite":
            with write_turn():
                db = sqlite3.connect(name, isolation_level=None)
                db.execute("BEGIN IMMEDIATE")
                held.set()
                release.wait(30)
                db.execute("ROLLBACK")
                db.close()
        else:
            held.set()
            release.wait(30)

    writer = threading.Thread(target=drain_like_writer)
    writer.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        assert post(guide, "during@example.com") == 303
        answered_in = time.monotonic() - started
    finally:
        release.set()
        writer.join()
    # SQLite's busy timeout is 20 s: a post behind the lock would have waited for it.
    assert answered_in < 10
    assert inbox.drain().captured == 1
    assert Person.objects.filter(email="during@example.com").exists()


def test_rows_moved_before_a_crash_are_not_moved_again(queued, guide):
    """A crash after the move commits and before the spool forgets the rows: they are in
    the spool and the inbox both, and the mark says which: each is captured once."""
    for n in range(3):
        assert post(guide, f"crash{n}@example.com") == 303
    if spool.path() is None:
        assert connection.vendor == "postgresql"
        return
    before = spooled_rows()
    assert spool.move() == 3
    assert spooled_rows() == []
    with sqlite3.connect(spool.path()) as db:  # as if the clean-up had never run
        db.executemany("INSERT INTO spool VALUES (?, ?, ?, ?)", before)
    assert inbox.waiting_count() == 3  # the inbox's three, not six

    result = inbox.drain()

    assert (result.captured, result.failed) == (3, 0)
    assert Person.objects.count() == 3 and Touchpoint.objects.count() == 3
    assert spooled_rows() == []


def test_a_move_rolled_back_leaves_the_posts_in_the_spool(queued, guide):
    assert post(guide, "rolled@example.com") == 303
    if spool.path() is None:
        assert connection.vendor == "postgresql"
        return
    with pytest.raises(RuntimeError), transaction.atomic():
        assert spool.move() == 1
        raise RuntimeError("the caller's transaction fails")
    assert len(spooled_rows()) == 1 and not InboxSubmission.objects.exists()
    assert inbox.drain().captured == 1
    assert Person.objects.filter(email="rolled@example.com").count() == 1


def test_a_spool_made_anew_is_moved_from_its_first_row(queued, guide):
    """Ids start again at 1 in a new spool file: its own identity keeps the old mark
    from counting them as moved."""
    for n in range(3):
        assert post(guide, f"old{n}@example.com") == 303
    if spool.path() is None:
        assert connection.vendor == "postgresql"
        return
    assert inbox.drain().captured == 3
    spool.close()
    os.remove(spool.path())  # a restore of the database without it, say
    assert post(guide, "new@example.com") == 303
    assert spooled_rows()[0][0] == 1
    assert inbox.drain().captured == 1
    assert Person.objects.filter(email="new@example.com").exists()


def test_posts_to_a_form_deleted_meanwhile_are_set_aside_not_lost(queued, guide, caplog):
    """Tandem never deletes a form; if one is deleted by hand, its spooled posts are kept
    in the spool's `orphaned` table, said in the log, and the others are captured."""
    other = WebForm.objects.create(
        name="Other", key="other-form", fields=guide.fields, is_active=True
    )
    assert post(other, "orphan@example.com") == 303
    assert post(guide, "kept@example.com") == 303
    if spool.path() is None:
        assert connection.vendor == "postgresql"
        return
    WebForm.objects.filter(pk=other.pk).delete()
    with caplog.at_level(logging.ERROR, logger="tandem.capture.spool"):
        result = inbox.drain()
    assert (result.captured, result.failed) == (1, 0)
    assert "no longer exists" in caplog.text
    with sqlite3.connect(spool.path()) as db:
        orphaned = db.execute("SELECT payload FROM orphaned").fetchall()
    assert len(orphaned) == 1 and "orphan@example.com" in orphaned[0][0]
    assert spooled_rows() == []


def _post_four(guide: WebForm, prefix: str) -> list[float]:
    timings = []
    for n in range(4):
        started = time.monotonic()
        assert post(guide, f"{prefix}{n}@example.com") == 303
        timings.append(time.monotonic() - started)
    return timings


@pytest.fixture
def far_behind(monkeypatch, settings, tmp_path):
    """Two posts waiting are a backlog, and each past it holds a post 0.2 s."""
    settings.DATA_DIR = tmp_path  # where PostgreSQL's heartbeat file goes
    monkeypatch.setattr(inbox_sql, "BEHIND_CHECK_SECONDS", 0)
    monkeypatch.setattr(spool, "BACKLOG", 2)
    monkeypatch.setattr(spool, "HOLD_PER_ROW_SECONDS", 0.2)
    monkeypatch.setattr(spool, "MAX_HOLD_SECONDS", 1.0)


def test_a_drain_far_behind_holds_each_new_post_a_moment_and_keeps_it(queued, guide, far_behind):
    """Back-pressure, on both databases: past BACKLOG waiting posts, a post is stored, then
    answered a little later, so the web processes leave CPU to the worker's drain loop in
    a long burst (SQLite counts the spool; PostgreSQL the inbox, at most every
    BEHIND_CHECK_SECONDS)."""
    name = inbox._heartbeat_file()
    assert name is not None
    with open(name, "a"):  # a worker's drain loop beats
        os.utime(name)
    try:
        timings = _post_four(guide, "burst")
    finally:
        inbox._end_beat()  # the loop stops: its file goes, and this process forgets it
    assert timings[3] >= 0.2 * 2  # four waiting, two past the backlog
    assert inbox.drain().captured == 4


def test_with_no_drain_loop_running_no_post_is_held(queued, guide, far_behind):
    """A stopped worker: posts wait in the spool or inbox for one to start, and are answered
    at once; holding them would leave the CPU to no one."""
    name = inbox._heartbeat_file()
    assert name is not None and not os.path.exists(name)
    assert not inbox.drain_loop_alive_anywhere()
    timings = _post_four(guide, "alone")
    assert max(timings) < 0.2
    assert inbox.drain().captured == 4


class _RecoveringFile(sqlite3.Connection):
    """A connection to a spool file that another process is recovering (a worker killed
    in a write): SQLite answers the journal-mode pragma "database is locked" at once."""

    busy_answers = 0

    def execute(self, sql, *args):  # type: ignore[override]
        if sql.startswith("PRAGMA journal_mode=") and _RecoveringFile.busy_answers:
            _RecoveringFile.busy_answers -= 1
            raise sqlite3.OperationalError("database is locked")
        return super().execute(sql, *args)


@pytest.mark.parametrize("already_wal", [True, False], ids=["in WAL already", "new file"])
def test_opening_the_spool_while_another_process_recovers_it_waits_not_fails(
    tmp_path, monkeypatch, already_wal
):
    """A web process opening the spool (a new thread's first post) while a killed worker's
    write is recovered: the post is stored, not answered 500."""
    file = str(tmp_path / "tandem.sqlite3.capture-spool")
    if already_wal:
        with sqlite3.connect(file) as db:
            db.execute("PRAGMA journal_mode=WAL")
    real_connect = sqlite3.connect
    monkeypatch.setattr(
        spool.sqlite3, "connect", lambda *a, **kw: real_connect(*a, **kw, factory=_RecoveringFile)
    )
    _RecoveringFile.busy_answers = 3
    db = spool._connect(file)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        db.execute("INSERT INTO spool (form_id, received_at, payload) VALUES (1, 'now', '{}')")
        assert db.execute("SELECT COUNT(*) FROM spool").fetchone() == (1,)
    finally:
        db.close()
        spool.close()

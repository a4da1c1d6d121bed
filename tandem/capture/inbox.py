"""The capture inbox: web-form posts are accepted at once and captured by a background task.

Why (issue 4, point 17): a campaign launch sends a burst of visitors to one
form. Capturing each in the request (find or create the person, company,
touchpoint, consent with proof, confirmation email, duplicate check: some 35
statements) holds every visitor for the whole capture. Instead the public
POST checks the submission as before (errors go back to the visitor), stores
it in one INSERT and answers 303; `drain` captures waiting submissions through
the same `capture_submission` → `capture_person` path, each in one transaction
that also deletes its inbox row, so every accepted submission is captured
exactly once, in the order received, with the time it was sent as the
touchpoint's and the consent proof's time.

When tasks run inline (the immediate backend: tests, `TANDEM_TASKS=immediate`)
there is no queue, so a submission is captured in the request, as before, and
a capture error still goes back to the visitor. Otherwise each web process
enqueues at most one drain task per DRAIN_DELAY_SECONDS however many posts it
accepts: one task row for a burst, not three per post.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F
from django.dispatch import receiver
from django.utils import timezone
from django_tasks.backends.immediate import ImmediateBackend

from tandem.capture import consent as consents
from tandem.capture import email, inbox_sql, spool, webforms
from tandem.capture.batch import FormCache, capture_batch, submission_of
from tandem.capture.models import InboxSubmission, WebForm
from tandem.core import ratelimit
from tandem.core.write_turn import write_turn
from tandem.people import extensions
from tandem.people.custom_fields import remembered_definitions
from tandem.people.models import Person
from tandem.people.normalize import normalize_email

log = logging.getLogger(__name__)

# Posts accepted within this share one drain task. A worker's own loop
# (drain_continuously) captures them as they come; the task is for a worker without it.
DRAIN_DELAY_SECONDS = 0.25
DRAIN_BATCH = 200  # ids read at a time
# Submissions written set-based in one transaction (capture/batch.py) on SQLite, and the
# pause after each such transaction, which is the web posts' turn for the write lock and
# lets the next batch gather. Without the pause the drain took the turn back at once, a
# few submissions at a time: under a burst posts got a moment between its turns, the
# worker spent most of its time on each batch's fixed costs, and the machine idled. Measured
# with `python -m bench.capture_e2e --db sqlite` (quiet machine, 2026-12-06; accepted and
# captured per second, worker CPU a post): 20 and no pause 446-477/s, 1.7-1.9 ms;
# 20 and 5 ms 660-711/s, 1.0 ms; 100 and 20 ms 849/s, 0.78 ms; 200 and 30-50 ms
# 870-930/s, 0.74 ms. 100 and 20 ms keeps a post's wait for a turn short (a batch of
# 100 holds the lock ~40 ms) and leaves the drain ahead of the posts (post → person
# p95 0.3 s).
DRAIN_WRITE_BATCH = 100
DRAIN_WINDOW_SECONDS = 0.02
# PostgreSQL locks rows, not the database: posts never wait for the drain's transaction,
# and fewer, bigger transactions spare round trips and commits (WAL flushes).
DRAIN_WRITE_BATCH_POSTGRES = 200


def write_batch_size() -> int:
    """Submissions per set-based write transaction on this database."""
    return DRAIN_WRITE_BATCH if connection.vendor == "sqlite" else DRAIN_WRITE_BATCH_POSTGRES


DRAIN_POLL_SECONDS = 0.1  # the worker's own drain looks at the inbox this often when idle
DRAIN_MAX_SECONDS = 30.0  # a longer backlog continues in a follow-up task
MAX_ATTEMPTS = 3  # a submission failing for another reason than its data is retried this often


@dataclass
class DrainResult:
    captured: int = 0
    failed: int = 0
    waiting: int = 0  # left for a follow-up task when the time ran out

    def as_dict(self) -> dict[str, int]:
        return {"captured": self.captured, "failed": self.failed, "waiting": self.waiting}


# --- accepting ------------------------------------------------------------------------------


def _payload(sub: webforms.Submission, proof: consents.Proof, base_url: str) -> dict[str, Any]:
    """The checked submission as JSON: enough to capture it later exactly as now."""
    return {
        "person": sub.person,
        "values": sub.values,
        "tracking": sub.tracking,
        "note": sub.note_lines,
        "extra": sub.extra,
        "texts": [t.pk for t in sub.consent_texts],
        "ticked": sorted(sub.ticked),
        **({"contact_request": True} if sub.contact_request else {}),
        "ip": proof.ip or "",
        "ua": proof.user_agent,
        "base_url": base_url,
    }


def captures_inline() -> bool:
    """True when tasks run in the caller (no queue, no worker): capture in the request."""
    inline = _captures_inline[0]
    if inline is None:
        from tandem.capture.tasks import drain_capture_inbox

        inline = _captures_inline[0] = isinstance(
            drain_capture_inbox.get_backend(), ImmediateBackend
        )
    return inline


_captures_inline: list[bool | None] = [None]  # known once per process, until TASKS changes


@receiver(setting_changed)
def _forget_task_backend(*, setting: str, **kwargs: Any) -> None:
    if setting == "TASKS":
        _captures_inline[0] = None


@dataclass(frozen=True)
class Acceptance:
    """What became of a submission handed to `accept`."""

    stored: bool  # in the inbox (or captured, with inline tasks)
    retry_after: int = 0  # over a rate limit: nothing stored, try again in this many seconds

    @property
    def form_changed(self) -> bool:
        """Neither stored nor limited: the form changed or closed since it was read."""
        return not self.stored and not self.retry_after


def accept(
    *,
    form: WebForm,
    sub: webforms.Submission,
    proof: consents.Proof,
    base_url: str,
    limits: Sequence[tuple[str, int]] = (),
    window_seconds: int = 60,
) -> Acceptance:
    """Count a checked submission against `limits` and store it in the inbox, together.

    The row is written only while no limit is exceeded and `form` is active and
    unchanged since it was read (same updated_at): the caller reads a changed
    form again and checks the post again. On PostgreSQL the counters and the
    row are one statement (one round trip, one commit); on SQLite one short
    transaction of the spool file beside the database (capture/spool.py), so a
    post never waits for the drain's writes (in-memory SQLite: of the database,
    web processes taking turns for it, `_writer_turn`). With
    inline tasks the submission is captured now instead; a ValidationError
    from the capture then reaches the caller, with the hits counted and nothing
    stored.
    """
    if sub.errors:
        raise ValidationError(sub.errors)
    hits = ratelimit.Hits(limits, window_seconds=window_seconds) if limits else None
    payload = _payload(sub, proof, base_url)
    received_at = proof.at or timezone.now()
    db = connections[DEFAULT_DB_ALIAS]  # once: each `connection.x` looks it up again
    if captures_inline():
        wait = inbox_sql.count(db, hits)
        if wait:
            return Acceptance(stored=False, retry_after=wait)
        with transaction.atomic():
            if not WebForm.objects.filter(
                pk=form.pk, updated_at=form.updated_at, is_active=True
            ).exists():
                return Acceptance(stored=False)
            row = InboxSubmission.objects.create(
                form=form, received_at=received_at, payload=payload
            )
            _capture(row, _Forms())
        return Acceptance(stored=True)
    backlog = 0
    spool_file = _spool_file()
    if spool_file is not None:  # SQLite: posts write a file of their own (capture/spool.py)
        params = inbox_sql.insert_params(db, form, received_at, payload)
        wait, stored, backlog = spool.put(
            spool_file,
            hits,
            lambda: bool(inbox_sql.run(db, inbox_sql.open_form_sql(db), params[3:])[0]),
            (form.pk, params[1], params[2]),
        )
    elif hits is not None and hits.keys and db.vendor == "postgresql":
        wait, stored = inbox_sql.count_and_insert_in_one_statement(
            db, hits, form, received_at, payload
        )
    else:
        with _writer_turn():
            wait = inbox_sql.count(db, hits)
            stored = not wait and inbox_sql.insert(db, form, received_at, payload)
    if stored:
        transaction.on_commit(_drain_soon)
        if spool_file is None:
            backlog = inbox_sql.waiting_lately(db, MAX_ATTEMPTS)
        # Back-pressure leaves CPU to a running drain loop. With none (the worker is
        # stopped, or runs queued tasks only), a held post would only be answered later.
        if backlog > spool.BACKLOG and _drain_loop_alive():
            spool.hold(backlog)
    return Acceptance(stored=stored, retry_after=wait)


def count_hits(limits: Sequence[tuple[str, int]], *, window_seconds: int) -> int:
    """Count a post that is not stored (a bot's, an invalid one) against `limits` where
    `accept` counts stored ones; seconds to wait if a limit is exceeded, else 0."""
    hits = ratelimit.Hits(limits, window_seconds=window_seconds)
    spool_file = _spool_file()
    if spool_file is not None:
        return spool.hit_many(spool_file, hits)
    return inbox_sql.count(connections[DEFAULT_DB_ALIAS], hits)


def _spool_file() -> str | None:
    """Where posts are spooled (SQLite with a worker: capture/spool.py), or None."""
    return None if captures_inline() else spool.path()


_writer_turn = write_turn  # on SQLite, posts and the drain take turns (see core/write_turn.py)


# --- scheduling the drain -------------------------------------------------------------------

_drain_lock = threading.Lock()
_drain_pending = [False]


def _drain_soon() -> None:
    """Enqueue a drain DRAIN_DELAY_SECONDS from now, unless this process has one coming.

    A submission committed while a drain is pending is seen by it: the pending
    flag is cleared before the task is enqueued, and the task reads the inbox
    after it is enqueued.
    """
    if _drain_loop_alive():
        return  # a worker on this machine captures it within DRAIN_POLL_SECONDS
    with _drain_lock:
        if _drain_pending[0]:
            return
        _drain_pending[0] = True
    timer = threading.Timer(DRAIN_DELAY_SECONDS, _enqueue_drain_from_timer)
    timer.name = "tandem-capture-drain"
    timer.start()


def _enqueue_drain_from_timer() -> None:
    with _drain_lock:
        _drain_pending[0] = False
    try:
        _enqueue_drain()
    finally:
        connections.close_all()  # this timer thread's own connections


def _enqueue_drain() -> None:
    from tandem.capture.tasks import drain_capture_inbox

    try:
        with write_turn():
            drain_capture_inbox.enqueue()
    except Exception:  # the submissions wait in the inbox for the next drain
        log.exception("could not enqueue the capture inbox drain")


# --- draining ---------------------------------------------------------------------------------


_Forms = FormCache


def _capture(row: InboxSubmission, forms: _Forms, *, check_duplicates: bool = True) -> int | None:
    """Capture one inbox row and delete it; the caller holds the transaction.

    Returns the id of the person it created, if it created one.
    """
    form, sub, proof = submission_of(row, forms)
    result = webforms.capture_submission(
        form=form,
        sub=sub,
        proof=proof,
        base_url=row.payload["base_url"],
        occurred_at=row.received_at,
        check_duplicates=check_duplicates,
        notify=forms.notify_addresses(form),
    )
    InboxSubmission.objects.filter(pk=row.pk).delete()
    return result.person.pk if result.created else None


def capture_waiting(
    pk: int, forms: _Forms | None = None, created: list[int] | None = None
) -> bool | None:
    """Capture one waiting submission: True when captured, False when it failed
    (its error is kept on the row), None when another drain took it first.

    With `created`, the id of a new person is added to it and the duplicate
    check is left to the caller; without, it is enqueued for this person.
    """
    forms = forms or _Forms()
    try:
        with _writer_turn(), transaction.atomic():
            row = (
                InboxSubmission.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=pk)
                .first()
            )
            if row is None:
                return None
            person_id = _capture(row, forms, check_duplicates=created is None)
        if person_id is not None and created is not None:
            created.append(person_id)
        return True
    except ValidationError as exc:  # the data itself is refused: retrying will not help
        _fail(pk, exc, attempts=MAX_ATTEMPTS)
    except Exception as exc:
        log.exception("capture of inbox submission %s failed", pk)
        _fail(pk, exc, attempts=None)
    return False


def _fail(pk: int, exc: Exception, *, attempts: int | None) -> None:
    with _writer_turn():
        _mark_failed(pk, exc, attempts=attempts)


def _mark_failed(pk: int, exc: Exception, *, attempts: int | None) -> None:
    InboxSubmission.objects.filter(pk=pk).update(
        attempts=attempts if attempts is not None else F("attempts") + 1,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )


@dataclass
class FollowUps:
    """What a drain leaves for after its commits: the people it made (for the duplicate
    check) and the emails it queued (for sending). `drain` hands them on when it ends;
    the worker's loop gathers them over FOLLOW_UP_SECONDS instead (`flush`), longer while
    a burst lasts (`busy`)."""

    created: list[int] = field(default_factory=list)
    emails: list[int] = field(default_factory=list)
    since: float = 0.0  # time.monotonic() of the oldest held, 0 when none
    # Captures counted by whole seconds of time.monotonic(), for `busy`: the latest second
    # counted, its captures and those of the second before it.
    _second: int = 0
    _this_second: int = 0
    _second_before: int = 0

    def held(self) -> bool:
        return bool(self.created or self.emails)

    def count(self, captured: int, now: float) -> None:
        """Note `captured` submissions captured at `now` (for `busy`)."""
        second = int(now)
        if second != self._second:
            self._second_before = self._this_second if second == self._second + 1 else 0
            self._second, self._this_second = second, 0
        self._this_second += captured

    def busy(self, now: float) -> bool:
        """A burst: FOLLOW_UP_BUSY_RATE captures or more in this second or the last."""
        since = int(now) - self._second  # whole seconds since the latest counted
        if since == 0:
            recent = max(self._this_second, self._second_before)
        elif since == 1:
            recent = self._this_second
        else:
            recent = 0
        return recent >= FOLLOW_UP_BUSY_RATE

    def due(self, now: float, *, behind: bool = False) -> bool:
        """Time to flush: FOLLOW_UP_SECONDS after the oldest held; while the drain is
        behind the posts or a burst lasts, FOLLOW_UP_BEHIND_SECONDS."""
        busy = behind or self.busy(now)
        wait = FOLLOW_UP_BEHIND_SECONDS if busy else FOLLOW_UP_SECONDS
        return self.held() and now - self.since >= wait

    def flush(self) -> None:
        """Enqueue the duplicate check and the sending, each one task for all held."""
        created, emails = self.created[:], self.emails[:]
        self.created.clear()
        self.emails.clear()
        self.since = 0.0
        with _writer_turn():
            _check_for_duplicates(created)
            email.send_queued(emails)


def _check_for_duplicates(person_ids: list[int]) -> None:
    """Tell dedup of captured people (ADR 0005; scoring scored them in their batch
    already), in slices: a burst's tens of thousands at once would make dedup scan the
    whole database instead (its answer to a big import), minutes on a million people
    where the lookups of these take seconds. Inside the caller's write turn."""
    for start in range(0, len(person_ids), FOLLOW_UP_CHECK_SLICE):
        extensions.people_added(person_ids[start : start + FOLLOW_UP_CHECK_SLICE], "capture")


# The worker's drain loop holds the duplicate checks and emails of its drains this long
# and enqueues one task of each for all of them: a drain of a few dozen submissions every
# tenth of a second under a burst made two task rows each (claimed, run and finished by
# the worker, on SQLite outside the write turns), some 60 a burst of 3,000 posts.
FOLLOW_UP_SECONDS = 1.0
# While a burst lasts (the drain captures FOLLOW_UP_BUSY_RATE submissions a second or
# more, or reads full batches: posts come faster than it captures them) it holds them up
# to FOLLOW_UP_BEHIND_SECONDS: the duplicate checks and emails are tasks the same worker
# runs beside the drain, on the same cores as the web processes, and they took a third of
# the worker's CPU while a burst lasted. People first; their checks and confirmation
# emails follow a second or two after the burst, at the latest this long after the post.
# Measured with `python -m bench.capture_e2e` (docs/benchmarks.md, 2026-12-07), held 1 s
# (5 s on full reads) → while busy: SQLite accepted 0.54-0.55× → 0.66-0.75× of the floor,
# p99 39-42 → 26-30 ms, post → person p95 0.93-0.96 → 0.25-0.49 s; PostgreSQL 0.35-0.37×
# → 0.42-0.43×, p95 1.20-1.38 → 0.66-0.70 s.
FOLLOW_UP_BUSY_RATE = 200
FOLLOW_UP_BEHIND_SECONDS = 30.0
FOLLOW_UP_CHECK_SLICE = 1000  # people per duplicate-check task of a flush


def drain(
    *,
    max_seconds: float = DRAIN_MAX_SECONDS,
    batch: int = DRAIN_BATCH,
    follow_ups: FollowUps | None = None,
    forms: FormCache | None = None,
    beat: Callable[[], object] | None = None,
) -> DrainResult:
    """Capture waiting submissions, oldest first, until none is left or time is up.

    Safe to run in several workers at once: each row is captured under a row
    lock (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer at a time) and
    deleted in the same transaction. The people it creates are checked for
    duplicates by one task per drain, not one each, and its emails are sent by one
    task; with `follow_ups`, both are added to it instead, for the caller to flush.
    `forms` keeps what was read of the forms from an earlier drain (the loop's).
    """
    result = DrainResult()
    forms = forms if forms is not None else _Forms()
    held = follow_ups if follow_ups is not None else FollowUps()
    deadline = time.monotonic() + max_seconds
    after = 0
    spooled = spool.path() is not None
    while True:
        if not held.held():
            held.since = time.monotonic()
        if spooled:
            spool.move(batch)  # what this read captures; the rest waits in the spool
        ids = list(
            InboxSubmission.objects.filter(pk__gt=after, attempts__lt=MAX_ATTEMPTS)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return result
        created = held.created
        try:
            with email.sent_together(into=held.emails), remembered_definitions():
                size = write_batch_size()
                for start in range(0, len(ids), size):
                    chunk = ids[start : start + size]
                    done = capture_batch(
                        chunk, forms, max_attempts=MAX_ATTEMPTS, writer_turn=_writer_turn
                    )
                    result.captured += len(done.captured)
                    held.count(len(done.captured), time.monotonic())
                    created += done.created
                    for pk in done.left:  # known people, repeats, refusals: one by one
                        captured = capture_waiting(pk, forms, created)
                        if captured:
                            result.captured += 1
                        elif captured is False:
                            result.failed += 1
                    after = chunk[-1]
                    if beat is not None:  # the worker's loop: alive through a long drain
                        beat()
                    if connection.vendor == "sqlite" and not spooled:
                        # The posts' turn; the next batch gathers (spooled, they need none).
                        time.sleep(DRAIN_WINDOW_SECONDS)
                    if time.monotonic() > deadline:
                        result.waiting = waiting_count()
                        return result
        finally:
            # A full read: more were waiting. Not on SQLite without the spool, where the
            # held checks and emails then ran as bigger tasks, in longer write turns that
            # posts waited for (p99 70-76 → 94-110 ms, 0.33-0.37× → 0.27-0.32× of the floor).
            behind = len(ids) == batch and (spooled or connection.vendor != "sqlite")
            if follow_ups is None or held.due(time.monotonic(), behind=behind):
                held.flush()


def drain_continuously(stop: threading.Event, *, poll_seconds: float = DRAIN_POLL_SECONDS) -> None:
    """The worker's own drain: capture what waits, else look again in `poll_seconds`.

    Why not only the drain task the web processes enqueue: on SQLite a task is
    claimed by a write the worker makes outside `_writer_turn`, and under a burst
    of posts (which take turns with each other) SQLite's busy handler left that
    write sleeping for seconds while posts piled up in the inbox. This loop
    writes in its turn like the posts do, so it interleaves with them; the task
    stays for a worker started without it (and a backlog after a restart).
    """
    _drain_loop_running.set()
    follow_ups = FollowUps()
    next_look = time.monotonic() + _HEARTBEAT_SECONDS
    while not stop.is_set():
        # What the drains read of the forms and custom fields is kept for FOLLOW_UP_SECONDS
        # (a drain task keeps it for its whole run): under a burst the loop drains a few
        # dozen submissions at a time, and reading them again each time cost more than
        # capturing. A change to a form applies from the next window.
        window_ends = time.monotonic() + FOLLOW_UP_SECONDS
        forms = _Forms()
        with remembered_definitions():
            while not stop.is_set() and time.monotonic() < window_ends:
                try:
                    _beat()
                    captured = (
                        waiting_count()
                        and drain(follow_ups=follow_ups, forms=forms, beat=_beat).captured
                    )
                    if follow_ups.due(time.monotonic()):
                        follow_ups.flush()
                    if time.monotonic() >= next_look:  # a worker killed beside this one
                        next_look = time.monotonic() + _HEARTBEAT_SECONDS
                        check_people_a_killed_loop_held(starting=False)
                    if captured:
                        continue
                except Exception:  # the loop outlives a bad moment (a lost connection, ...)
                    log.exception("the capture inbox drain failed; trying again")
                    connections.close_all()
                    stop.wait(poll_seconds)
                    break  # and reads the forms again
                stop.wait(poll_seconds)
    try:
        if follow_ups.held():
            follow_ups.flush()
    except Exception:
        log.exception("could not enqueue the capture drain's duplicate checks and emails")
    _drain_loop_running.clear()
    _end_beat()
    connections.close_all()


_drain_loop_running = threading.Event()
_HEARTBEAT_SECONDS = 10.0  # a drain loop not heard of for this long is gone: enqueue tasks again
# (long enough for a loop busy with one big drain on a loaded machine)
_last_beat = [0.0]


def _heartbeat_file() -> str | None:
    """A file a running drain loop touches: web processes that see it fresh enqueue no
    drain task each 0.25 s. Each task was three writes (commits) of the worker; on
    SQLite outside the writers' turn, which under a burst left posts sleeping in its
    busy handler. Next to the SQLite database; for PostgreSQL in TANDEM_DATA_DIR, when
    web and worker share it (one machine). Without the file, tasks are enqueued."""
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        return f"{name}.tandem-drain-loop"
    if not settings.DATA_DIR.is_dir():
        return None
    host = str(connection.settings_dict.get("HOST") or "local")
    return str(settings.DATA_DIR / f"drain-loop-{connection.vendor}-{host}-{name}")


def _beat() -> None:
    now = time.time()
    if now - _last_beat[0] < 1.0:  # called after every batch of a drain: at most once a second
        return
    name = _heartbeat_file()
    if name is None:
        return
    _last_beat[0] = now
    # This loop's own file, for the other workers (`check_people_a_killed_loop_held`).
    with open(_loop_file(name), "w"):
        pass
    # The shared one, for the web processes: written beside and renamed over, so a reader
    # never finds it half written.
    written = f"{name}.{os.getpid()}"
    with open(written, "w") as beat:
        beat.write(str(os.getpid()))
    os.replace(written, name)
    _seen_alive.clear()


_LOOP_MARK = ".loop-"


def _loop_file(name: str, host: str | None = None, pid: int | None = None) -> str:
    """The heartbeat file of one process's loop: `<shared file>.loop-<host>-<process id>`
    (this process's by default)."""
    host = host if host is not None else socket.gethostname()
    return f"{name}{_LOOP_MARK}{host}-{pid if pid is not None else os.getpid()}"


def _end_beat() -> None:
    """The loop stops: posts enqueue drain tasks again (within _ALIVE_CHECK_SECONDS in
    other processes, at once in this one)."""
    name = _heartbeat_file()
    _last_beat[0] = 0.0
    _seen_alive.clear()
    if name is not None:
        for file in (name, _loop_file(name)):
            with contextlib.suppress(OSError):
                os.unlink(file)


# A heartbeat seen fresh is believed for this long (and never past its _HEARTBEAT_SECONDS)
# before the file is looked at again: not one stat per post. A missing or stale one is
# looked at again on the next post.
_ALIVE_CHECK_SECONDS = 1.0
# (vendor, database name, host, data folder) -> (time.time() its heartbeat file was
# looked at, time.time() that beat goes stale)
_seen_alive: dict[tuple[str, Any, Any, Any], tuple[float, float]] = {}


def _drain_loop_alive() -> bool:
    db = connections[DEFAULT_DB_ALIAS]
    sd = db.settings_dict
    database = (db.vendor, sd["NAME"], sd.get("HOST"), settings.DATA_DIR)
    now = time.time()
    seen = _seen_alive.get(database)
    if seen is not None and now - seen[0] < _ALIVE_CHECK_SECONDS and now < seen[1]:
        return True
    name = _heartbeat_file()
    if name is None:
        return False
    try:
        stale_at = os.stat(name).st_mtime + _HEARTBEAT_SECONDS
    except OSError:
        stale_at = 0.0
    if now < stale_at:
        _seen_alive[database] = (now, stale_at)
        return True
    _seen_alive.pop(database, None)
    return False


def check_people_a_killed_loop_held(*, starting: bool = True) -> int:
    """Check for duplicates the people killed drain loops may have held; how many.

    A loop holds its people's duplicate checks while a burst lasts (FollowUps):
    a worker killed meanwhile took them with it. Each loop beats a file of its
    own (`_loop_file`), which a clean stop removes; one left behind is a killed
    loop's, unless it is fresh and its process still runs (on another machine:
    unless it is fresh). Its last beat tells when: the people created since
    FOLLOW_UP_BEHIND_SECONDS and a whole drain (DRAIN_MAX_SECONDS) before it are
    checked, in slices as the loop checks them, and the file goes. A person
    checked twice adds nothing (candidate pairs are upserted).

    A starting worker runs this before its own loop beats (`starting`: a file with
    this process's own id is then an earlier process's, the id used again), and
    each running loop every _HEARTBEAT_SECONDS, for a worker killed beside it and
    not started again.
    """
    name = _heartbeat_file()
    if name is None:
        return 0
    folder, prefix = os.path.split(name)
    try:
        files = [f for f in os.listdir(folder or ".") if f.startswith(prefix + _LOOP_MARK)]
    except OSError:
        return 0
    here, own = socket.gethostname(), _loop_file(name)
    left: dict[str, float] = {}  # a killed loop's file → its last beat
    for file in sorted(files):
        path = os.path.join(folder, file)
        host, _, pid = file[len(prefix + _LOOP_MARK) :].rpartition("-")
        try:
            beat = os.stat(path).st_mtime
        except OSError:
            continue  # stopped cleanly meanwhile
        if path == own and not starting:
            continue  # this loop's
        if path != own and time.time() - beat < _HEARTBEAT_SECONDS:
            if host != here or _process_runs(pid):
                continue  # another worker's loop beats now, and checks its own
        left[path] = beat
    if not left:
        return 0
    # One check from the earliest window: several killed loops' windows overlap.
    checked = _check_people_made_since(
        min(left.values()) - FOLLOW_UP_BEHIND_SECONDS - DRAIN_MAX_SECONDS - _BEAT_MARGIN_SECONDS
    )
    for path in left:
        with contextlib.suppress(OSError):
            os.unlink(path)  # done: no one checks them again
    return checked


def _check_people_made_since(timestamp: float) -> int:
    since = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)
    ids = list(
        Person.objects.live()
        .filter(created_at__gte=since)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    with _writer_turn():
        _check_for_duplicates(ids)
    return len(ids)


_BEAT_MARGIN_SECONDS = 10.0  # a batch's time between two beats, and clocks


def _process_runs(pid: str) -> bool:
    """Whether a process with this id runs on this machine (an unreadable id: no)."""
    try:
        os.kill(int(pid), 0)
    except PermissionError:
        return True  # it runs, as another user
    except (ValueError, OSError):
        return False
    return True


def drain_loop_alive_anywhere() -> bool:
    """True when a worker's drain loop for this database has beaten lately (any process
    that shares the heartbeat file: the database's folder, or TANDEM_DATA_DIR)."""
    return _drain_loop_alive()


def drain_loop_running() -> bool:
    """True in a worker whose own drain loop runs: a drain task there has nothing to add
    (it would read and check the same submissions again, only to find them taken)."""
    return _drain_loop_running.is_set()


def forget(emails: set[str]) -> int:
    """Delete the submissions, waiting or refused, sent with one of these normalised emails
    (erasing a person: what they sent must not stay behind, nor make them again)."""
    if not emails:
        return 0
    spool.move_all()  # posts not in the inbox yet are theirs too
    doomed = [
        pk
        for pk, payload in InboxSubmission.objects.values_list("pk", "payload").iterator()
        if normalize_email(str((payload.get("person") or {}).get("email") or "")) in emails
    ]
    InboxSubmission.objects.filter(pk__in=doomed).delete()
    return len(doomed)


def waiting_count() -> int:
    """Submissions accepted and still to be captured (failed ones not counted)."""
    return InboxSubmission.objects.filter(attempts__lt=MAX_ATTEMPTS).count() + spool.count()


def failed_count() -> int:
    return InboxSubmission.objects.filter(attempts__gte=MAX_ATTEMPTS).count()


def failed_submissions() -> list[InboxSubmission]:
    """Submissions the capture refused or kept failing on, for someone to look at."""
    return list(InboxSubmission.objects.filter(attempts__gte=MAX_ATTEMPTS).order_by("pk"))


# --- for the people who run the form ------------------------------------------------------


@dataclass(frozen=True)
class FormInbox:
    """What a form's page shows of its inbox: submissions still to be captured, and
    the ones the capture refused (kept with their error, never dropped)."""

    waiting: int
    failed: list[InboxSubmission]


def for_form(form: WebForm, *, limit: int = 50) -> FormInbox:
    rows = InboxSubmission.objects.filter(form=form)
    return FormInbox(
        waiting=rows.filter(attempts__lt=MAX_ATTEMPTS).count() + spool.count(form.pk),
        failed=list(rows.filter(attempts__gte=MAX_ATTEMPTS).order_by("pk")[:limit]),
    )


def retry_failed(form: WebForm) -> int:
    """Give the form's refused submissions another try (after the cause is fixed,
    say a custom field made optional again); returns how many are queued."""
    count = InboxSubmission.objects.filter(form=form, attempts__gte=MAX_ATTEMPTS).update(
        attempts=0, last_error=""
    )
    if count:
        transaction.on_commit(_enqueue_drain)
    return count

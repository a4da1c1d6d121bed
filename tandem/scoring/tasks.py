"""Background scoring: rescoring after big writes, and the scheduled decay rescore."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from django_tasks import task

from tandem.scoring import engine
from tandem.scoring.models import ScoringClock

log = logging.getLogger(__name__)

# Up to this many people are rescored right after the commit that touched them;
# more (an import) go to one background rescore of everyone.
INLINE_LIMIT = 5000


@task()
def rescore_people(person_ids: list[int]) -> int:
    """Rescore these people; safe to repeat (scores are upserted)."""
    return engine.rescore_people([int(i) for i in person_ids])


@task()
def rescore_everyone() -> int:
    """The full rescore: decay brought up to date, expired overrides lapsed."""
    return engine.rescore_everyone()


_pending = threading.local()  # ids touched in this thread's open transaction


def _after_commit() -> None:
    ids = sorted(getattr(_pending, "ids", set()))
    _pending.ids = set()
    if not ids:
        return
    if len(ids) > INLINE_LIMIT:
        rescore_everyone.enqueue()
        return
    try:
        engine.rescore_people(ids)
    except Exception:  # a score is advice: never fail the write that triggered it
        log.exception("rescoring %s people failed; the next scheduled rescore retries", len(ids))


def people_touched(person_ids: list[int], why: str) -> None:
    """People were added, edited, or got touchpoints or activities: rescore them after the
    commit (people's extension point, ADR 0005). The ids of one transaction are gathered,
    so a capture (person created, then touchpoint recorded) or a batch is scored once."""
    pending = getattr(_pending, "ids", None)
    if pending is None:
        pending = _pending.ids = set()
    pending.update(int(i) for i in person_ids)
    # Each call asks for the flush (a rolled-back transaction drops its callback); the
    # first flush after the commit takes every id, the others find none.
    transaction.on_commit(_after_commit)


def people_added(person_ids: list[int], found_by: str) -> None:
    """People were added (people's NewPeopleCheck): score them after the commit.

    Not again for capture: it touches the people it makes in the transaction that
    makes them (`create_person` and the capture batch), so they are scored there. Its
    drain tells of them a second time up to a second later, in a write turn of its own
    on SQLite, and rescoring them there held web-form posts behind it.
    """
    if found_by != "capture":
        people_touched(person_ids, found_by)


def decay_interval_hours() -> float:
    return float(settings.TANDEM_SCORING_DECAY_HOURS)


def claim_decay(now=None) -> bool:
    """True for the one caller that may start the scheduled rescore now (a conditional
    UPDATE, so workers running side by side start it once)."""
    now = now or timezone.now()
    next_due = now + dt.timedelta(hours=decay_interval_hours())
    ScoringClock.objects.get_or_create(pk=1, defaults={"decay_due_at": now})
    return bool(
        ScoringClock.objects.filter(pk=1, decay_due_at__lte=now).update(decay_due_at=next_due)
    )


def tick(now=None) -> None:
    """One beat of the worker's scoring loop: lapse expired overrides; enqueue the decay
    rescore when it is due."""
    engine.lapse_overrides(now=now)
    if claim_decay(now):
        rescore_everyone.enqueue()


def scoring_loop(stop: threading.Event, *, poll_seconds: float = 60.0) -> None:
    """The worker's scoring beat (registered with core.worker_start)."""
    while not stop.is_set():
        try:
            tick()
        except Exception:
            log.exception("scoring tick failed")
        finally:
            close_old_connections()
        stop.wait(poll_seconds)

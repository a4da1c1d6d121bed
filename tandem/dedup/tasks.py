"""Background duplicate checks, enqueued on commit by capture, imports and merges."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import transaction
from django_tasks import task

from tandem.dedup.services import find_candidates_for, scan_all

# More ids than this are checked in slices, so one task never holds a huge pool.
_SLICE = 500
# Past this many people (a big import), one whole-database scan is cheaper than lookups.
DEFAULT_SCAN_INSTEAD_ABOVE = 5000


@task()
def find_duplicates(person_ids: list[int], found_by: str) -> int:
    """Find and store candidates for these people; returns how many pairs were new.

    Safe to run twice: candidates are upserted by pair.
    """
    created = 0
    ids = [int(i) for i in person_ids]
    for start in range(0, len(ids), _SLICE):
        created += find_candidates_for(ids[start : start + _SLICE], found_by).created
    return created


@task()
def scan_duplicates() -> dict[str, int]:
    """The whole-database scan, for after a big import; returns its counts."""
    result = scan_all()
    return {"people": result.people, "found": result.found, "created": result.store.created}


def scan_threshold() -> int:
    """Past this many people, one whole-database scan is enqueued instead of lookups: a
    caller with more may pass just this many plus one."""
    return int(getattr(settings, "TANDEM_DUPLICATE_SCAN_ABOVE", DEFAULT_SCAN_INSTEAD_ABOVE))


def enqueue_find_duplicates(person_ids: list[int], found_by: str) -> None:
    """Check these people for duplicates once the current transaction commits.

    Call it inside the transaction that wrote them: a rollback enqueues nothing.
    More than TANDEM_DUPLICATE_SCAN_ABOVE (default 5,000) people enqueue one
    whole-database scan instead.
    """
    ids = sorted({int(i) for i in person_ids})
    if len(ids) > scan_threshold():
        transaction.on_commit(scan_duplicates.enqueue)
    elif ids:
        transaction.on_commit(
            partial(find_duplicates.enqueue, person_ids=ids, found_by=found_by[:20])
        )

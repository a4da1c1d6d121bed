"""Background duplicate checks, enqueued on commit by capture, imports and merges."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django_tasks import task

from tandem.dedup.services import find_candidates_for

# More ids than this are checked in slices, so one task never holds a huge pool.
_SLICE = 500


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


def enqueue_find_duplicates(person_ids: list[int], found_by: str) -> None:
    """Check these people for duplicates once the current transaction commits.

    Call it inside the transaction that wrote them: a rollback enqueues nothing.
    """
    ids = sorted({int(i) for i in person_ids})
    if ids:
        transaction.on_commit(
            partial(find_duplicates.enqueue, person_ids=ids, found_by=found_by[:20])
        )

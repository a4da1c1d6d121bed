"""Routing's background work: telling owners about their new hand-offs."""

from __future__ import annotations

from django_tasks import task

from tandem.routing import engine


@task()
def tell_owners(handoff_ids: list[int]) -> int:
    """Notify the owners of these hand-offs and add the booth and store leads' call tasks;
    safe to repeat (notifications and tasks are keyed by hand-off)."""
    return engine.tell_owners([int(i) for i in handoff_ids])

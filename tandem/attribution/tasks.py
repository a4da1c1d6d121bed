"""Background refresh of the stored credit, so reports usually find it warm."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connections
from django_tasks import task

from tandem.attribution import store

log = logging.getLogger(__name__)


@task()
def refresh_credit() -> int:
    """Bring every deal's stored credit up to date; the number of deals worked out."""
    return store.refresh()


def refresh_loop(stop: threading.Event, *, poll_seconds: float = 60.0) -> None:
    """The worker's attribution beat (registered with core.worker_start): what changed
    since the last beat is worked out before a report asks for it."""
    while not stop.is_set():
        try:
            store.refresh()
        except Exception:
            log.exception("attribution refresh failed; the next beat or report retries")
        finally:
            close_old_connections()
        stop.wait(poll_seconds)
    connections.close_all()  # this thread's own connections: none left open when it ends

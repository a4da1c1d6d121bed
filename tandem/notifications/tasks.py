"""Background work for notifications: the emails, and the worker's sweep that retries them."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections
from django_tasks import task

from tandem.notifications import emails

log = logging.getLogger(__name__)


@task()
def send_notification_emails(notification_ids: list[int]) -> dict[str, int]:
    """Email these new notifications, then any older ones still waiting (a retry due, or an
    email whose task was lost): safe to repeat, each email is claimed once."""
    counts = emails.send_notification_emails([int(i) for i in notification_ids])
    for outcome, n in emails.sweep().items():
        counts[outcome] = counts.get(outcome, 0) + n
    return counts


def email_loop(stop: threading.Event, *, poll_seconds: float = 60.0) -> None:
    """The worker's notification beat (registered with core.worker_start): every minute,
    send the emails that are due."""
    while not stop.is_set():
        try:
            emails.sweep()
        except Exception:
            log.exception("the notification email sweep failed")
        finally:
            close_old_connections()
        stop.wait(poll_seconds)

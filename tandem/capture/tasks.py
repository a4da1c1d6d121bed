"""Background work for capture: sending email outside the request (issue 4, point 8)."""

from __future__ import annotations

from django_tasks import task

from tandem.capture.email import deliver, deliver_many


@task()
def send_email(outbound_id: int) -> str:
    """Send one queued OutboundEmail; returns its status. Safe to run twice."""
    return deliver(outbound_id)


@task()
def send_emails(outbound_ids: list[int]) -> dict[str, int]:
    """Send several queued OutboundEmails (see email.sent_together); counts by status."""
    return deliver_many(outbound_ids)


@task()
def drain_capture_inbox() -> dict[str, int]:
    """Capture the web-form submissions waiting in the inbox (see capture/inbox.py).

    A backlog longer than one run continues in a follow-up task.
    """
    from tandem.capture.inbox import drain, drain_loop_running

    if drain_loop_running():
        return {"captured": 0, "failed": 0, "waiting": 0, "left_to_the_drain_loop": 1}
    result = drain()
    if result.waiting:
        drain_capture_inbox.enqueue()
    return result.as_dict()

"""Each notification emailed to its user once: claimed, sent, recorded, retried.

Exactly once with several workers: a worker sends only the rows it claimed with a
conditional UPDATE (`emailed_at` still empty and the email still pending), so two
workers given the same ids send each email once. Whether an email goes is decided at
send time: a user with no address, deactivated, or who turned that kind off gets none
(`skipped`). A failed send is logged, its attempt and error recorded, and it goes back
to `pending` with a retry time; the worker's loop (and every later send task) sweeps
pending emails older than a minute, so none is lost. After MAX_ATTEMPTS it is `failed`.

A worker killed between claiming and recording leaves a row `sending`; after
STALE_CLAIM it is put back to `pending` (its SMTP timeout is far shorter, so that
worker is gone), at the price of a possible second copy of that one email.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from tandem.notifications.models import (
    EmailPreference,
    EmailStatus,
    Notification,
    NotificationKind,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
RETRY_AFTER = dt.timedelta(minutes=1)  # a pending email this old is swept by the loop
STALE_CLAIM = dt.timedelta(minutes=15)
SMTP_TIMEOUT_SECONDS = 60
SWEEP_BATCH = 200


def retry_delay(attempts: int) -> dt.timedelta:
    """2, 4, 8 ... minutes after the attempt, at most an hour."""
    return dt.timedelta(minutes=min(2**attempts, 60))


def _one_line(text: str, limit: int) -> str:
    """Header-safe: no line breaks (header injection), trimmed to `limit`."""
    return " ".join(str(text or "").split())[:limit]


def _link(path: str) -> str:
    return str(settings.TANDEM_BASE_URL).rstrip("/") + path


def _message(row: Notification, connection: Any) -> EmailMessage:
    context = {
        "notification": row,
        "kind": NotificationKind(row.kind).label,
        "open_url": _link(f"/notifications/{row.pk}/"),
        "settings_url": _link("/notifications/settings/"),
    }
    return EmailMessage(
        subject=_one_line(f"[Tandem] {row.title}", 250),
        body=render_to_string("notifications/email/notification.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[_one_line(row.user.email, 254)],
        headers={"Auto-Submitted": "auto-generated"},
        connection=connection,
    )


def _skip_reason(row: Notification, muted: dict[int, set[str]]) -> str:
    user = row.user
    if not user.is_active:
        return "The user is deactivated."
    if not (user.email or "").strip():
        return "The user has no email address."
    if row.kind in muted.get(user.pk, set()):
        return "The user turned these emails off."
    return ""


def claim(ids: list[int], now: dt.datetime) -> list[int]:
    """The ids among `ids` this caller now owns. One conditional UPDATE for the batch (only
    rows whose `emailed_at` is still empty), marked with this claim's token; then the rows
    bearing it are read back. Of two workers racing for a row, the second's UPDATE finds
    `emailed_at` set (PostgreSQL re-checks the condition after the first commits; SQLite
    runs one writer at a time) and leaves it."""
    if not ids:
        return []
    token = uuid.uuid4().hex
    Notification.objects.filter(
        Q(email_retry_at__isnull=True) | Q(email_retry_at__lte=now),
        pk__in=ids,
        emailed_at__isnull=True,
        email_status=EmailStatus.PENDING,
    ).update(emailed_at=now, email_status=EmailStatus.SENDING, email_claim=token)
    return sorted(
        Notification.objects.filter(pk__in=ids, email_claim=token).values_list("pk", flat=True)
    )


def send_notification_emails(ids: list[int], *, now: dt.datetime | None = None) -> dict[str, int]:
    """Email these notifications (those still pending and due); counts by outcome."""
    now = now or timezone.now()
    ids = sorted({int(i) for i in ids})
    counts: dict[str, int] = {}
    for start in range(0, len(ids), SWEEP_BATCH):
        for outcome, n in _send_batch(ids[start : start + SWEEP_BATCH], now).items():
            counts[outcome] = counts.get(outcome, 0) + n
    return counts


def _send_batch(ids: list[int], now: dt.datetime) -> dict[str, int]:
    won = claim(ids, now)
    counts: dict[str, int] = {}
    if not won:
        return counts
    rows = list(Notification.objects.select_related("user").filter(pk__in=won).order_by("pk"))
    muted = {
        p.user_id: set(p.muted_kinds or [])
        for p in EmailPreference.objects.filter(user_id__in={r.user_id for r in rows})
    }
    to_send = []
    for row in rows:
        reason = _skip_reason(row, muted)
        if reason:
            Notification.objects.filter(pk=row.pk, email_status=EmailStatus.SENDING).update(
                email_status=EmailStatus.SKIPPED, emailed_at=None, email_error=reason
            )
            counts["skipped"] = counts.get("skipped", 0) + 1
        else:
            to_send.append(row)
    if not to_send:
        return counts
    # Counted before the send, so a crash during it still counts.
    Notification.objects.filter(pk__in=[r.pk for r in to_send]).update(
        email_attempts=F("email_attempts") + 1
    )
    connection = get_connection(fail_silently=False, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        for row in to_send:
            row.email_attempts += 1
            try:
                _message(row, connection).send()
            except Exception as exc:  # SMTP, DNS, socket, template: recorded on the row
                outcome = _failed(row, exc)
            else:
                Notification.objects.filter(pk=row.pk).update(
                    email_status=EmailStatus.SENT, emailed_at=timezone.now(), email_error=""
                )
                outcome = "sent"
            counts[outcome] = counts.get(outcome, 0) + 1
    finally:
        try:
            connection.close()
        except Exception:  # a connection that never opened, or a server already gone
            log.debug("closing the SMTP connection failed", exc_info=True)
    return counts


def _failed(row: Notification, exc: Exception) -> str:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    gave_up = row.email_attempts >= MAX_ATTEMPTS
    log.warning(
        "notification email %s to user %s failed (attempt %s%s): %s",
        row.pk,
        row.user_id,
        row.email_attempts,
        ", giving up" if gave_up else "",
        error,
    )
    if gave_up:
        Notification.objects.filter(pk=row.pk).update(
            email_status=EmailStatus.FAILED, email_error=error
        )
        return "failed"
    Notification.objects.filter(pk=row.pk).update(
        email_status=EmailStatus.PENDING,
        emailed_at=None,
        email_error=error,
        email_retry_at=timezone.now() + retry_delay(row.email_attempts),
    )
    return "retry"


def due_ids(now: dt.datetime, limit: int = SWEEP_BATCH) -> list[int]:
    """Pending emails older than a minute whose retry time has come (the sweep's work);
    first puts back the claims of workers that died while sending."""
    Notification.objects.filter(
        email_status=EmailStatus.SENDING, emailed_at__lte=now - STALE_CLAIM
    ).update(email_status=EmailStatus.PENDING, emailed_at=None)
    return list(
        Notification.objects.filter(
            Q(email_retry_at__isnull=True) | Q(email_retry_at__lte=now),
            email_status=EmailStatus.PENDING,
            created_at__lte=now - RETRY_AFTER,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


def sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Send what is due: new emails whose task never ran, and failed ones to retry."""
    now = now or timezone.now()
    ids = due_ids(now)
    return send_notification_emails(ids, now=now) if ids else {}

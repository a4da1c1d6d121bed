"""One piece of news for one user: shown under the bell, and sent by email once."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class NotificationKind(models.TextChoices):
    HANDOFF = "handoff", "New lead handed to you"
    SLA_REMINDER = "sla_reminder", "SLA reminder"
    SLA_BREACH = "sla_breach", "SLA breached"
    SEND_BACK = "send_back", "Lead sent back"
    TASK = "task", "Task"


class EmailStatus(models.TextChoices):
    """Where a notification's email is: waiting (or waiting to retry), being sent by one
    worker, sent, not sent on purpose (no address, turned off), or given up on."""

    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    # No index of its own: the inbox index and the unique (user, key) both lead with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="A path inside Tandem.")
    # What the news is about, unique per user: notifying twice with the same key is a no-op
    # (a breach is announced exactly once, whichever worker sees it first).
    key = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    # The email: `emailed_at` is set by the one worker that claims the email (a conditional
    # UPDATE where it is still empty) and kept once it is sent; a failed send clears it
    # again for a later retry (notifications/emails.py).
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    # Which sender's claim set `emailed_at` (a random token per claim), so one UPDATE claims
    # a whole batch and the claimer then reads back the rows that are its own.
    email_claim = models.CharField(max_length=32, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_retry_at = models.DateTimeField(null=True, blank=True)
    email_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")
        ]
        indexes = [
            # The list under the bell, newest first.
            models.Index(fields=["user", "-created_at", "-id"], name="notification_inbox_idx"),
            # The unread count and the unread list: only the unread rows.
            models.Index(
                fields=["user", "-created_at", "-id"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # The retry sweep: only emails not settled yet.
            models.Index(
                fields=["created_at"],
                condition=models.Q(email_status__in=["pending", "sending"]),
                name="notification_email_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"


class EmailPreference(models.Model):
    """Which kinds of news a user does not want by email (the bell still shows them).

    No row: every kind is emailed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_email_preference",
    )
    muted_kinds = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Email preferences of {self.user_id}"

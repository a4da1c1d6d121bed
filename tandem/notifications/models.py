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


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
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
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="notification_once_per_key")
        ]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox_idx")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"

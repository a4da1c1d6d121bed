"""Cross-cutting tables: the audit trail and rate-limit counters."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One create, change or delete: who, when, and which fields went from what to what.

    `changes` maps a field name to `[old, new]`. Written by `record_audit` in
    the same transaction as the change it describes.
    """

    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    event = models.CharField(max_length=40)
    target_type = models.CharField(max_length=60)
    target_id = models.BigIntegerField()
    target_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "-at"], name="audit_target_idx")
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.event} {self.target_type}#{self.target_id}"


class RateCounter(models.Model):
    """Hits per key in a fixed window, shared by every web process (no cache server needed)."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="ratecounter_key_window")
        ]

"""Hand-offs: a lead given to a salesperson (or a team's queue) with the rule that chose
them, its SLA clock, and how the salesperson answered (accepted, or sent back with a reason)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class HandoffStatus(models.TextChoices):
    OPEN = "open", "Waiting for the owner"
    ACCEPTED = "accepted", "Accepted"
    SENT_BACK = "sent_back", "Sent back"
    REASSIGNED = "reassigned", "Reassigned"


class Handoff(models.Model):
    """One routing of one person. A person has at most one current hand-off
    (`is_current`); earlier ones stay as history."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="handoffs")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handoffs",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_current = models.BooleanField(default=True)
    # Why the person became an MQL, in words ("Score 72 reached the MQL threshold 60").
    reason = models.CharField(max_length=300, blank=True)
    # The routing rule that matched (its id and its name at the time), or the fallback.
    rule_id = models.BigIntegerField(null=True, blank=True)
    routed_by = models.CharField(max_length=200)
    routed_at = models.DateTimeField()
    # The SLA clock (tandem.sla.services.Clock) started at routing.
    sla_policy_id = models.BigIntegerField(null=True, blank=True)
    sla_name = models.CharField(max_length=100, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    reassign_on_breach = models.BooleanField(default=False)
    first_contact_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    # The owner's answer.
    status = models.CharField(
        max_length=12, choices=HandoffStatus.choices, default=HandoffStatus.OPEN
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    send_back_reason = models.CharField(max_length=50, blank=True)
    send_back_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-routed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(is_current=True), name="handoff_one_current"
            )
        ]
        indexes = [
            # "My leads": an owner's open hand-offs by due time.
            models.Index(
                fields=["owner", "due_at", "id"],
                name="handoff_inbox_idx",
                condition=Q(is_current=True, status="open"),
            ),
            # Untouched leads: routed, no human contact yet, oldest due first.
            models.Index(
                fields=["due_at", "id"],
                name="handoff_untouched_idx",
                condition=Q(is_current=True, first_contact_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.owner_id or self.team_id}"


# --- send-back reasons (issue 20, point 7) ------------------------------------------


class SendBackReason(models.Model):
    """One entry of the admin-edited list a salesperson picks from when sending a lead back.

    The key is what the API takes and the report groups by; a reason in use is
    deactivated, never deleted, so past send-backs keep their meaning.
    """

    key = models.SlugField(max_length=50, unique=True)
    label = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label

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


# --- Routing rules, capacity and out-of-office (issue 20, points 1 and 2) ------------------
# Kept apart from Handoff above: another module of this app owns the hand-off's answer.


class RuleKind(models.TextChoices):
    NAMED_ACCOUNTS = "named_accounts", "Named accounts (the company's owner)"
    TERRITORY = "territory", "Territory (country, region, postcode)"
    SEGMENT = "segment", "Segment (industry, size, custom field)"
    ROUND_ROBIN = "round_robin", "Round-robin within a team"
    FALLBACK = "fallback", "Fallback queue"


class RoutingRule(models.Model):
    """One step of routing: the first active rule (by position) that matches a lead and
    finds someone available assigns it.

    What a rule matches depends on its kind (territory: `countries`, `regions`,
    `postcode_ranges`; segment: `industries`, `company_sizes`, `custom_field` with
    `custom_values`; an empty list matches anything). Whom it assigns: `user`, else
    the members of `team` in turn (round-robin, skipping the out-of-office and those
    at capacity). Named accounts give the lead to its company's owner; a fallback
    with a team and no user leaves the lead in the team's queue (no owner yet).
    """

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    countries = models.JSONField(default=list, blank=True)
    regions = models.JSONField(default=list, blank=True)
    postcode_ranges = models.JSONField(default=list, blank=True)  # [["10000", "19999"], ...]
    industries = models.JSONField(default=list, blank=True)
    company_sizes = models.JSONField(default=list, blank=True)
    custom_field = models.CharField(max_length=100, blank=True)
    custom_values = models.JSONField(default=list, blank=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Round-robin: the member who got the last lead from this rule (the next one goes on).
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class SalesCapacity(models.Model):
    """How many open hand-offs a salesperson takes before round-robin passes them over."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sales_capacity"
    )
    max_open_handoffs = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.max_open_handoffs}"


class OutOfOffice(models.Model):
    """A salesperson away from `starts_on` to `ends_on` (both included): no new leads."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="out_of_office"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_on", "id"]
        indexes = [models.Index(fields=["ends_on", "starts_on"], name="ooo_dates_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.starts_on} – {self.ends_on}"


class RoutingSettings(models.Model):
    """Routing's one row of settings, edited on the routing page."""

    # The admin-approved predictive model moves a lead to MQL at this likelihood (0-1);
    # empty: the model does not trigger MQL (the rule score still does).
    model_mql_likelihood = models.FloatField(null=True, blank=True)

    @classmethod
    def current(cls) -> RoutingSettings:
        found = cls.objects.filter(pk=1).first()
        return found if found is not None else cls(pk=1)

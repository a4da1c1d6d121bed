"""Pipelines with their stages, deals with their contacts, stage history and close reasons.

Money is `Decimal` with two places. A deal has its own currency and the rate to the
base currency (`TANDEM_BASE_CURRENCY`) it was agreed at; `amount_base` is the amount in
the base currency, kept on the row so reports sum one column in SQL.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Pipeline(models.Model):
    """A sales process: its stages in order. One pipeline is the default for new deals."""

    name = models.CharField(max_length=100, unique=True)
    is_default = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="pipeline_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PipelineStage(models.Model):
    """An open stage of a pipeline, with the chance that a deal in it is won (0-100 %).

    Won and lost are a deal's status, not stages: a closed deal keeps the stage it was
    closed from, so "lost in negotiation" can be reported.
    """

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_per_pipeline"),
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=100),
                name="stage_probability_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.name}: {self.name}"


class DealStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class CloseReason(models.Model):
    """An entry of the editable won or lost reason lists."""

    kind = models.CharField(
        max_length=4, choices=[(DealStatus.WON, "Won"), (DealStatus.LOST, "Lost")]
    )
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="close_reason_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ContactRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", "Decision maker"
    ECONOMIC_BUYER = "economic_buyer", "Economic buyer"
    CHAMPION = "champion", "Champion"
    INFLUENCER = "influencer", "Influencer"
    TECHNICAL_BUYER = "technical_buyer", "Technical buyer"
    USER = "user", "User"
    BLOCKER = "blocker", "Blocker"
    OTHER = "other", "Other"


class Deal(models.Model):
    name = models.CharField(max_length=200)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(PipelineStage, on_delete=models.PROTECT, related_name="deals")
    status = models.CharField(max_length=4, choices=DealStatus.choices, default=DealStatus.OPEN)
    company = models.ForeignKey(
        "people.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="EUR")
    # Base-currency units per one unit of `currency` (1 when it is the base currency).
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, default=Decimal("1"))
    amount_base = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"))
    expected_close_on = models.DateField(null=True, blank=True)
    close_reason = models.ForeignKey(
        CloseReason, null=True, blank=True, on_delete=models.PROTECT, related_name="deals"
    )
    close_note = models.TextField(blank=True)
    competitor = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The board: a pipeline's open deals by stage.
            models.Index(fields=["pipeline", "status", "stage"], name="deal_board_idx"),
            # Revenue reports: deals won (or lost) in a period.
            models.Index(fields=["status", "closed_at"], name="deal_closed_idx"),
            models.Index(fields=["owner", "status"], name="deal_owner_idx"),
            models.Index(fields=["created_at", "id"], name="deal_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="deal_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(exchange_rate__gt=0), name="deal_rate_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DealContact(models.Model):
    """A person on a deal, with their role in the buying decision."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="contacts")
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="deal_contacts"
    )
    role = models.CharField(max_length=20, choices=ContactRole.choices, default=ContactRole.OTHER)
    is_primary = models.BooleanField(default=False)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "person"], name="deal_contact_unique"),
        ]
        indexes = [models.Index(fields=["person", "deal"], name="deal_contact_person_idx")]


class DealStageChange(models.Model):
    """One move of a deal: between stages, or to won or lost (or reopened)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        PipelineStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_stage = models.ForeignKey(
        PipelineStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=4, choices=DealStatus.choices, blank=True)
    to_status = models.CharField(max_length=4, choices=DealStatus.choices)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["deal", "changed_at"], name="deal_change_idx")]

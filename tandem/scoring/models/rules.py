"""Rule sets, their fit and engagement rules, the stored scores and human overrides.

Scores advise, people decide (PRODUCT.md principle 4): every stored score keeps
the rules that made it (`explanation`), and a person may override it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class RuleSetStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class RuleSet(models.Model):
    """One version of the scoring rules. Exactly one is active and scores everyone;
    drafts are edited, then activated (an audited action that rescores everyone);
    the set it replaces is retired, kept for history and for copying."""

    version = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=RuleSetStatus.choices, default=RuleSetStatus.DRAFT
    )
    mql_threshold = models.PositiveIntegerField(
        default=50, help_text="A combined score at or above this marks a marketing-qualified lead."
    )
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # New at each activation: processes keep the active set's plan and compiled statements
    # under it (scoring.engine.active_plan), so one cheap query tells them it is the same.
    activation_key = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="active"), name="ruleset_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name}".strip()


class RuleKind(models.TextChoices):
    FIT = "fit", "Fit"
    ENGAGEMENT = "engagement", "Engagement"


class Operator(models.TextChoices):
    EQUALS = "equals", "is"
    CONTAINS = "contains", "contains"
    IN = "in", "is one of"
    BETWEEN = "between", "is between"
    IS_SET = "is_set", "is filled in"
    IS_FREE_MAIL = "is_free_mail", "is a free-mail address"


class EngagementSource(models.TextChoices):
    TOUCHPOINT = "touchpoint", "Touchpoint"
    ACTIVITY = "activity", "Activity"


class Rule(models.Model):
    """One rule: a fit condition on the person, or engagement events that earn points.

    Fit: `field` (see scoring.conditions.FIT_FIELDS, or custom.<key> and
    company.custom.<key>), `operator`, `value` (text, a list for "in", [low, high]
    for "between"). Engagement: the events of `source` that match every filter
    given; each earns `points`, halved every `half_life_days` (none: no decay);
    the rule's total is capped at `max_points` when given. Points may be negative.
    """

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=12, choices=RuleKind.choices)
    label = models.CharField(max_length=200, blank=True, help_text="Words; blank: described.")
    points = models.IntegerField()
    position = models.PositiveIntegerField(default=0)
    # fit
    field = models.CharField(max_length=80, blank=True)
    operator = models.CharField(max_length=15, choices=Operator.choices, blank=True)
    value = models.JSONField(default=str, blank=True)
    # engagement
    source = models.CharField(max_length=12, choices=EngagementSource.choices, blank=True)
    touchpoint_kind = models.CharField(max_length=20, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    form_id = models.BigIntegerField(null=True, blank=True, help_text="A capture web form's id.")
    page_contains = models.CharField(max_length=200, blank=True)
    activity_kind = models.CharField(max_length=10, blank=True)
    half_life_days = models.PositiveIntegerField(null=True, blank=True)
    max_points = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule_set", "kind", "position", "id"]

    def __str__(self) -> str:
        return self.label or f"{self.kind} rule #{self.pk}"


class PersonScore(models.Model):
    """A person's current scores and the reasons, written set-based by scoring.engine.

    `score` is what lists sort by and the MQL decision reads: fit + engagement,
    or the override's score while one is in force.
    """

    person = models.OneToOneField(
        "people.Person", primary_key=True, on_delete=models.CASCADE, related_name="score_row"
    )
    fit_score = models.IntegerField(default=0, db_index=True)
    engagement_score = models.IntegerField(default=0, db_index=True)
    score = models.IntegerField(default=0)  # indexed by personscore_rank_idx
    grade = models.CharField(max_length=2, blank=True, help_text="Set by an override.")
    is_not_a_lead = models.BooleanField(default=False, help_text="Set by an override.")
    # [{"rule", "points", "detail"}, ...] in the order shown (override first).
    explanation = models.JSONField(default=list, blank=True)
    rule_set_version = models.PositiveIntegerField(null=True, blank=True)
    override_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    scored_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["-score", "person"], name="personscore_rank_idx")]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.score}"


class OverrideKind(models.TextChoices):
    SCORE = "score", "Score"
    GRADE = "grade", "Grade"
    NOT_A_LEAD = "not_a_lead", "Not a lead"


GRADES = ("A", "B", "C", "D")


class ScoreOverride(models.Model):
    """A person's judgement over the rules: a score, a grade or "not a lead", with why.

    Kept as history: a new override ends the one in force; an expired one lapses
    by itself (read-time check, and scoring.engine.lapse_overrides rewrites the
    stored score).
    """

    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="score_overrides", db_index=False
    )
    kind = models.CharField(max_length=12, choices=OverrideKind.choices)
    score = models.IntegerField(null=True, blank=True)
    grade = models.CharField(max_length=2, blank=True)
    reason = models.TextField()
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by_label = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["person", "-created_at"], name="scoreoverride_person_idx")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.person_id}"

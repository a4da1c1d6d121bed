"""Duplicate candidates and merges (with what unmerge needs)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class CandidateStatus(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    DISMISSED = "dismissed", "Not duplicates"


class DuplicateCandidate(models.Model):
    """Two people who may be one human; `person_a` has the lower id."""

    person_a = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    found_by = models.CharField(max_length=20)  # capture, import, scan
    status = models.CharField(
        max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person_a", "person_b"], name="duplicatecandidate_pair"
            ),
            models.CheckConstraint(
                condition=Q(person_a__lt=F("person_b")), name="duplicatecandidate_ordered"
            ),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="duplicatecandidate_queue_idx")]

    def __str__(self) -> str:
        return f"#{self.person_a_id} ~ #{self.person_b_id} ({self.score:.2f})"


class Merge(models.Model):
    """One merge: the survivor, the merged person (kept soft-deleted) and what moved, for unmerge."""

    survivor = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    before = models.JSONField(help_text="Both people's fields before the merge.")
    moved = models.JSONField(
        help_text="Ids of emails, phones, touchpoints, activities... moved to the survivor."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"#{self.merged_id} → #{self.survivor_id}"


class MatchWeights(models.Model):
    """The name-and-address weights the last whole-database scan learned (ADR 0006).

    The capture and import checks score with the newest row; without one, the defaults.
    """

    learned_at = models.DateTimeField(auto_now_add=True)
    people = models.PositiveIntegerField()
    weights = models.JSONField(help_text="m and u per field and level, prior, name frequencies.")

    class Meta:
        ordering = ["-learned_at", "-id"]

    def __str__(self) -> str:
        return f"weights of {self.learned_at:%Y-%m-%d %H:%M} ({self.people} people)"

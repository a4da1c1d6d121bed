"""Predictive scoring: trained model versions and each person's predicted likelihood.

A version keeps its fitted scikit-learn pipeline as joblib bytes in the database
(ADR 0012): backups carry it, every web process and worker reads the same one,
and nothing depends on a file next to one server.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class ModelMethod(models.TextChoices):
    LOGISTIC = "logistic_regression", "Regularised logistic regression"
    BOOSTING = "gradient_boosting", "Gradient boosting"


class ModelVersion(models.Model):
    """One trained model: its figures measured on rows it did not see, and its bytes.

    Training never activates a version: an admin does (`is_active`), and only the
    active version may feed the MQL decision.
    """

    number = models.PositiveIntegerField(unique=True)
    trained_at = models.DateTimeField()
    trained_by = models.CharField(max_length=150)
    method = models.CharField(max_length=30, choices=ModelMethod.choices)
    auc = models.FloatField(help_text="ROC AUC on rows the model did not see.")
    top_decile_lift = models.FloatField()
    positives = models.PositiveIntegerField()
    negatives = models.PositiveIntegerField()
    features = models.JSONField(default=list, help_text="Feature names, as the model sees them.")
    # What `evaluate` prints: both families' AUCs, the split, calibration tables, the
    # rules' figures on the same rows, features left out as likely leaks.
    evaluation = models.JSONField(default=dict)
    spec = models.JSONField(default=dict, help_text="How to build the features (vocabularies).")
    model_bytes = models.BinaryField()
    sklearn_version = models.CharField(max_length=20)
    is_active = models.BooleanField(default=False)
    activated_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="modelversion_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"Model v{self.number} ({self.get_method_display()})"


class PersonPrediction(models.Model):
    """A person's likelihood of reaching opportunity, by one version, with its reasons."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="predictions")
    # Not indexed alone: prediction_person_idx leads with it.
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    likelihood = models.FloatField()
    # [{"feature": label, "effect": signed likelihood or log-odds change, "detail": words}]
    factors = models.JSONField(default=list)
    scored_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="prediction_person_version")
        ]
        indexes = [models.Index(fields=["version", "-likelihood"], name="prediction_rank_idx")]

    def __str__(self) -> str:
        return f"{self.likelihood:.0%} (v{self.version_id})"

"""The predictive model over the API: versions and their figures, a person's likelihood."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class FiguresOut(Schema):
    auc: float = Field(description="ROC AUC on held-out rows (0.5: no better than chance).")
    top_decile_lift: float = Field(
        description="Outcome rate in the top-scored tenth over the overall rate."
    )


class CalibrationRowOut(Schema):
    decile: int = Field(description="1 is the lowest-scored tenth of the held-out people.")
    people: int
    mean_predicted: float = Field(description="The model's mean likelihood in the decile.")
    observed_rate: float = Field(description="How many of them reached opportunity or later.")
    rules_low: float | None = Field(description="Lowest rule score in the rules' decile.")
    rules_high: float | None
    rules_observed_rate: float | None


class ModelVersionOut(Schema):
    number: int
    method: str = Field(description="logistic_regression or gradient_boosting.")
    trained_at: dt.datetime
    trained_by: str
    is_active: bool = Field(description="Only the active version feeds the MQL decision.")
    activated_at: dt.datetime | None
    positives: int
    negatives: int
    model: FiguresOut
    rules: FiguresOut = Field(description="The rule set's score on the same held-out people.")
    family_auc: dict[str, float] = Field(description="Held-out AUC of each family fitted.")
    split: str = Field(description="time or kfold: how the held-out rows were chosen.")
    held_out: int = Field(description="How many people the figures were measured on.")


class ModelVersionDetailOut(ModelVersionOut):
    features: list[str] = Field(description="Every feature the model reads.")
    left_out_as_leaks: list[str] = Field(
        description="Features that alone predicted the outcome almost perfectly, left out."
    )
    calibration: list[CalibrationRowOut]


class ModelVersionList(Schema):
    items: list[ModelVersionOut]


class FactorOut(Schema):
    feature: str = Field(description="The feature and the person's value, in words.")
    effect: float = Field(description="Signed: positive raises the likelihood.")
    unit: str = Field(description="log-odds (logistic regression) or likelihood (boosting).")


class PredictionOut(Schema):
    person_id: int
    likelihood: float = Field(description="Predicted chance of reaching opportunity (0-1).")
    version: int
    is_active: bool = Field(description="False: advisory, the version is not switched in.")
    scored_at: dt.datetime
    factors: list[FactorOut]

"""Scoring forms: shape checks only; the rules live in scoring/services."""

from __future__ import annotations

from typing import Any

from django import forms

from tandem.accounts.forms import TandemForm
from tandem.campaigns.models import Campaign, TouchpointKind
from tandem.people.models import ActivityKind
from tandem.scoring.conditions import fit_field_choices
from tandem.scoring.models import EngagementSource, Operator, OverrideKind, RuleKind


class RuleSetForm(TandemForm):
    name = forms.CharField(label="Name", max_length=200, required=False)
    mql_threshold = forms.IntegerField(
        label="MQL threshold",
        min_value=0,
        help_text="A combined score at or above this makes a marketing-qualified lead.",
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RuleForm(TandemForm):
    kind = forms.ChoiceField(label="Kind", choices=RuleKind.choices)
    points = forms.IntegerField(
        label="Points", min_value=-1000, max_value=1000, help_text="Negative to take points off."
    )
    label = forms.CharField(
        label="Words", max_length=200, required=False, help_text="Blank: described from the rule."
    )
    field = forms.ChoiceField(label="Fit: field", required=False)
    operator = forms.ChoiceField(
        label="Fit: test", required=False, choices=[("", "—"), *Operator.choices]
    )
    value = forms.CharField(
        label="Fit: value",
        max_length=500,
        required=False,
        help_text="Text; for “is one of” a comma-separated list; for “between” low, high.",
    )
    source = forms.ChoiceField(
        label="Engagement: counts", required=False, choices=EngagementSource.choices
    )
    touchpoint_kind = forms.ChoiceField(
        label="Touchpoint kind", required=False, choices=[("", "Any"), *TouchpointKind.choices]
    )
    campaign = forms.ModelChoiceField(
        label="Campaign", required=False, queryset=Campaign.objects.order_by("name")
    )
    form_id = forms.IntegerField(label="Web form id", required=False, min_value=1)
    page_contains = forms.CharField(label="Page URL contains", max_length=200, required=False)
    activity_kind = forms.ChoiceField(
        label="Activity kind", required=False, choices=[("", "Any"), *ActivityKind.choices]
    )
    half_life_days = forms.IntegerField(
        label="Half-life (days)",
        required=False,
        min_value=1,
        help_text="Points halve every this many days. Blank: no decay.",
    )
    max_points = forms.IntegerField(
        label="At most (points)", required=False, help_text="Cap for this rule. Blank: no cap."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "—"), *fit_field_choices()]  # type: ignore[attr-defined]

    def rule_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        keep: tuple[str, ...]
        if data.get("kind") == RuleKind.FIT:
            keep = ("kind", "points", "label", "field", "operator", "value")
        else:
            keep = (
                "kind", "points", "label", "source", "touchpoint_kind", "campaign", "form_id",
                "page_contains", "activity_kind", "half_life_days", "max_points",
            )  # fmt: skip
        return {k: data.get(k) for k in keep}


class OverrideForm(TandemForm):
    kind = forms.ChoiceField(label="Override", choices=OverrideKind.choices)
    score = forms.IntegerField(label="Score", required=False, min_value=-1000, max_value=1000)
    grade = forms.ChoiceField(
        label="Grade",
        required=False,
        choices=[("", "—"), ("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")],
    )
    reason = forms.CharField(label="Why", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    expires_at = forms.DateTimeField(
        label="Until",
        required=False,
        help_text="Blank: until someone changes it.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

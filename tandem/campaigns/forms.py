"""The campaign form: shape checks only; the rules live in campaigns/services.py."""

from __future__ import annotations

from typing import Any

from django import forms

from tandem.accounts.forms import TandemForm
from tandem.campaigns.models import CampaignKind


class CampaignForm(TandemForm):
    name = forms.CharField(label="Name", max_length=200)
    key = forms.CharField(
        label="Key",
        max_length=100,
        required=False,
        help_text="What utm_campaign values map to, e.g. spring-guide-2026. Made from the name if left empty.",
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    kind = forms.ChoiceField(label="Kind", choices=CampaignKind.choices, initial=CampaignKind.OTHER)
    starts_on = forms.DateField(
        label="Starts on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label="Ends on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The campaign cannot end before it starts.")
        return data

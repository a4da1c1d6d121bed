"""The campaign and cost-line forms: shape checks only; the rules live in campaigns'
services (services.py, budgets.py, utm.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from tandem.accounts.forms import TandemForm
from tandem.campaigns.models import Campaign, CampaignKind

UTM_HELP = (
    "One mapping a line: utm_campaign, then optionally utm_source and utm_medium, "
    "separated by commas (e.g. “spring-promo” or “spring, linkedin” or "
    "“, facebook, paid” for a source and medium whatever the utm_campaign). "
    "The most specific mapping wins."
)


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
    parent = forms.ModelChoiceField(
        label="Part of",
        queryset=Campaign.objects.order_by("name", "id"),
        required=False,
        empty_label="— (top level)",
        help_text="The programme this campaign sits under.",
    )
    planned_budget = forms.DecimalField(
        label="Planned budget",
        required=False,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    starts_on = forms.DateField(
        label="Starts on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label="Ends on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    utm_mappings = forms.CharField(
        label="Also maps UTM tags",
        required=False,
        help_text=UTM_HELP,
        widget=forms.Textarea(attrs={"rows": 4, "autocapitalize": "none", "spellcheck": "false"}),
    )
    is_active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args: Any, currency: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if currency:
            self.fields["planned_budget"].label = f"Planned budget ({currency})"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The campaign cannot end before it starts.")
        return data

    def clean_utm_mappings(self) -> list[dict[str, str]]:
        out = []
        for line in (self.cleaned_data.get("utm_mappings") or "").splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(",")]
            if len(parts) > 3:
                raise forms.ValidationError(
                    f"“{line.strip()}”: give at most utm_campaign, utm_source, utm_medium."
                )
            parts += [""] * (3 - len(parts))
            out.append(dict(zip(("utm_campaign", "utm_source", "utm_medium"), parts, strict=True)))
        return out


def mappings_text(mappings: list[dict[str, Any]]) -> str:
    """The mappings as the form's lines (trailing blanks dropped)."""
    lines = []
    for m in mappings:
        parts = [m["utm_campaign"], m["utm_source"], m["utm_medium"]]
        while parts and not parts[-1]:
            parts.pop()
        lines.append(", ".join(parts))
    return "\n".join(lines)


class CostForm(TandemForm):
    spent_on = forms.DateField(label="Spent on", widget=forms.DateInput(attrs={"type": "date"}))
    amount = forms.DecimalField(
        label="Amount",
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    note = forms.CharField(label="Note", max_length=300, required=False)

    def __init__(self, *args: Any, currency: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if currency:
            self.fields["amount"].label = f"Amount ({currency})"

"""Routing forms: shape checks only; the rules live in services_rules."""

from __future__ import annotations

from typing import Any

from django import forms

from tandem.accounts.forms import TandemForm
from tandem.accounts.models import Team, User
from tandem.people.models import CompanySize, CustomField
from tandem.routing.models import RoutingRule, RuleKind

LIST_HELP = "Comma-separated."


class RuleForm(TandemForm):
    name = forms.CharField(label="Name", max_length=200)
    kind = forms.ChoiceField(label="Kind", choices=RuleKind.choices)
    is_active = forms.BooleanField(label="Active", required=False, initial=True)
    countries = forms.CharField(
        label="Territory: countries", required=False, help_text="ISO codes, e.g. DE, AT, CH."
    )
    regions = forms.CharField(label="Territory: regions", required=False, help_text=LIST_HELP)
    postcode_ranges = forms.CharField(
        label="Territory: postcode ranges",
        required=False,
        help_text="e.g. 10000-19999, 80000-89999 (a single code or prefix too).",
    )
    industries = forms.CharField(label="Segment: industries", required=False, help_text=LIST_HELP)
    company_sizes = forms.MultipleChoiceField(
        label="Segment: company sizes",
        required=False,
        choices=CompanySize.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    custom_field = forms.ChoiceField(label="Segment: custom field", required=False)
    custom_values = forms.CharField(
        label="Segment: custom field values", required=False, help_text=LIST_HELP
    )
    team = forms.ModelChoiceField(
        label="Team",
        required=False,
        queryset=Team.objects.order_by("name"),
        help_text="Its members take turns (a fallback: the team's queue).",
    )
    user = forms.ModelChoiceField(
        label="User",
        required=False,
        queryset=User.objects.filter(is_active=True).order_by("username"),
        help_text="Gets every lead the rule matches.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["custom_field"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "—"),
            *((f.key, f"{f.label} ({f.entity})") for f in CustomField.objects.order_by("label")),
        ]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        return data


def rule_initial(rule: RoutingRule | None) -> dict[str, Any]:
    if rule is None:
        return {"kind": RuleKind.TERRITORY, "is_active": True}
    return {
        "name": rule.name,
        "kind": rule.kind,
        "is_active": rule.is_active,
        "countries": ", ".join(rule.countries),
        "regions": ", ".join(rule.regions),
        "postcode_ranges": ", ".join(
            lo if lo == hi else f"{lo}-{hi}" for lo, hi in rule.postcode_ranges
        ),
        "industries": ", ".join(rule.industries),
        "company_sizes": rule.company_sizes,
        "custom_field": rule.custom_field,
        "custom_values": ", ".join(rule.custom_values),
        "team": rule.team_id,
        "user": rule.user_id,
    }


class OutOfOfficeForm(TandemForm):
    user = forms.ModelChoiceField(
        label="Who", queryset=User.objects.filter(is_active=True).order_by("username")
    )
    starts_on = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="To (included)", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="Note", max_length=200, required=False)


class ModelThresholdForm(TandemForm):
    model_mql_likelihood = forms.IntegerField(
        label="Predicted likelihood that makes an MQL (%)",
        required=False,
        min_value=1,
        max_value=100,
        help_text="Empty: the predictive model does not move leads to MQL.",
    )

"""The form builder's forms: settings, the field picker and consent rows.

They check the shape of the input; the rules (email always on the form,
required custom fields, key format, consent versions) live in
capture/webforms/definition.py, whose errors land next to the field they name.
"""

from __future__ import annotations

from typing import Any

from django import forms

from tandem.accounts.forms import TandemForm
from tandem.accounts.models import User
from tandem.campaigns.models import Campaign
from tandem.capture.webforms import FieldSpec


def slot(spec: FieldSpec) -> str:
    """The prefix of a catalogue field's inputs in the builder (custom:x → fld-custom-x)."""
    return "fld-" + spec.name.replace("custom:", "custom-")


class WebFormForm(TandemForm):
    name = forms.CharField(label="Name", max_length=200)
    key = forms.CharField(
        label="Key",
        max_length=100,
        required=False,
        help_text="Part of the public address /f/<key>. Lower-case letters, digits and dashes; "
        "made from the name if left empty.",
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    campaign = forms.ModelChoiceField(
        label="Campaign",
        queryset=Campaign.objects.order_by("name"),
        required=False,
        empty_label="No campaign",
        help_text="Every submission is a touchpoint of this campaign.",
    )
    source = forms.CharField(
        label="Source",
        max_length=100,
        required=False,
        help_text="The source new people get, e.g. “Website”. A posted lead_source wins.",
    )
    thank_you_message = forms.CharField(
        label="Thank-you message", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    redirect_url = forms.CharField(
        label="Or send the visitor to",
        max_length=2000,
        required=False,
        help_text="A full https:// address, e.g. the guide's download page.",
        widget=forms.URLInput,
    )
    sites = forms.CharField(
        label="Sites the form is on",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2, "autocapitalize": "none", "spellcheck": "false"}),
        help_text="One host per line, e.g. www.example.com (*.example.com for every subdomain). "
        "A page on these sites may send visitors back to itself with retURL; any other "
        "address gets the thank-you page.",
    )
    notify = forms.ModelMultipleChoiceField(
        label="Notify on each submission",
        queryset=User.objects.filter(is_active=True).exclude(email="").order_by("username"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    double_opt_in = forms.BooleanField(
        label="Double opt-in: marketing consent waits for the emailed confirmation link",
        required=False,
        initial=True,
    )
    is_active = forms.BooleanField(
        label="Open (accepting submissions)", required=False, initial=True
    )

    def __init__(
        self,
        *args: Any,
        catalogue: list[FieldSpec],
        current: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        by_name = {e["name"]: (i, e) for i, e in enumerate(current or [])}
        for spec in catalogue:
            position, entry = by_name.get(spec.name, (None, None))
            prefix = slot(spec)
            self.fields[f"{prefix}-on"] = forms.BooleanField(
                label=f"Ask for {spec.label}",
                required=False,
                initial=entry is not None,
            )
            self.fields[f"{prefix}-label"] = forms.CharField(
                label=f"Label for {spec.label}",
                required=False,
                max_length=200,
                initial=(entry or {}).get("label") or "",
                widget=forms.TextInput(attrs={"placeholder": spec.label}),
            )
            self.fields[f"{prefix}-required"] = forms.BooleanField(
                label=f"{spec.label} required",
                required=False,
                initial=bool((entry or {}).get("required")),
            )
            self.fields[f"{prefix}-order"] = forms.IntegerField(
                label=f"Position of {spec.label}",
                required=False,
                min_value=0,
                max_value=999,
                initial=(position + 1) if position is not None else None,
            )

    def field_rows(self) -> list[dict[str, Any]]:
        """The picker's rows for the template: one per catalogue field."""
        rows = []
        for spec in self.catalogue:
            prefix = slot(spec)
            rows.append(
                {
                    "spec": spec,
                    "on": self[f"{prefix}-on"],
                    "label": self[f"{prefix}-label"],
                    "required": self[f"{prefix}-required"],
                    "order": self[f"{prefix}-order"],
                }
            )
        return rows

    def chosen_fields(self) -> list[dict[str, Any]]:
        """The ticked fields in the order asked for (position, then catalogue order)."""
        data = self.cleaned_data
        chosen = []
        for index, spec in enumerate(self.catalogue):
            prefix = slot(spec)
            if not data.get(f"{prefix}-on"):
                continue
            order = data.get(f"{prefix}-order")
            chosen.append(
                (
                    order if order is not None else 1000 + index,
                    index,
                    {
                        "name": spec.name,
                        "label": (data.get(f"{prefix}-label") or "").strip(),
                        "required": bool(data.get(f"{prefix}-required")),
                    },
                )
            )
        return [entry for _, _, entry in sorted(chosen, key=lambda c: (c[0], c[1]))]

    def settings_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "name",
                "key",
                "campaign",
                "source",
                "thank_you_message",
                "redirect_url",
                "sites",
                "double_opt_in",
                "is_active",
            )
        } | {"notify": list(data["notify"])}


class ConsentRowForm(TandemForm):
    purpose = forms.CharField(
        label="Purpose key",
        max_length=60,
        required=False,
        help_text="e.g. newsletter. The same key on several forms is one purpose.",
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    name = forms.CharField(label="Purpose name", max_length=150, required=False)
    text = forms.CharField(
        label="Text the visitor ticks",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Changing it makes a new version; consents already given keep the words they saw.",
    )


ConsentFormSet = forms.formset_factory(ConsentRowForm, extra=1, max_num=10)

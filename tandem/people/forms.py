"""Forms for the people and company pages.

They only shape what a person types; the rules (emails, phones, stages,
custom field types, permissions) live in people/services.py, whose
ValidationError the views put back into these forms with `add_service_errors`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import reverse

from tandem.accounts.forms import TandemForm
from tandem.accounts.models import User
from tandem.people.models import (
    ActivityKind,
    CompanySize,
    CustomField,
    CustomFieldEntity,
    CustomFieldType,
    PhoneKind,
    Stage,
    next_stage,
)

CUSTOM_PREFIX = "cf_"
BOOL_CHOICES = [("", "—"), ("true", "Yes"), ("false", "No")]


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.username


def owner_field(current_owner_id: int | None) -> OwnerChoiceField:
    """Active users, plus the current owner even if deactivated, so an edit keeps them."""
    users = User.objects.filter(Q(is_active=True) | Q(pk=current_owner_id or 0)).order_by(
        "first_name", "last_name", "username"
    )
    return OwnerChoiceField(
        queryset=users, required=False, empty_label="Nobody (unowned)", label="Owner"
    )


def custom_form_field(definition: CustomField) -> forms.Field:
    """One input per admin-defined field, by its type; the service checks the value again."""
    common: dict[str, Any] = {
        "label": definition.label,
        "required": definition.required,
        "error_messages": {"required": f"{definition.label} is required."},
    }
    kind = definition.field_type
    if kind == CustomFieldType.NUMBER:
        return forms.DecimalField(
            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}), **common
        )
    if kind == CustomFieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == CustomFieldType.CHOICE:
        return forms.ChoiceField(
            choices=[("", "—"), *[(c, c) for c in definition.choices]], **common
        )
    if kind == CustomFieldType.BOOL:
        return forms.ChoiceField(choices=BOOL_CHOICES, **common)
    return forms.CharField(max_length=2000, **common)


def custom_initial(definition: CustomField, value: Any) -> Any:
    """A stored custom value as its input shows it."""
    if value is None:
        return None
    if definition.field_type == CustomFieldType.BOOL:
        return "true" if value else "false"
    if definition.field_type == CustomFieldType.DATE:
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    return str(value)


class CustomFieldsMixin(forms.Form):
    """Adds `cf_<key>` inputs for the admin's custom fields of one entity."""

    custom_definitions: list[CustomField]

    def add_custom_fields(self, definitions: list[CustomField], values: dict[str, Any]) -> None:
        self.custom_definitions = definitions
        for definition in definitions:
            name = CUSTOM_PREFIX + definition.key
            self.fields[name] = custom_form_field(definition)
            if definition.key in values:
                self.initial[name] = custom_initial(definition, values[definition.key])

    @property
    def custom_bound_fields(self) -> list[forms.BoundField]:
        return [self[CUSTOM_PREFIX + d.key] for d in self.custom_definitions]

    def custom_values(self, *, changed_only: bool) -> dict[str, Any]:
        """Cleaned custom values keyed as the service expects; "" or None clears one."""
        out: dict[str, Any] = {}
        for definition in self.custom_definitions:
            name = CUSTOM_PREFIX + definition.key
            if changed_only and name not in self.changed_data:
                continue
            value = self.cleaned_data.get(name)
            if definition.field_type == CustomFieldType.BOOL and value:
                value = value == "true"
            out[definition.key] = value
        return out


class PersonForm(CustomFieldsMixin):
    first_name = forms.CharField(max_length=100, required=False, label="First name")
    last_name = forms.CharField(max_length=100, required=False, label="Last name")
    email = forms.CharField(
        max_length=254,
        required=False,
        label="Email",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        max_length=50,
        required=False,
        label="Phone",
        help_text="With +country code, or a number in the person's country.",
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    title = forms.CharField(max_length=150, required=False, label="Job title")
    company = forms.CharField(
        max_length=200,
        required=False,
        label="Company",
        help_text="Pick one, or type a new name to add the company.",
    )
    street = forms.CharField(max_length=200, required=False, label="Street")
    city = forms.CharField(max_length=100, required=False, label="City")
    postcode = forms.CharField(max_length=20, required=False, label="Postcode")
    region = forms.CharField(max_length=100, required=False, label="Region / state")
    country = forms.CharField(
        max_length=2,
        required=False,
        label="Country",
        help_text="Two letters, e.g. DE, US.",
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 3}),
    )
    stage = forms.ChoiceField(choices=Stage.choices, initial=Stage.LEAD, label="Stage")
    source = forms.CharField(
        max_length=100,
        required=False,
        label="Source",
        help_text="Where this person came from, e.g. trade show, referral, website.",
    )

    def __init__(
        self,
        *args: Any,
        creating: bool,
        custom_definitions: list[CustomField],
        custom_values: dict[str, Any] | None = None,
        current_owner_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.creating = creating
        self.fields["owner"] = owner_field(current_owner_id)
        self.order_fields(["first_name", "last_name", "email", "phone", "title", "company"])
        # Names of existing companies appear as the person types (people/_company_options.html).
        self.fields["company"].widget.attrs.update(
            {
                "list": "company-options",
                "autocomplete": "off",
                "hx-get": reverse("people:company_suggest"),
                "hx-trigger": "input changed delay:200ms",
                "hx-target": "#company-options",
                "hx-swap": "innerHTML",
            }
        )
        if not creating:
            # The stage changes through its own form, which asks for a reason.
            del self.fields["stage"]
        self.add_custom_fields(custom_definitions, custom_values or {})

    def person_data(self) -> dict[str, Any]:
        """The plain fields for create_person / update_person (company is resolved apart)."""
        names = ["first_name", "last_name", "title", "street", "city", "postcode", "region"]
        names += ["country", "source", "owner"]
        if self.creating:
            data = {n: self.cleaned_data[n] for n in names}
            data["custom_fields"] = self.custom_values(changed_only=False)
            return data
        # On edit only what changed goes to the service, so an unchanged value that
        # today's rules would refuse (a deactivated owner) does not block other edits.
        data = {n: self.cleaned_data[n] for n in names if n in self.changed_data}
        custom = self.custom_values(changed_only=True)
        if custom:
            data["custom_fields"] = custom
        return data


class CompanyForm(CustomFieldsMixin):
    name = forms.CharField(max_length=200, label="Name")
    domain = forms.CharField(
        max_length=253, required=False, label="Domain", help_text="e.g. acme.com"
    )
    industry = forms.CharField(max_length=100, required=False, label="Industry")
    size = forms.ChoiceField(
        choices=[("", "—"), *CompanySize.choices], required=False, label="Size (people)"
    )
    country = forms.CharField(
        max_length=2, required=False, label="Country", help_text="Two letters, e.g. DE, US."
    )

    def __init__(
        self,
        *args: Any,
        creating: bool,
        custom_definitions: list[CustomField],
        custom_values: dict[str, Any] | None = None,
        current_owner_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.creating = creating
        self.fields["owner"] = owner_field(current_owner_id)
        self.add_custom_fields(custom_definitions, custom_values or {})

    def company_data(self) -> dict[str, Any]:
        names = ["name", "domain", "industry", "size", "country", "owner"]
        if self.creating:
            data = {n: self.cleaned_data[n] for n in names}
            data["custom_fields"] = self.custom_values(changed_only=False)
            return data
        data = {n: self.cleaned_data[n] for n in names if n in self.changed_data}
        custom = self.custom_values(changed_only=True)
        if custom:
            data["custom_fields"] = custom
        return data


class StageForm(forms.Form):
    to_stage = forms.ChoiceField(
        choices=Stage.choices,
        label="Move to",
        error_messages={"required": "Choose the stage to move to."},
    )
    reason = forms.CharField(
        max_length=2000,
        required=False,
        label="Reason",
        help_text="Required when going back in the funnel, or to disqualified or recycled.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, current: str, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "stage")
        super().__init__(*args, **kwargs)
        to_stage = self.fields["to_stage"]
        assert isinstance(to_stage, forms.ChoiceField)
        choices = [(v, label) for v, label in Stage.choices if v != current]
        forward = next_stage(current)
        if forward is None:  # nothing obvious: no move is picked for the user
            choices.insert(0, ("", "Choose a stage…"))
        else:
            self.initial.setdefault("to_stage", forward)
        to_stage.choices = choices


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=ActivityKind.choices, label="What", initial=ActivityKind.NOTE)
    subject = forms.CharField(max_length=200, required=False, label="Subject")
    body = forms.CharField(
        max_length=10000,
        required=False,
        label="Notes",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    outcome = forms.CharField(
        max_length=200,
        required=False,
        label="Outcome",
        help_text="e.g. left a voicemail, booked a demo.",
    )
    occurred_at = forms.DateTimeField(
        required=False,
        label="When",
        help_text="Leave empty for now.",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "activity")
        super().__init__(*args, **kwargs)


class EmailForm(forms.Form):
    address = forms.CharField(
        max_length=254,
        label="Add an email",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    make_primary = forms.BooleanField(required=False, label="Make it the primary email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "email")
        super().__init__(*args, **kwargs)


class PhoneForm(forms.Form):
    number = forms.CharField(
        max_length=50, label="Add a phone", widget=forms.TextInput(attrs={"type": "tel"})
    )
    kind = forms.ChoiceField(choices=PhoneKind.choices, label="Kind", initial=PhoneKind.WORK)
    make_primary = forms.BooleanField(required=False, label="Make it the primary phone")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "phone")
        super().__init__(*args, **kwargs)


def focus_first_error(form: forms.Form) -> None:
    """Put the keyboard on the first input that needs fixing when the page comes back."""
    for name in form.fields:
        if name in form.errors:
            form.fields[name].widget.attrs["autofocus"] = True
            return


def add_service_errors(
    form: forms.Form, err: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Put a service's ValidationError next to the matching inputs of `form`.

    Service keys are the API's field names (`email`, `to`, `custom_fields.size`);
    `aliases` maps them to this form's names, and anything without an input
    becomes a form-wide error.
    """
    aliases = aliases or {}
    if not hasattr(err, "error_dict"):
        form.add_error(None, err.messages)
        return
    for key, messages in err.message_dict.items():
        name = aliases.get(key, key)
        if name.startswith("custom_fields."):
            name = CUSTOM_PREFIX + name.removeprefix("custom_fields.")
        form.add_error(name if name in form.fields else None, messages)


class CustomFieldForm(TandemForm):
    entity = forms.ChoiceField(label="Used on", choices=CustomFieldEntity.choices)
    label = forms.CharField(label="Name", max_length=100)
    key = forms.CharField(
        label="Key",
        max_length=60,
        required=False,
        help_text="Used by the API and imports. Leave empty to make one from the name.",
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )
    field_type = forms.ChoiceField(label="Type", choices=CustomFieldType.choices)
    required = forms.BooleanField(label="Required", required=False)
    choices = forms.CharField(
        label="Choices",
        required=False,
        help_text="For a choice field: one choice per line.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["entity"].disabled = True
            self.fields[
                "key"
            ].help_text = "Used by the API and imports. Fixed once records hold values."

    def clean_choices(self) -> list[str]:
        raw = self.cleaned_data.get("choices") or ""
        return [line.strip() for line in raw.splitlines() if line.strip()]

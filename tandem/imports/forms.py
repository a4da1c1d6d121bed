"""Forms of the import wizard: upload, then mapping with the duplicate policy.

They shape what a person picks; imports/services.py checks it again (the file
in create_import, the mapping in set_mapping) and its ValidationError is put
next to the matching input.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from phonenumbers.geodata.locale import LOCALE_DATA

from tandem.imports.mapping import CUSTOM_PREFIX, target_choices
from tandem.imports.models import DuplicatePolicy, ImportEntity, ImportJob
from tandem.people.models import CustomField

ENCODINGS = [
    ("", "Detect"),
    ("utf-8", "UTF-8"),
    ("cp1252", "Windows-1252 (Excel on Windows)"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
]
DELIMITERS = [("", "Detect"), (",", "Comma ,"), (";", "Semicolon ;"), ("\t", "Tab"), ("|", "Bar |")]
POLICY_HELP = {
    DuplicatePolicy.SKIP: "Leave people who are already in Tandem as they are.",
    DuplicatePolicy.FILL: "Fill their empty fields from the file; keep what is there.",
    DuplicatePolicy.OVERWRITE: "Replace their fields with the file's values (empty cells change nothing).",
}


class UploadForm(forms.Form):
    entity = forms.ChoiceField(
        label="What the file holds", choices=ImportEntity.choices, initial=ImportEntity.PEOPLE
    )
    file = forms.FileField(
        label="CSV or Excel (.xlsx) file",
        help_text="The first row holds the column names. Exports of HubSpot and Salesforce work as they are.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}),
    )
    encoding = forms.ChoiceField(label="Encoding", choices=ENCODINGS, required=False)
    delimiter = forms.ChoiceField(label="Delimiter", choices=DELIMITERS, required=False)


def region_choices() -> list[tuple[str, str]]:
    """Every region phone numbers are known for, by its English name."""

    def english(code: str) -> str:
        by_language = LOCALE_DATA.get(code, {})
        name = by_language.get("en", "")
        for _ in range(5):  # "*aa": the same as that language's name
            if not name.startswith("*"):
                break
            name = by_language.get(name[1:], "")
        return name or code

    return sorted(
        ((code, f"{english(code)} ({code})") for code in phonenumbers.SUPPORTED_REGIONS),
        key=lambda choice: choice[1],
    )


class MappingForm(forms.Form):
    """A select per column (pre-filled with the suggestion), the duplicate policy, and the
    region phones without a country code are read in."""

    policy = forms.ChoiceField(
        label="When someone is already in Tandem",
        choices=DuplicatePolicy.choices,
        widget=forms.RadioSelect,
        initial=DuplicatePolicy.SKIP,
    )
    region = forms.ChoiceField(
        label="Phone numbers without +country are from",
        help_text="Used for rows with no country of their own; a row's country wins.",
        choices=region_choices,
        required=False,  # left out: the import keeps the region it has
    )

    def __init__(
        self,
        *args: Any,
        job: ImportJob,
        custom_fields: list[CustomField],
        may_add_fields: bool,
        samples: dict[str, list[str]],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.job = job
        self.may_add_fields = may_add_fields
        choices = [("", "— not imported —"), *target_choices(job.entity, custom_fields)]
        columns = job.mapping.get("columns") or {}
        new_fields = job.mapping.get("new_fields") or {}
        self.rows: list[dict[str, Any]] = []
        for index, header in enumerate(job.headers):
            name = f"col_{index}"
            target = columns.get(header) or ""
            is_new = header in new_fields
            self.fields[name] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial="" if is_new else target
            )
            row: dict[str, Any] = {
                "header": header,
                "field": name,
                "samples": [v for v in samples.get(header, []) if v][:3],
            }
            if may_add_fields:
                new_name = f"new_{index}"
                self.fields[new_name] = forms.BooleanField(
                    label=f"Add “{header}” as a new custom field", required=False, initial=is_new
                )
                row["new"] = new_name
            self.rows.append(row)
        self.fields["policy"].initial = job.policy
        self.fields["region"].initial = job.region or settings.TANDEM_DEFAULT_REGION

    def bound_rows(self) -> list[dict[str, Any]]:
        return [
            {
                **row,
                "bound": self[row["field"]],
                "new_bound": self[row["new"]] if "new" in row else None,
            }
            for row in self.rows
        ]

    def policy_options(self) -> list[dict[str, Any]]:
        return [
            {"value": value, "label": label, "help": POLICY_HELP[DuplicatePolicy(value)]}
            for value, label in DuplicatePolicy.choices
        ]

    def mapping(self, field_specs: dict[str, dict[str, str]]) -> dict[str, Any]:
        """The mapping JSON (docs/imports.md) the choices make; `field_specs` gives each
        header's would-be new custom field (key and inferred type)."""
        columns: dict[str, str | None] = {}
        new_fields: dict[str, dict[str, str]] = {}
        for index, header in enumerate(self.job.headers):
            target = self.cleaned_data.get(f"col_{index}") or None
            if self.may_add_fields and self.cleaned_data.get(f"new_{index}"):
                if target:
                    self.add_error(
                        f"new_{index}",
                        f"“{header}” already goes to a field; choose one or the other.",
                    )
                    continue
                spec = field_specs[header]
                new_fields[header] = spec
                target = CUSTOM_PREFIX + spec["key"]
            columns[header] = target
        if self.errors:
            raise ValidationError("fix the marked columns")
        existing = self.job.mapping.get("stages") or {}
        return {"columns": columns, "stages": existing, "new_fields": new_fields}

    def add_service_errors(self, err: ValidationError) -> None:
        if not hasattr(err, "error_dict"):
            self.add_error(None, err.messages)
            return
        for key, messages in err.message_dict.items():
            self.add_error(key if key in self.fields else None, messages)

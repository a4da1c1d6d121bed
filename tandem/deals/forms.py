"""Forms of the deal pages: open or edit a deal, move it, close it, reopen it, its contacts.

They only shape what a person types; the rules (stages of the pipeline, currencies and
rates, reasons, who may) live in deals/services.py, whose ValidationError the views put
next to the matching input with people's `add_service_errors`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from tandem.accounts.forms import TandemForm
from tandem.deals.models import ContactRole, Deal, DealStatus, Pipeline, PipelineStage
from tandem.deals.pipelines import active_reasons
from tandem.deals.queries import (
    active_pipelines,
    pipeline_stages,
    stages_by_pipeline,
)
from tandem.people.forms import owner_field
from tandem.people.models import Company, Person
from tandem.people.normalize import normalize_email

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _stage_label(stage: PipelineStage) -> str:
    return f"{stage.name} ({stage.probability} %)"


class DealForm(TandemForm):
    """Open a deal (with its first contact, from a person's page) or edit one."""

    name = forms.CharField(max_length=200, label="Deal name")
    pipeline = forms.TypedChoiceField(label="Pipeline", coerce=int)
    stage = forms.TypedChoiceField(label="Stage", coerce=int, required=False)
    company = forms.CharField(
        max_length=200,
        required=False,
        label="Company",
        help_text="Its name (a new one is added) or leave empty.",
    )
    amount = forms.DecimalField(
        label="Amount",
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    currency = forms.CharField(
        max_length=3, min_length=3, label="Currency", help_text="Three letters, e.g. EUR, USD."
    )
    exchange_rate = forms.DecimalField(
        required=False,
        label="Exchange rate",
        min_value=Decimal("0.00000001"),
        max_digits=18,
        decimal_places=8,
        help_text="Base-currency units for one unit of the deal's currency (not needed in the base currency).",
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    expected_close_on = forms.DateField(required=False, label="Expected close", widget=DATE_INPUT)
    description = forms.CharField(
        required=False,
        max_length=10000,
        label="Description",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Opening from a person's page: that person becomes the first contact.
    person = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    role = forms.ChoiceField(
        choices=ContactRole.choices, required=False, label="Their role", initial=ContactRole.OTHER
    )

    def __init__(self, *args: Any, deal: Deal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deal = deal
        pipelines = active_pipelines()
        if deal is not None and deal.pipeline not in pipelines:
            pipelines.append(deal.pipeline)
        self.fields["pipeline"].choices = [(p.pk, p.name) for p in pipelines]  # type: ignore[attr-defined]
        by_pipeline = stages_by_pipeline()
        many = len(pipelines) > 1
        self.fields["stage"].choices = [("", "The first stage")] + [  # type: ignore[attr-defined]
            (s.pk, f"{p.name}: {_stage_label(s)}" if many else _stage_label(s))
            for p in pipelines
            for s in by_pipeline.get(p.pk, [])
        ]
        self.fields["owner"] = owner_field(deal.owner_id if deal else None)
        self.order_fields(
            ["name", "pipeline", "stage", "company", "owner", "amount", "currency",
             "exchange_rate", "expected_close_on", "description", "person", "role"]
        )  # fmt: skip
        if deal is not None:  # stage moves, contacts and closing have their own forms
            for name in ("stage", "person", "role"):
                del self.fields[name]

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().upper()
        if not (value.isascii() and value.isalpha()):
            raise ValidationError("Use the three-letter code, e.g. EUR.")
        return value

    def clean_person(self) -> Person | None:
        pk = self.cleaned_data.get("person")
        if pk is None:
            return None
        person = Person.objects.filter(pk=pk, deleted_at__isnull=True).first()
        if person is None:
            raise ValidationError("There is no such person.")
        return person

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        currency = data.get("currency")
        if currency == settings.TANDEM_BASE_CURRENCY and data.get("exchange_rate") is None:
            data["exchange_rate"] = Decimal("1")
        return data

    def deal_data(self, company: Company | None) -> dict[str, Any]:
        """The service's `data`: ids for pipeline, stage, company and owner."""
        d = self.cleaned_data
        data: dict[str, Any] = {
            "name": d["name"],
            "pipeline": d["pipeline"],
            "company": company.pk if company else None,
            "owner": d["owner"].pk if d.get("owner") else None,
            "amount": d["amount"],
            "currency": d["currency"],
            "expected_close_on": d.get("expected_close_on"),
            "description": d.get("description", ""),
        }
        if d.get("exchange_rate") is not None:
            data["exchange_rate"] = d["exchange_rate"]
        if self.deal is None:
            if d.get("stage"):
                data["stage"] = d["stage"]
            person = d.get("person")
            if person is not None:
                data["contacts"] = [
                    {
                        "person": person.pk,
                        "role": d.get("role") or ContactRole.OTHER,
                        "is_primary": True,
                    }
                ]
        return data

    def changed_deal_data(self, company: Company | None) -> dict[str, Any]:
        """Only what the edit changed (the service applies the fields sent)."""
        data = self.deal_data(company)
        names = set(self.changed_data)
        return {k: v for k, v in data.items() if k in names}


class MoveForm(forms.Form):
    """Move an open deal to another stage of its pipeline (the board's keyboard way too)."""

    stage = forms.TypedChoiceField(label="Move to", coerce=int)
    note = forms.CharField(max_length=500, required=False, label="Note")

    def __init__(self, *args: Any, deal: Deal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [  # type: ignore[attr-defined]
            (s.pk, s.name) for s in pipeline_stages(deal.pipeline_id)
        ]
        self.fields["stage"].initial = deal.stage_id


class CloseForm(forms.Form):
    """Close a deal won or lost, with a reason from the list, a competitor and a note."""

    status = forms.ChoiceField(
        label="Outcome",
        choices=[(DealStatus.WON, "Won"), (DealStatus.LOST, "Lost")],
        widget=forms.RadioSelect,
    )
    won_reason = forms.TypedChoiceField(label="Why we won", coerce=int, required=False)
    lost_reason = forms.TypedChoiceField(label="Why we lost", coerce=int, required=False)
    competitor = forms.CharField(max_length=200, required=False, label="Competitor")
    note = forms.CharField(
        max_length=5000, required=False, label="Note", widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "close")
        super().__init__(*args, **kwargs)
        for kind, name in ((DealStatus.WON, "won_reason"), (DealStatus.LOST, "lost_reason")):
            self.fields[name].choices = [("", "—")] + [  # type: ignore[attr-defined]
                (r.pk, r.name) for r in active_reasons(kind)
            ]

    def close_args(self) -> dict[str, Any]:
        d = self.cleaned_data
        status = d["status"]
        reason = d.get("won_reason") if status == DealStatus.WON else d.get("lost_reason")
        return {
            "status": status,
            "reason_id": reason or None,
            "competitor": d.get("competitor", ""),
            "note": d.get("note", ""),
        }


class ReopenForm(forms.Form):
    stage = forms.TypedChoiceField(label="Reopen in", coerce=int, required=False)

    def __init__(self, *args: Any, deal: Deal, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "reopen")
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [("", "The stage it was closed in")] + [  # type: ignore[attr-defined]
            (s.pk, s.name) for s in pipeline_stages(deal.pipeline_id)
        ]


class ContactForm(forms.Form):
    """Add a person to the deal: one of its company's people, or anyone by email."""

    person = forms.TypedChoiceField(label="One of the company's people", coerce=int, required=False)
    email = forms.CharField(max_length=254, required=False, label="Or their email")
    role = forms.ChoiceField(choices=ContactRole.choices, label="Role", initial=ContactRole.OTHER)
    is_primary = forms.BooleanField(required=False, label="Primary contact")

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "contact")
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "—"), *choices]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        email = (data.get("email") or "").strip()
        if data.get("person"):
            data["person_id"] = data["person"]
        elif email:
            key = normalize_email(email)
            person = (
                Person.objects.filter(emails__email_normalized=key, deleted_at__isnull=True)
                .only("pk")
                .first()
            )
            if person is None:
                self.add_error("email", "Nobody has this email; add them as a person first.")
                return data
            data["person_id"] = person.pk
        else:
            self.add_error("person", "Pick a person or give their email.")
        return data


class RemoveContactForm(forms.Form):
    person = forms.IntegerField(min_value=1, max_value=2**63 - 1)


def pipeline_choice(raw: str | None, pipelines: list[Pipeline], default: Pipeline) -> Pipeline:
    """The board's `?pipeline=`: an active pipeline's id, else the default one."""
    if raw and raw.isdigit():
        for pipeline in pipelines:
            if pipeline.pk == int(raw):
                return pipeline
        raise ValidationError({"pipeline": f"There is no active pipeline {raw}."})
    return default

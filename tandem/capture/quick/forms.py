"""The quick capture form: what a salesperson types or scans at the booth or counter.

One form serves the page without JavaScript (a plain multipart post) and the
offline queue's sync (JSON entries checked by the same fields), so both
refuse the same things. Email, phone and country rules live in the services;
their errors are put back next to these fields with `add_service_errors`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from tandem.campaigns.models import Campaign
from tandem.capture.quick.services import INTEREST_LEVELS, PLACE_KINDS, QuickEntry
from tandem.capture.vcard import MAX_CARD_CHARS, parse_card

PERSON_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "title",
    "street",
    "postcode",
    "city",
    "country",
)
PLACE_CHOICES = [("booth", "Event / booth"), ("store", "Store / counter")]
INTEREST_CHOICES = [("", "Not asked"), *[(v, v.capitalize()) for v in INTEREST_LEVELS]]
MAX_CARD_FILE_BYTES = 1_000_000


def place_campaigns() -> QuerySet[Campaign]:
    """Active trade shows, events and stores, the newest first."""
    return Campaign.objects.filter(is_active=True, kind__in=PLACE_KINDS).order_by(
        "-starts_on", "name"
    )


class CampaignChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_kind_display()})"


def _text(label: str, max_length: int, **attrs: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        widget=forms.TextInput(attrs=attrs),
    )


class QuickCaptureForm(forms.Form):
    campaign = CampaignChoice(
        queryset=Campaign.objects.none(),
        required=False,
        label="Event or store",
        empty_label="— none —",
    )
    location = _text("Or where (free text)", 200, placeholder="e.g. Hall 4, stand B12")
    place = forms.ChoiceField(
        choices=PLACE_CHOICES,
        initial="booth",
        required=False,
        label="This is a",
        widget=forms.RadioSelect,
    )

    first_name = _text("First name", 100, autocomplete="off", autocapitalize="words")
    last_name = _text("Last name", 100, autocomplete="off", autocapitalize="words")
    email = forms.CharField(
        label="Email",
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "inputmode": "email"}),
    )
    phone = forms.CharField(
        label="Phone",
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
    )
    company = _text("Company", 200, autocomplete="off")
    title = _text("Job title", 150, autocomplete="off")
    street = _text("Street", 255, autocomplete="off")
    postcode = _text("Postcode", 20, autocomplete="off")
    city = _text("City", 100, autocomplete="off")
    country = _text("Country (2 letters)", 2, autocomplete="off", placeholder="DE")

    interest = forms.ChoiceField(
        choices=INTEREST_CHOICES,
        required=False,
        label="Interest",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Note",
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    sold_on_spot = forms.BooleanField(required=False, label="Sold on the spot")
    own_network = forms.BooleanField(
        required=False,
        label="From my own network",
        help_text="A contact you bring in yourself: credited to you as sales-sourced.",
    )

    scan_text = forms.CharField(
        label="Badge or card text",
        max_length=MAX_CARD_CHARS,
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "BEGIN:VCARD… or MECARD:N:…", "spellcheck": "false"}
        ),
        help_text="Paste what the badge scanner read, or a vCard.",
    )
    card_file = forms.FileField(
        required=False,
        label="Or a contact card file (.vcf)",
        widget=forms.ClearableFileInput(attrs={"accept": ".vcf,.vcard,text/vcard,text/x-vcard"}),
    )
    client_uuid = forms.CharField(required=False, widget=forms.HiddenInput)
    captured_at = forms.DateTimeField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = place_campaigns()  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("client_uuid", str(uuid.uuid4()))

    def clean_client_uuid(self) -> str | None:
        raw = (self.cleaned_data.get("client_uuid") or "").strip()
        if not raw:
            return None
        try:
            return str(uuid.UUID(raw))
        except ValueError:
            raise ValidationError("Not a UUID.") from None

    def clean_captured_at(self) -> dt.datetime | None:
        """When the phone saved the entry; a phone clock ahead of ours counts as now."""
        value = self.cleaned_data.get("captured_at")
        return min(value, timezone.now()) if value else None

    def clean_country(self) -> str:
        return (self.cleaned_data.get("country") or "").strip().upper()

    def card(self) -> dict[str, str]:
        """Fields read from the pasted text or the card file; {} when neither was given."""
        upload = self.files.get("card_file") if self.files else None
        text = (self.data.get("scan_text") or "").strip()
        if upload is not None and upload.size and upload.size > MAX_CARD_FILE_BYTES:
            raise ValidationError({"card_file": "A contact card file is at most 1 MB."})
        if upload is not None and upload.size:
            raw = upload.read()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            field = "card_file"
        else:
            field = "scan_text"
        if not text:
            return {}
        try:
            return parse_card(text)
        except ValidationError as err:
            raise ValidationError({field: err.message_dict["scan_text"]}) from None

    def entry(self) -> QuickEntry:
        data = self.cleaned_data
        person = {name: (data.get(name) or "").strip() for name in PERSON_FIELDS}
        return QuickEntry(
            person=person,
            campaign=data.get("campaign"),
            location=data.get("location") or "",
            place=data.get("place") or "booth",
            interest=data.get("interest") or "",
            note=data.get("note") or "",
            sold_on_spot=bool(data.get("sold_on_spot")),
            own_network=bool(data.get("own_network")),
            client_uuid=data.get("client_uuid"),
            captured_at=data.get("captured_at"),
        )


def with_card(data: Any, card: dict[str, str], *, overwrite: bool) -> dict[str, Any]:
    """The posted values with the card's filled in: over them, or only into empty ones.

    The card's note goes into the note unless one was typed.
    """
    out = {key: data.get(key) for key in data}
    for name, value in card.items():
        if name in PERSON_FIELDS or name == "note":
            if overwrite or not (out.get(name) or "").strip():
                out[name] = value
    return out


def add_service_errors(form: forms.Form, err: ValidationError) -> None:
    """A service's ValidationError next to the matching field, else on the form."""
    if not hasattr(err, "error_dict"):
        form.add_error(None, err)
        return
    for name, messages in err.message_dict.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message if target else f"{name}: {message}")

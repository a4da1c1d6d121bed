"""Web forms, defined: the field catalogue, building and changing forms, the embed snippet.

A form lists fields from the catalogue (standard person fields and the
admin's custom fields), consent texts (one per purpose, versioned), the
campaign it feeds, where to send the visitor after, who is told and whether
marketing consent needs a confirmation email (double opt-in). What happens to
a post is in `submission.py`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.text import slugify

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import require
from tandem.campaigns.models import Campaign
from tandem.campaigns.services import UTM_FIELDS
from tandem.capture import consent as consents
from tandem.capture import redirects
from tandem.capture.models import ConsentPurpose, ConsentText, WebForm
from tandem.core.audit import record_audit
from tandem.people.models import CustomField, CustomFieldEntity, CustomFieldType

HONEYPOT_FIELD = "tandem_website"  # hidden from people; bots fill it
TIMESTAMP_FIELD = "tandem_ts"  # signed time the form was shown
TIMESTAMP_SALT = "tandem.capture.form-shown"
CONSENT_PREFIX = "consent_"
CUSTOM_PREFIX = "custom_"
MAX_VALUE_LENGTH = 5000  # any single posted value; person fields have their own, smaller caps
MAX_EXTRA_FIELDS = 30
TRACKING_FIELDS = (*UTM_FIELDS, "referrer", "page_url")
# A ticked "contact me" (a checkbox, or a hidden input on a demo-request form): the
# touchpoint says so (detail["contact_request"]), and routing makes the person an MQL.
CONTACT_REQUEST_FIELD = "contact_me"


@dataclass(frozen=True)
class FieldSpec:
    """One field a form can ask for."""

    name: str  # person field name, or custom:<key>
    label: str
    input_type: str = "text"  # text, email, tel, textarea, select, checkbox, number, date
    autocomplete: str = ""
    max_length: int = 200
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # Web-to-Lead names posted for this field
    help: str = ""

    # Cached: a post reads them several times for each field of its form.
    @cached_property
    def input_name(self) -> str:
        """The name the field has in the posted form."""
        if self.name.startswith("custom:"):
            return CUSTOM_PREFIX + self.name.removeprefix("custom:")
        return self.name

    @cached_property
    def is_custom(self) -> bool:
        return self.name.startswith("custom:")


STANDARD_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("first_name", "First name", autocomplete="given-name", max_length=100),
    FieldSpec("last_name", "Last name", autocomplete="family-name", max_length=100),
    FieldSpec("email", "Email", "email", autocomplete="email", max_length=254),
    FieldSpec("phone", "Phone", "tel", autocomplete="tel", max_length=50, aliases=("mobile",)),
    FieldSpec("company", "Company", autocomplete="organization", max_length=200),
    FieldSpec("title", "Job title", autocomplete="organization-title", max_length=150),
    FieldSpec("street", "Street", autocomplete="street-address", max_length=200),
    FieldSpec("city", "City", autocomplete="address-level2", max_length=100),
    FieldSpec("postcode", "Postcode", autocomplete="postal-code", max_length=20, aliases=("zip",)),
    FieldSpec(
        "region",
        "State / region",
        autocomplete="address-level1",
        max_length=100,
        aliases=("state",),
    ),
    FieldSpec(
        "country",
        "Country",
        autocomplete="country-name",
        max_length=100,
        help="A country name or its two-letter code.",
    ),
    FieldSpec(
        "message", "Message", "textarea", max_length=MAX_VALUE_LENGTH, aliases=("description",)
    ),
)
STANDARD_BY_NAME = {spec.name: spec for spec in STANDARD_FIELDS}

# Web-to-Lead names with no person field: kept on the touchpoint (detail["extra"] and the note).
W2L_EXTRA_LABELS = {
    "salutation": "Salutation",
    "industry": "Industry",
    "employees": "Employees",
    "revenue": "Annual revenue",
    "rating": "Rating",
    "fax": "Fax",
    "URL": "Website",
    "url": "Website",
    "website": "Website",
    "mobile": "Mobile",
    "Campaign_ID": "Salesforce campaign",
    "member_status": "Campaign member status",
}
# Posted names that steer the submission and are not data about the person.
CONTROL_FIELDS = {
    HONEYPOT_FIELD,
    TIMESTAMP_FIELD,
    "retURL",
    "lead_source",
    "oid",
    "orgid",
    "debug",
    "debugEmail",
    "encoding",
    "recordType",
    "emailOptOut",
    "submit",
    "csrfmiddlewaretoken",
    "g-recaptcha-response",
    CONTACT_REQUEST_FIELD,
    *TRACKING_FIELDS,
}


def _custom_spec(cf: CustomField) -> FieldSpec:
    input_type = {
        CustomFieldType.NUMBER: "number",
        CustomFieldType.DATE: "date",
        CustomFieldType.BOOL: "checkbox",
        CustomFieldType.CHOICE: "select",
    }.get(cf.field_type, "text")  # type: ignore[call-overload]
    return FieldSpec(
        f"custom:{cf.key}",
        cf.label,
        input_type,
        max_length=2000,
        choices=tuple(cf.choices or ()),
    )


def catalogue() -> list[FieldSpec]:
    """Every field a form may ask for: the standard person fields, then custom fields."""
    custom = CustomField.objects.filter(entity=CustomFieldEntity.PERSON)
    return [*STANDARD_FIELDS, *(_custom_spec(cf) for cf in custom)]


@dataclass(frozen=True)
class FormField:
    """A catalogue field as one form asks for it: with the form's label and required flag."""

    spec: FieldSpec
    label: str
    required: bool

    @property
    def name(self) -> str:
        return self.spec.name

    @cached_property
    def input_name(self) -> str:
        return self.spec.input_name


def form_fields(form: WebForm) -> list[FormField]:
    """The fields `form` shows, in order; a deleted custom field drops out silently."""
    by_name = {spec.name: spec for spec in catalogue()}
    out = []
    for entry in form.fields or []:
        spec = by_name.get(str(entry.get("name", "")))
        if spec is None:
            continue
        out.append(
            FormField(spec, str(entry.get("label") or spec.label), bool(entry.get("required")))
        )
    return out


def form_consent_texts(form: WebForm) -> list[ConsentText]:
    return list(form.consent_texts.select_related("purpose").order_by("purpose__name"))


# --- building forms ---------------------------------------------------------------------

FORM_AUDITED = (
    "name",
    "key",
    "campaign",
    "fields",
    "thank_you_message",
    "redirect_url",
    "sites",
    "double_opt_in",
    "source",
    "is_active",
)
_KEY_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
_PURPOSE_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,59}")


def _clean_fields(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list | tuple):
        raise ValidationError({"fields": "Give the fields as a list."})
    names = {spec.name for spec in catalogue()}
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for entry in raw:
        name = str((entry or {}).get("name", "")).strip()
        if name not in names:
            raise ValidationError({"fields": f"There is no field {name!r} to ask for."})
        if name in seen:
            raise ValidationError({"fields": f"The field {name!r} is on the form twice."})
        seen.add(name)
        label = str(entry.get("label") or "").strip()
        if len(label) > 200:
            raise ValidationError({"fields": f"Keep the label of {name!r} under 200 characters."})
        cleaned.append({"name": name, "label": label, "required": bool(entry.get("required"))})
    email = next((e for e in cleaned if e["name"] == "email"), None)
    if email is None:
        raise ValidationError(
            {"fields": "A form needs the email field: it is how Tandem finds the person again."}
        )
    email["required"] = True
    for cf in CustomField.objects.filter(entity=CustomFieldEntity.PERSON, required=True):
        entry = next((e for e in cleaned if e["name"] == f"custom:{cf.key}"), None)
        if entry is None:
            raise ValidationError(
                {"fields": f"Every person needs {cf.label}, so the form must ask for it."}
            )
        entry["required"] = True
    return cleaned


def _clean_consents(raw: Any) -> list[dict[str, str]]:
    """[{purpose, name, text}]: one per purpose, each with its wording."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for entry in raw or []:
        text = str(entry.get("text") or "").strip()
        name = str(entry.get("name") or "").strip()
        key = str(entry.get("purpose") or "").strip().lower() or slugify(name)
        if not text and not entry.get("purpose") and not name:
            continue  # an empty row
        if not text:
            raise ValidationError({"consents": f"Write the consent text for {key or name!r}."})
        if not _PURPOSE_RE.fullmatch(key):
            raise ValidationError(
                {"consents": f"Purpose {key!r}: use lower-case letters, digits and dashes."}
            )
        if key in seen:
            raise ValidationError({"consents": f"Purpose {key!r} is on the form twice."})
        if len(text) > 5000:
            raise ValidationError(
                {"consents": f"Keep the text for {key!r} under 5,000 characters."}
            )
        seen.add(key)
        out.append({"purpose": key, "name": name[:150], "text": text})
    return out


def _clean_redirect(url: str, field_name: str = "redirect_url") -> str:
    return redirects.clean_web_url(url, field_name)


def _clean_form_data(data: dict[str, Any], current: WebForm | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if "name" in data or current is None:
        name = str(data.get("name") or "").strip()
        if not name:
            errors["name"] = "Give the form a name."
        elif len(name) > 200:
            errors["name"] = "Use at most 200 characters."
        out["name"] = name
    if "key" in data or current is None:
        key = str(data.get("key") or "").strip().lower() or slugify(out.get("name", ""))[:100]
        if not _KEY_RE.fullmatch(key):
            errors["key"] = (
                "Use lower-case letters, digits and dashes (it is part of the form's address)."
            )
        elif (
            WebForm.objects.filter(key=key).exclude(pk__in=[current.pk] if current else []).exists()
        ):
            errors["key"] = f"The key {key!r} is taken by another form."
        out["key"] = key
    for name, n in (("thank_you_message", 5000), ("source", 100)):
        if name in data:
            value = str(data.get(name) or "").strip()
            if len(value) > n:
                errors[name] = f"Use at most {n} characters."
            out[name] = value
    for name in ("double_opt_in", "is_active"):
        if name in data:
            out[name] = bool(data[name])
    if "campaign" in data:
        if data["campaign"] is not None and not isinstance(data["campaign"], Campaign):
            errors["campaign"] = "Choose a campaign."
        out["campaign"] = data["campaign"]
    for name, cleaner in (
        ("redirect_url", _clean_redirect),
        ("sites", redirects.clean_sites),
        ("fields", _clean_fields),
        ("consents", _clean_consents),
    ):
        if name in data:
            try:
                out[name] = cleaner(data[name])  # type: ignore[operator]
            except ValidationError as exc:
                errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
    if "notify" in data:
        users = list(data["notify"] or [])
        if any(not isinstance(u, User) or not u.is_active for u in users):
            errors["notify"] = "Choose active users to notify."
        out["notify"] = users
    if errors:
        raise ValidationError(errors)
    return out


def _apply_consents(form: WebForm, rows: list[dict[str, str]]) -> list[str]:
    """Point the form at the current text of each purpose, making new versions as needed."""
    texts = []
    for row in rows:
        purpose, created = ConsentPurpose.objects.get_or_create(
            key=row["purpose"], defaults={"name": row["name"] or row["purpose"].replace("-", " ")}
        )
        if not created and row["name"] and row["name"] != purpose.name:
            purpose.name = row["name"]
            purpose.save(update_fields=["name"])
        texts.append(consents.ensure_text(purpose=purpose, text=row["text"]))
    form.consent_texts.set(texts)
    return [str(t) for t in texts]


def _snapshot(form: WebForm) -> dict[str, Any]:
    return {
        "name": form.name,
        "key": form.key,
        "campaign": form.campaign_id,
        "fields": form.fields,
        "thank_you_message": form.thank_you_message,
        "redirect_url": form.redirect_url,
        "sites": form.sites,
        "double_opt_in": form.double_opt_in,
        "source": form.source,
        "is_active": form.is_active,
    }


def create_form(*, actor: Actor, data: dict[str, Any]) -> WebForm:
    """Build a form. `data`: name, key, campaign, fields, consents, thank_you_message,
    redirect_url, sites (hosts a posted retURL may lead to), notify (users), double_opt_in,
    source, is_active."""
    require(actor, "capture.manage_forms")
    data = {"fields": [{"name": "email", "required": True}], **data}
    cleaned = _clean_form_data(data, None)
    notify = cleaned.pop("notify", [])
    consent_rows = cleaned.pop("consents", [])
    with transaction.atomic():
        form = WebForm.objects.create(created_by=actor.user, **cleaned)
        form.notify.set(notify)
        texts = _apply_consents(form, consent_rows)
        changes = {k: [None, v] for k, v in _snapshot(form).items() if v not in ("", None, [])}
        if texts:
            changes["consent_texts"] = [None, texts]
        if notify:
            changes["notify"] = [None, [u.username for u in notify]]
        record_audit(actor=actor, event="created", target=form, changes=changes)
    return form


def update_form(*, actor: Actor, form: WebForm, data: dict[str, Any]) -> WebForm:
    """Change the settings present in `data`. Changed consent words become a new
    text version; consents already given keep pointing at the words they saw."""
    require(actor, "capture.manage_forms")
    cleaned = _clean_form_data(data, form)
    notify = cleaned.pop("notify", None)
    consent_rows = cleaned.pop("consents", None)
    with transaction.atomic():
        form = WebForm.objects.select_for_update().get(pk=form.pk)
        before = _snapshot(form)
        before_texts = [str(t) for t in form_consent_texts(form)]
        before_notify = sorted(form.notify.values_list("username", flat=True))
        for name, value in cleaned.items():
            setattr(form, name, value)
        form.save()
        changes = {k: [before[k], v] for k, v in _snapshot(form).items() if before[k] != v}
        if consent_rows is not None:
            texts = _apply_consents(form, consent_rows)
            if sorted(texts) != sorted(before_texts):
                changes["consent_texts"] = [before_texts, texts]
        if notify is not None:
            form.notify.set(notify)
            after_notify = sorted(u.username for u in notify)
            if after_notify != before_notify:
                changes["notify"] = [before_notify, after_notify]
        if changes:
            record_audit(actor=actor, event="changed", target=form, changes=changes)
    return form


# --- the signed "form shown at" time (checked in submission.spam_reason) -----------------


def fill_token(form_key: str, *, shown_at: float | None = None) -> str:
    """A signed note of when the form was shown, to measure how fast it came back."""
    at = int(time.time() if shown_at is None else shown_at)
    return signing.dumps({"k": form_key, "t": at}, salt=TIMESTAMP_SALT, compress=False)


# --- the embed snippet --------------------------------------------------------------------------


def embed_snippet(form: WebForm, *, base_url: str) -> str:
    """Copy-paste HTML: a plain form posting to /f/<key> (works without JavaScript), with
    the honeypot and the signed time, plus an optional script adding UTM tags and the page."""
    base = base_url.rstrip("/")
    return render_to_string(
        "capture/embed_snippet.html",
        {
            "form": form,
            "action": f"{base}/f/{form.key}",
            "script": f"{base}/static/capture/embed.js",
            "fields": form_fields(form),
            "consent_texts": form_consent_texts(form),
            "honeypot": HONEYPOT_FIELD,
            "timestamp_field": TIMESTAMP_FIELD,
            "timestamp": fill_token(form.key),
            "tracking": TRACKING_FIELDS,
            "consent_prefix": CONSENT_PREFIX,
        },
    ).strip()

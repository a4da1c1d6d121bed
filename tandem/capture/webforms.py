"""Web forms: the field catalogue, building forms, and turning a post into a capture.

A form lists fields from the catalogue (standard person fields and the
admin's custom fields), consent texts (one per purpose, versioned), the
campaign it feeds, where to send the visitor after, who is told and whether
marketing consent needs a confirmation email (double opt-in).

Posts may use Salesforce Web-to-Lead names (`state`, `zip`, `lead_source`,
`description`, `retURL`, ...) so an existing form can point at Tandem
unchanged. Every submission goes through `capture_person`: there is no second
find-or-create here.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.text import slugify

from tandem.accounts.models import User
from tandem.campaigns.models import Campaign, TouchpointKind
from tandem.campaigns.services import UTM_FIELDS
from tandem.capture import consent as consents
from tandem.capture import redirects
from tandem.capture.email import claim_confirmation_emails, queue_email
from tandem.capture.models import Consent, ConsentPurpose, ConsentStatus, ConsentText, WebForm
from tandem.capture.services import CaptureResult, TouchpointIn, capture_person
from tandem.core.actor import Actor
from tandem.core.audit import record_audit
from tandem.core.permissions import require
from tandem.people.custom_fields import clean_custom_fields
from tandem.people.models import CustomField, CustomFieldEntity, CustomFieldType, Person
from tandem.people.normalize import clean_email, clean_phone

HONEYPOT_FIELD = "tandem_website"  # hidden from people; bots fill it
TIMESTAMP_FIELD = "tandem_ts"  # signed time the form was shown
TIMESTAMP_SALT = "tandem.capture.form-shown"
CONSENT_PREFIX = "consent_"
CUSTOM_PREFIX = "custom_"
MAX_VALUE_LENGTH = 5000  # any single posted value; person fields have their own, smaller caps
MAX_EXTRA_FIELDS = 30
TRACKING_FIELDS = (*UTM_FIELDS, "referrer", "page_url")


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

    @property
    def input_name(self) -> str:
        """The name the field has in the posted form."""
        if self.name.startswith("custom:"):
            return CUSTOM_PREFIX + self.name.removeprefix("custom:")
        return self.name

    @property
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
_CONTROL_FIELDS = {
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

    @property
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


# --- the signed "form shown at" time ------------------------------------------------------


def fill_token(form_key: str, *, shown_at: float | None = None) -> str:
    """A signed note of when the form was shown, to measure how fast it came back."""
    at = int(time.time() if shown_at is None else shown_at)
    return signing.dumps({"k": form_key, "t": at}, salt=TIMESTAMP_SALT, compress=False)


def min_fill_seconds() -> int:
    return int(getattr(settings, "TANDEM_FORM_MIN_FILL_SECONDS", 3))


def spam_reason(form: WebForm, data: Mapping[str, str]) -> str:
    """Why a post looks like a bot ("" if it does not): honeypot, bad or fresh timestamp.

    A post without the timestamp is fine: plain Web-to-Lead pages do not have it.
    """
    if str(data.get(HONEYPOT_FIELD, "")).strip():
        return "honeypot"
    token = str(data.get(TIMESTAMP_FIELD, "")).strip()
    if not token:
        return ""
    try:
        shown = signing.loads(token, salt=TIMESTAMP_SALT)
        shown_key, shown_at = str(shown["k"]), int(shown["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return "bad timestamp"
    if shown_key != form.key:
        return "timestamp of another form"
    if time.time() - shown_at < min_fill_seconds():
        return "too fast"
    return ""


# --- countries ---------------------------------------------------------------------------

# Common names (English and a few own names) for ISO 3166-1 alpha-2 codes.
_COUNTRY_NAMES = {
    "afghanistan": "AF", "albania": "AL", "algeria": "DZ", "andorra": "AD", "angola": "AO",
    "argentina": "AR", "armenia": "AM", "australia": "AU", "austria": "AT", "österreich": "AT",
    "azerbaijan": "AZ", "bahamas": "BS", "bahrain": "BH", "bangladesh": "BD", "belarus": "BY",
    "belgium": "BE", "belgië": "BE", "belgique": "BE", "bolivia": "BO", "bosnia and herzegovina": "BA",
    "botswana": "BW", "brazil": "BR", "brasil": "BR", "bulgaria": "BG", "cambodia": "KH",
    "cameroon": "CM", "canada": "CA", "chile": "CL", "china": "CN", "colombia": "CO",
    "costa rica": "CR", "croatia": "HR", "hrvatska": "HR", "cuba": "CU", "cyprus": "CY",
    "czech republic": "CZ", "czechia": "CZ", "česko": "CZ", "denmark": "DK", "danmark": "DK",
    "dominican republic": "DO", "ecuador": "EC", "egypt": "EG", "el salvador": "SV",
    "estonia": "EE", "eesti": "EE", "ethiopia": "ET", "finland": "FI", "suomi": "FI",
    "france": "FR", "georgia": "GE", "germany": "DE", "deutschland": "DE", "ghana": "GH",
    "greece": "GR", "guatemala": "GT", "honduras": "HN", "hong kong": "HK", "hungary": "HU",
    "magyarország": "HU", "iceland": "IS", "ísland": "IS", "india": "IN", "indonesia": "ID",
    "iran": "IR", "iraq": "IQ", "ireland": "IE", "éire": "IE", "israel": "IL", "italy": "IT",
    "italia": "IT", "ivory coast": "CI", "côte d'ivoire": "CI", "jamaica": "JM", "japan": "JP",
    "jordan": "JO", "kazakhstan": "KZ", "kenya": "KE", "korea": "KR", "south korea": "KR",
    "republic of korea": "KR", "kosovo": "XK", "kuwait": "KW", "latvia": "LV", "latvija": "LV",
    "lebanon": "LB", "liechtenstein": "LI", "lithuania": "LT", "lietuva": "LT",
    "luxembourg": "LU", "malaysia": "MY", "malta": "MT", "mexico": "MX", "méxico": "MX",
    "moldova": "MD", "monaco": "MC", "mongolia": "MN", "montenegro": "ME", "morocco": "MA",
    "mozambique": "MZ", "myanmar": "MM", "namibia": "NA", "nepal": "NP", "netherlands": "NL",
    "the netherlands": "NL", "holland": "NL", "nederland": "NL", "new zealand": "NZ",
    "nicaragua": "NI", "nigeria": "NG", "north macedonia": "MK", "macedonia": "MK",
    "norway": "NO", "norge": "NO", "oman": "OM", "pakistan": "PK", "panama": "PA",
    "paraguay": "PY", "peru": "PE", "perú": "PE", "philippines": "PH", "poland": "PL",
    "polska": "PL", "portugal": "PT", "puerto rico": "PR", "qatar": "QA", "romania": "RO",
    "românia": "RO", "russia": "RU", "russian federation": "RU", "rwanda": "RW",
    "saudi arabia": "SA", "senegal": "SN", "serbia": "RS", "srbija": "RS", "singapore": "SG",
    "slovakia": "SK", "slovensko": "SK", "slovenia": "SI", "slovenija": "SI",
    "south africa": "ZA", "spain": "ES", "españa": "ES", "sri lanka": "LK", "sweden": "SE",
    "sverige": "SE", "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "svizzera": "CH",
    "taiwan": "TW", "tanzania": "TZ", "thailand": "TH", "tunisia": "TN", "turkey": "TR",
    "türkiye": "TR", "turkiye": "TR", "uganda": "UG", "ukraine": "UA", "україна": "UA",
    "united arab emirates": "AE", "uae": "AE", "united kingdom": "GB", "uk": "GB",
    "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "united states": "US", "united states of america": "US",
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "us": "US", "america": "US", "uruguay": "UY",
    "uzbekistan": "UZ", "venezuela": "VE", "vietnam": "VN", "viet nam": "VN", "zambia": "ZM",
    "zimbabwe": "ZW",
}  # fmt: skip
_ISO_ALIASES = {"UK": "GB", "EL": "GR"}


def country_code(raw: str) -> str:
    """ISO-2 for a code or a common country name; "" if unknown (the caller keeps the text)."""
    import phonenumbers

    text = " ".join((raw or "").strip().split())
    if not text:
        return ""
    upper = _ISO_ALIASES.get(text.upper(), text.upper())
    if len(upper) == 2 and upper.isalpha() and upper in phonenumbers.SUPPORTED_REGIONS | {"XK"}:
        return upper
    return _COUNTRY_NAMES.get(text.lower(), "")


# --- reading a submission ------------------------------------------------------------------


@dataclass
class Submission:
    """A post read against its form: person data, touchpoint facts, ticked consents, errors."""

    person: dict[str, Any] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # by input name, as typed (for re-render)
    tracking: dict[str, str] = field(default_factory=dict)  # utm_*, referrer, page_url
    note_lines: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    consent_texts: list[ConsentText] = field(default_factory=list)
    ticked: set[str] = field(default_factory=set)  # purpose keys
    return_url: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # by input name; "__all__" for the form
    fields: list[FormField] = field(default_factory=list)  # the form's fields, read once


def _clip(value: Any) -> str:
    return str(value or "").replace("\x00", "").strip()[:MAX_VALUE_LENGTH]


def _web_url(value: str) -> str:
    """Only http(s) addresses are kept as referrer/page URL: never a javascript: link."""
    value = value.strip()
    parts = urlsplit(value)
    return value[:2000] if parts.scheme in ("http", "https") and parts.netloc else ""


def _is_ticked(value: str) -> bool:
    return value.strip().lower() not in ("", "0", "false", "off", "no")


def read_submission(
    form: WebForm,
    data: Mapping[str, Any],
    *,
    fields: list[FormField] | None = None,
    consent_texts: list[ConsentText] | None = None,
) -> Submission:
    """Map a post (our names or Web-to-Lead names) onto person fields and check it.

    Errors name the input (as posted on our form) and say what to fix; an
    unknown country is not an error: the text is kept in the touchpoint note.
    `fields` and `consent_texts` are the form's, when the caller has read them already.
    """
    sub = Submission()
    fields = sub.fields = form_fields(form) if fields is None else fields
    # Salesforce names for our fields (and our names for the standard ones not on the form).
    for spec in STANDARD_FIELDS:
        raw = data.get(spec.name)
        if raw is None:
            raw = next((data.get(a) for a in spec.aliases if data.get(a) not in (None, "")), None)
        if raw is None:
            continue
        value = _clip(raw)
        sub.values[spec.name] = value
    for ff in fields:
        if ff.spec.is_custom and ff.input_name in data:
            sub.values[ff.input_name] = _clip(data.get(ff.input_name))

    # Required and length checks, on the form's own fields.
    for ff in fields:
        value = sub.values.get(ff.input_name, "")
        if ff.required and not value:
            sub.errors[ff.input_name] = f"{ff.label} is required."
        elif len(value) > ff.spec.max_length:
            sub.errors[ff.input_name] = (
                f"{ff.label}: use at most {ff.spec.max_length} characters (got {len(value)})."
            )

    # Standard fields become person data (also when posted Web-to-Lead style without being on the form).
    custom_values: dict[str, Any] = {}
    for spec in STANDARD_FIELDS:
        value = sub.values.get(spec.name, "")
        if not value or spec.name in sub.errors:
            continue
        if len(value) > spec.max_length:
            sub.errors[spec.name] = f"{spec.label}: use at most {spec.max_length} characters."
        elif spec.name == "message":
            sub.note_lines.insert(0, value)
        elif spec.name == "country":
            code = country_code(value)
            if code:
                sub.person["country"] = code
            else:
                sub.note_lines.append(f"Country: {value}")
        else:
            sub.person[spec.name] = value
    for ff in fields:
        if ff.spec.is_custom:
            value = sub.values.get(ff.input_name, "")
            if ff.spec.input_type == "checkbox":
                custom_values[ff.name.removeprefix("custom:")] = _is_ticked(value)
            elif value and ff.input_name not in sub.errors:
                custom_values[ff.name.removeprefix("custom:")] = value
    if custom_values:
        sub.person["custom_fields"] = custom_values
    lead_source = _clip(data.get("lead_source"))[:100]
    source = lead_source or form.source or "Web form"
    sub.person["source"] = source[:100]

    # Tracking, consents, return address, everything else kept on the touchpoint.
    for name in TRACKING_FIELDS:
        value = _clip(data.get(name))[:2000]
        if name in ("referrer", "page_url"):
            value = _web_url(value)
        if value:
            sub.tracking[name] = value
    sub.consent_texts = form_consent_texts(form) if consent_texts is None else consent_texts
    for text in sub.consent_texts:
        if _is_ticked(str(data.get(CONSENT_PREFIX + text.purpose.key, ""))):
            sub.ticked.add(text.purpose.key)
    if not form.redirect_url:  # a retURL leads only to the form's own sites
        sub.return_url = redirects.allowed_return_url(str(data.get("retURL") or ""), form.sites)
    known = {spec.name for spec in STANDARD_FIELDS} | {
        a for s in STANDARD_FIELDS for a in s.aliases
    }
    known |= {ff.input_name for ff in fields} | _CONTROL_FIELDS
    for name in list(data.keys())[:200]:
        if name in known or name.startswith(CONSENT_PREFIX) or len(sub.extra) >= MAX_EXTRA_FIELDS:
            continue
        value = _clip(data.get(name))[:500]
        if value:
            sub.extra[str(name)[:100]] = value
    for name in ("mobile",):  # an alias used as phone above is not extra; a second number is
        if data.get(name) and sub.values.get("phone") != _clip(data.get(name)):
            sub.extra[name] = _clip(data.get(name))[:500]
    for name, value in sub.extra.items():
        sub.note_lines.append(f"{W2L_EXTRA_LABELS.get(name, name)}: {value}")
    _check_contact(sub)
    return sub


def input_name_for_error(key: str) -> str:
    """Where a service error about `key` goes on the public form."""
    if key.startswith("custom_fields."):
        return CUSTOM_PREFIX + key.removeprefix("custom_fields.")
    if key in STANDARD_BY_NAME:
        return key
    return "__all__"


# --- capturing a submission ----------------------------------------------------------------


def _check_contact(sub: Submission) -> None:
    """Check the email, phone and custom values now, so every error shows at once.

    A bad phone is an error when the form asks for it; posted Web-to-Lead style
    without the field on the form, it goes to the note instead of losing the lead.
    """
    email = sub.person.get("email")
    if email and "email" not in sub.errors:
        try:
            clean_email(email)
        except ValidationError as exc:
            sub.errors["email"] = " ".join(exc.messages)
    phone = sub.person.get("phone")
    if phone and "phone" not in sub.errors:
        try:
            clean_phone(phone, country=str(sub.person.get("country") or ""))
        except ValidationError as exc:
            if any(ff.name == "phone" for ff in sub.fields):
                sub.errors["phone"] = " ".join(exc.messages)
            else:
                sub.person.pop("phone")
                sub.note_lines.append(f"Phone: {phone}")
    custom = sub.person.get("custom_fields")
    if custom:
        try:
            sub.person["custom_fields"] = clean_custom_fields(CustomFieldEntity.PERSON, custom)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                sub.errors.setdefault(input_name_for_error(key), " ".join(messages))


def submission_actor(form: WebForm) -> Actor:
    """Who a web form's captures are recorded as, in the audit trail and stage history."""
    return Actor.system(f"web form {form.key}")


def submission_touchpoint(
    form: WebForm, sub: Submission, occurred_at: dt.datetime | None
) -> TouchpointIn:
    """The touchpoint a submission adds to its person."""
    tracking = sub.tracking
    return TouchpointIn(
        kind=TouchpointKind.FORM_FILL,
        occurred_at=occurred_at,
        campaign=form.campaign,
        channel="web form",
        utm={k: v for k, v in tracking.items() if k in UTM_FIELDS},
        referrer=tracking.get("referrer", ""),
        page_url=tracking.get("page_url", ""),
        form_id=form.pk,
        note="\n".join(sub.note_lines),
        detail={"form": form.key, **({"extra": sub.extra} if sub.extra else {})},
    )


def capture_submission(
    *,
    form: WebForm,
    sub: Submission,
    proof: consents.Proof,
    base_url: str = "",
    occurred_at: dt.datetime | None = None,
    check_duplicates: bool = True,
    notify: list[str] | None = None,
) -> CaptureResult:
    """Capture the person behind a checked submission, record the consents they ticked,
    and queue the double opt-in and notification emails (sent after the commit).

    `occurred_at` is when the visitor sent it, for a submission captured later
    from the inbox (which checks the people it created for duplicates in one
    batch: `check_duplicates=False`). `notify`: the addresses `notify_addresses`
    gives for the form, when the caller has them already. Raises ValidationError
    naming the posted input when the person data is refused.
    """
    if sub.errors:
        raise ValidationError(sub.errors)
    # All or nothing, inside the caller's transaction when there is one (the inbox's):
    # nothing here catches an error and goes on, so no savepoint is needed (two round
    # trips fewer per capture).
    with transaction.atomic(savepoint=False):
        result = capture_person(
            actor=submission_actor(form),
            data=sub.person,
            touchpoint=submission_touchpoint(form, sub, occurred_at),
            check_duplicates=check_duplicates,
        )
        person = result.person
        pending = []
        for text in sub.consent_texts:
            if text.purpose.key in sub.ticked:
                given = consents.record_consent(
                    person=person, text=text, proof=proof, double_opt_in=form.double_opt_in
                )
                if given.status == ConsentStatus.PENDING:
                    pending.append((given, text))
        confirmations = confirmation_emails(form, person, sub, pending, base_url)
        if confirmations and not claim_confirmation_emails(
            [(confirmations[0]["to"], form.pk)], now=occurred_at
        ):
            confirmations = []  # one was sent to this address for this form lately
        for kwargs in [
            *confirmations,
            *notification_emails(
                form,
                person,
                result.created,
                sub,
                base_url,
                notify_addresses(form) if notify is None else notify,
            ),
        ]:
            queue_email(**kwargs)
    return result


def notify_addresses(form: WebForm) -> list[str]:
    """Who is told of the form's submissions: its active recipients with an address."""
    return list(
        form.notify.filter(is_active=True).exclude(email="").values_list("email", flat=True)
    )


def confirmation_emails(
    form: WebForm,
    person: Person,
    sub: Submission,
    pending: list[tuple[Consent, ConsentText]],
    base_url: str,
) -> list[dict[str, Any]]:
    """The double opt-in email a capture queues (`queue_email`'s arguments): one for all
    the consents left pending, to the address as typed."""
    typed_email = str(sub.person.get("email") or person.email)
    if not (pending and typed_email):
        return []
    return [
        {
            "kind": "consent_confirmation",
            "to": typed_email,
            "subject": f"Please confirm: {form.name}",
            "person": person,
            "context": {
                "first_name": person.first_name,
                "form_name": form.name,
                "purposes": [text.text for _, text in pending],
                "confirm_url": consents.confirmation_url(
                    person, [c for c, _ in pending], base_url=base_url
                ),
                "expires_days": consents.confirmation_max_age().days,
            },
        }
    ]


def notification_emails(
    form: WebForm,
    person: Person,
    created: bool,
    sub: Submission,
    base_url: str,
    addresses: list[str],
) -> list[dict[str, Any]]:
    """The emails telling the form's recipients of a capture (`queue_email`'s arguments)."""
    labels = {ff.input_name: ff.label for ff in sub.fields}
    shown = [
        (labels[name], value)
        for name, value in sub.values.items()
        if name in labels and value and name != "message"
    ]
    return [
        {
            "kind": "form_notification",
            "to": address,
            "subject": f"{form.name}: {person_summary(person)}",
            "context": {
                "form_name": form.name,
                "is_new": created,
                "person_name": person_summary(person),
                "person_email": person.email,
                "person_url": f"{(base_url or settings.TANDEM_BASE_URL).rstrip('/')}/people/{person.pk}/",
                "fields": shown,
                "note": "\n".join(sub.note_lines),
            },
        }
        for address in addresses
    ]


def person_summary(person: Person) -> str:
    return person.full_name or person.email or f"Person #{person.pk}"


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

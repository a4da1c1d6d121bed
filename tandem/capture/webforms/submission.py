"""Web forms, submitted: spam checks, reading a post, and turning it into a capture.

Posts may use Salesforce Web-to-Lead names (`state`, `zip`, `lead_source`,
`description`, `retURL`, ...) so an existing form can point at Tandem
unchanged. Every submission goes through `capture_person`: there is no second
find-or-create here.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver

from tandem.accounts.actor import Actor
from tandem.campaigns.models import TouchpointKind
from tandem.campaigns.services import UTM_FIELDS
from tandem.capture import consent as consents
from tandem.capture import redirects
from tandem.capture.email import claim_confirmation_emails, queue_email
from tandem.capture.models import Consent, ConsentStatus, ConsentText, WebForm
from tandem.capture.services import CaptureResult, TouchpointIn, capture_person
from tandem.capture.webforms.definition import (
    CONSENT_PREFIX,
    CONTACT_REQUEST_FIELD,
    CONTROL_FIELDS,
    CUSTOM_PREFIX,
    HONEYPOT_FIELD,
    MAX_EXTRA_FIELDS,
    MAX_VALUE_LENGTH,
    STANDARD_BY_NAME,
    STANDARD_FIELDS,
    TIMESTAMP_FIELD,
    TIMESTAMP_SALT,
    TRACKING_FIELDS,
    W2L_EXTRA_LABELS,
    FormField,
    form_consent_texts,
    form_fields,
)
from tandem.people.custom_fields import clean_custom_fields
from tandem.people.models import CustomFieldEntity, Person
from tandem.people.normalize import clean_email, clean_phone

# --- the signed "form shown at" time ------------------------------------------------------


def min_fill_seconds() -> int:
    return int(getattr(settings, "TANDEM_FORM_MIN_FILL_SECONDS", 3))


# The signer of the fill times, made once per process (making one per post cost as much
# as checking the signature) and again when the secret keys change (tests change them).
_signer: list[signing.TimestampSigner] = []


def _shown_signer() -> signing.TimestampSigner:
    if not _signer:
        _signer.append(signing.TimestampSigner(salt=TIMESTAMP_SALT))
    return _signer[0]


@receiver(setting_changed)
def _forget_signer(*, setting: str, **kwargs: Any) -> None:
    if setting in ("SECRET_KEY", "SECRET_KEY_FALLBACKS"):
        _signer.clear()


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
        shown = _shown_signer().unsign_object(token)  # as signing.loads(token, salt=...)
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
    contact_request: bool = False  # the visitor asked to be contacted (CONTACT_REQUEST_FIELD)


def _clip(value: Any) -> str:
    return str(value or "").replace("\x00", "").strip()[:MAX_VALUE_LENGTH]


def _web_url(value: str) -> str:
    """Only http(s) addresses are kept as referrer/page URL: never a javascript: link."""
    value = value.strip()
    parts = urlsplit(value)
    return value[:2000] if parts.scheme in ("http", "https") and parts.netloc else ""


def is_ticked(value: str) -> bool:
    return value.strip().lower() not in ("", "0", "false", "off", "no")


# Names a post may carry that are not extra: the standard fields, their Web-to-Lead
# aliases and the control fields (each form adds its own fields' names).
_KNOWN_NAMES = frozenset(
    [*(spec.name for spec in STANDARD_FIELDS), *(a for s in STANDARD_FIELDS for a in s.aliases)]
) | frozenset(CONTROL_FIELDS)


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
        if raw is None and spec.aliases:
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
                custom_values[ff.name.removeprefix("custom:")] = is_ticked(value)
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
        if is_ticked(str(data.get(CONSENT_PREFIX + text.purpose.key, ""))):
            sub.ticked.add(text.purpose.key)
    sub.contact_request = is_ticked(str(data.get(CONTACT_REQUEST_FIELD) or ""))
    if not form.redirect_url:  # a retURL leads only to the form's own sites
        sub.return_url = redirects.allowed_return_url(str(data.get("retURL") or ""), form.sites)
    known = _KNOWN_NAMES.union(ff.input_name for ff in fields)
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
        detail={
            "form": form.key,
            **({"extra": sub.extra} if sub.extra else {}),
            **({"contact_request": True} if sub.contact_request else {}),
        },
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
    the consents left pending, to the address as typed.

    The link is not in it yet: the sending signs it (`email.confirmation_link`), so it
    is valid for its whole lifetime from the day the email goes out, and a burst's
    drain spends nothing on it before its people are made.
    """
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
                "confirm": {"person": person.pk, "consents": sorted(c.pk for c, _ in pending)},
                "base_url": base_url,
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

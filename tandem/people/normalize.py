"""Normalised forms of emails, phones, domains and names (ADR 0003: person identity)."""

from __future__ import annotations

import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email


def normalize_email(raw: str) -> str:
    """Trimmed, NFC, lower-cased: the form that is stored, indexed and unique."""
    return unicodedata.normalize("NFC", raw.strip()).lower()


def clean_email(raw: str, *, field: str = "email") -> tuple[str, str]:
    """(as typed but trimmed, normalised) or a ValidationError naming `field`."""
    typed = unicodedata.normalize("NFC", (raw or "").strip())
    if not typed:
        raise ValidationError({field: "Enter an email address."})
    try:
        validate_email(typed, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError({field: f"{typed!r} is not a valid email address: {exc}"}) from None
    return typed, normalize_email(typed)


def clean_phone(raw: str, *, country: str = "", field: str = "phone") -> tuple[str, str]:
    """(E.164, original) or a ValidationError naming `field`.

    A number without a leading + is read in the person's country, else in
    TANDEM_DEFAULT_REGION.
    """
    original = (raw or "").strip()
    if not original:
        raise ValidationError({field: "Enter a phone number."})
    region = (country or getattr(settings, "TANDEM_DEFAULT_REGION", "") or "US").upper()
    try:
        parsed = phonenumbers.parse(original, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError({field: f"{original!r} is not a phone number: {exc}"}) from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError({field: f"{original!r} is not a valid phone number for {region}."})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), original[:50]


def name_key(value: str) -> str:
    return unicodedata.normalize("NFC", (value or "").strip()).lower()


def normalize_domain(raw: str) -> str:
    value = (raw or "").strip().lower()
    for prefix in ("https://", "http://"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    value = value.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0]
    if value.startswith("www."):
        value = value[4:]
    return value.rstrip(".")


def clean_domain(raw: str, *, field: str = "domain") -> str:
    value = normalize_domain(raw)
    if not value:
        return ""
    try:
        value.encode("idna")
    except UnicodeError:
        raise ValidationError({field: f"{raw!r} is not a domain name."}) from None
    if "." not in value or " " in value or len(value) > 253:
        raise ValidationError({field: f"{raw!r} is not a domain name."})
    return value


def clean_country(raw: str, *, field: str = "country") -> str:
    value = (raw or "").strip().upper()
    if not value:
        return ""
    if (
        len(value) != 2
        or not value.isalpha()
        or value not in phonenumbers.SUPPORTED_REGIONS | {"XK"}
    ):
        raise ValidationError(
            {field: f"{raw!r} is not a two-letter ISO country code (e.g. DE, US)."}
        )
    return value

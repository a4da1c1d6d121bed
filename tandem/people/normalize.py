"""Normalised forms of emails, phones, domains and names (ADR 0003: person identity)."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email


def one_line(value: str) -> str:
    """Text for a one-line field (a name, a title, a city): each run of whitespace
    holding a line break, a tab or a no-break space becomes one space, so a name
    pasted with its line break or a spreadsheet cell's Alt+Enter reads as one line
    everywhere it is shown, sent or exported. Plain text is returned as it is (a
    C-speed check: imports call this for every cell)."""
    if value.isprintable():
        return value
    return " ".join(value.split())


def normalize_email(raw: str) -> str:
    """Trimmed, NFC, lower-cased: the form that is stored, indexed and unique."""
    return unicodedata.normalize("NFC", raw.strip()).lower()


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_SIMPLE_EMAIL = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@((?:{_LABEL}\.)+{_LABEL})")
# email_validator refuses these domains and everything under them.
_SPECIAL_USE = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_DOUBLE_DASH = re.compile(r"(?:^|\.)[^.]{2}--")


def _is_plain_email(value: str) -> bool:
    """An address email_validator surely accepts unchanged (ASCII dot-atom, sane domain)."""
    if len(value) > 254 or not value.isascii():
        return False
    match = _SIMPLE_EMAIL.fullmatch(value)
    if match is None:
        return False
    local, domain = match.group(1), match.group(2).lower()
    if len(local) > 64 or len(domain) > 253 or not domain[-1].isalpha():
        return False
    if _DOUBLE_DASH.search(domain):  # xn-- punycode and the like: let the validator judge
        return False
    return domain.rpartition(".")[2] not in _SPECIAL_USE


def clean_email(raw: str, *, field: str = "email") -> tuple[str, str]:
    """(as typed but trimmed, normalised) or a ValidationError naming `field`.

    The shape nearly every address has (plain ASCII, a sane domain) is decided
    by a precompiled pattern in a few µs; everything else, and every rejection,
    goes through email_validator (100-200 µs). tests/test_normalize_email.py
    compares both over many generated inputs.
    """
    typed = unicodedata.normalize("NFC", (raw or "").strip())
    if not typed:
        raise ValidationError({field: "Enter an email address."})
    if _is_plain_email(typed):
        return typed, typed.lower()
    try:
        validate_email(typed, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError({field: f"{typed!r} is not a valid email address: {exc}"}) from None
    return typed, normalize_email(typed)


# What phonenumbers' parse errors mean, in words (its own messages name its internals).
_PARSE_PROBLEMS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: (
        "its country code is missing or unknown (write it with + and the code, e.g. +44 20 ...)"
    ),
    phonenumbers.NumberParseException.NOT_A_NUMBER: "it does not look like a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "it is too short",
    phonenumbers.NumberParseException.TOO_LONG: "it is too long",
}


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
        why = _PARSE_PROBLEMS.get(exc.error_type, "it does not look like a phone number")
        raise ValidationError({field: f"{original!r} is not a phone number: {why}."}) from None
    if not phonenumbers.is_valid_number(parsed):
        reason = phonenumbers.is_possible_number_with_reason(parsed)
        why = {
            phonenumbers.ValidationResult.TOO_SHORT: " (too short)",
            phonenumbers.ValidationResult.TOO_LONG: " (too long)",
            phonenumbers.ValidationResult.INVALID_LENGTH: " (wrong number of digits)",
            phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: " (add the area code)",
        }.get(reason, "")
        raise ValidationError(
            {field: f"{original!r} is not a valid phone number for {region}{why}."}
        )
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

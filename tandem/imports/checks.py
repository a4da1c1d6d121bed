"""Phone checks at import speed, with exactly the answers of people/normalize.py.

`clean_phone` takes 100–200 µs a value (phonenumbers' generic parser); a
million rows would spend minutes there. The shape nearly every file holds —
a number written with digits, spaces, dashes, dots and parentheses — is
decided here with precompiled patterns from the library's own data in a few
µs, and so is its rejection when it parses but is no valid number (the same
message). Anything else goes through `clean_phone`, so the stored value and
each error message are the ones a web form would give.
tests/test_checks.py compares both paths over many generated inputs. (Emails
have their fast path in `clean_email` itself.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from django.conf import settings
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata
from phonenumbers import phonenumberutil as pnu

from tandem.people.normalize import clean_phone

# --- phone -----------------------------------------------------------------------------------

_PHONE_SHAPE = re.compile(r"\+?\(?[0-9][0-9 ().\-/]*")
_NOT_DIGITS = str.maketrans("", "", "+ ().-/")
_FAILED_LENGTHS = (
    pnu.ValidationResult.TOO_SHORT,
    pnu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    pnu.ValidationResult.INVALID_LENGTH,
)


@dataclass(frozen=True)
class _Desc:
    lengths: frozenset[int]
    pattern: re.Pattern[str] | None

    def matches(self, national: str) -> bool:
        if self.lengths and len(national) not in self.lengths:
            return False
        return self.pattern is not None and self.pattern.fullmatch(national) is not None


class _Region:
    """One region's number patterns, precompiled; validity per number length is one
    pattern for the general description and one alternation of the number kinds."""

    def __init__(self, metadata: PhoneMetadata, general: _Desc, kinds: tuple[_Desc, ...]):
        self.metadata = metadata
        self.country_code: int = metadata.country_code or 0
        self.general = general
        self.kinds = kinds  # any match makes a number valid
        self.leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
        prefix = metadata.national_prefix_for_parsing
        self.national_prefix = re.compile(prefix) if prefix else None
        idd = metadata.international_prefix
        self.international_prefix = re.compile(idd) if idd else None
        self._by_length: dict[int, tuple[re.Pattern[str], re.Pattern[str]] | None] = {}

    def _checks(self, length: int) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
        if length not in self._by_length:
            general = self.general
            kinds = [
                d.pattern.pattern
                for d in self.kinds
                if d.pattern is not None and (not d.lengths or length in d.lengths)
            ]
            if (
                general.pattern is None
                or (general.lengths and length not in general.lengths)
                or not kinds
            ):
                self._by_length[length] = None
            else:
                either = "|".join(f"(?:{k})" for k in kinds)
                self._by_length[length] = (general.pattern, re.compile(either))
        return self._by_length[length]

    def is_valid(self, national: str) -> bool:
        checks = self._checks(len(national))
        if checks is None:
            return False
        general, kinds = checks
        return general.fullmatch(national) is not None and kinds.fullmatch(national) is not None


def _desc(desc: object) -> _Desc | None:
    if desc is None:
        return None
    pattern = getattr(desc, "national_number_pattern", None)
    return _Desc(
        frozenset(getattr(desc, "possible_length", ()) or ()),
        re.compile(pattern) if pattern else None,
    )


@lru_cache(maxsize=400)
def _region(code: str) -> _Region | None:
    metadata = PhoneMetadata.metadata_for_region(code, None)
    if metadata is None:
        return None
    general = _desc(metadata.general_desc) or _Desc(frozenset(), None)
    names = ["premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail", "fixed_line"]  # fmt: skip
    if not metadata.same_mobile_and_fixed_line_pattern:
        names.append("mobile")
    kinds = tuple(d for d in (_desc(getattr(metadata, n, None)) for n in names) if d is not None)
    return _Region(metadata, general, kinds)


def _is_valid(country_code: int, national: str) -> bool | None:
    """phonenumbers.is_valid_number for (country code, national number); None: not sure."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions or "001" in regions:
        return None
    if len(regions) == 1:
        region = _region(regions[0])
        return None if region is None else region.is_valid(national)
    for code in regions:  # a shared country code (+1, +7, +44...): the first region that claims it
        region = _region(code)
        if region is None:
            continue
        if region.leading is not None:
            if region.leading.match(national):
                return region.is_valid(national)
        elif region.is_valid(national):
            return True
    return False


def _country_code(digits: str) -> tuple[int, str]:
    """(country calling code, the rest), as phonenumbers reads the digits after a +."""
    if digits[0] != "0":
        for length in (1, 2, 3):
            code = int(digits[:length])
            if code in COUNTRY_CODE_TO_REGION_CODE:
                return code, digits[length:]
    return 0, digits


def _fast_e164(original: str, region_code: str) -> str | None:
    """E.164 for the common shapes, "" when such a number is surely not valid, or None to
    let phonenumbers decide."""
    if len(original) > 50 or not _PHONE_SHAPE.fullmatch(original):
        return None
    digits = original.translate(_NOT_DIGITS)
    if not digits.isdigit() or not 3 <= len(digits) <= 20:
        return None
    if original[0] == "+":
        country_code, national = _country_code(digits)
        regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
        if not country_code or not regions or regions[0] == "001":
            return None
        main = _region(regions[0])
        if main is None or (main.national_prefix and main.national_prefix.match(national)):
            return None  # "+44 (0)20...": phonenumbers strips the 0; let it
    else:
        if region_code not in phonenumbers.SUPPORTED_REGIONS:
            return None
        home = _region(region_code)
        if home is None:
            return None
        if home.international_prefix and home.international_prefix.match(digits):
            return None  # "0049 30...": dialled from abroad
        country_code = home.country_code
        if digits.startswith(str(country_code)):
            return None  # "49 30...": maybe a country code without its +
        _, stripped, _ = pnu._maybe_strip_national_prefix_carrier_code(digits, home.metadata)
        national = digits
        if pnu._test_number_length(stripped, home.metadata) not in _FAILED_LENGTHS:
            national = stripped
    if not 2 <= len(national) <= 17:
        return None
    valid = _is_valid(country_code, national)
    if valid is None:
        return None  # unsure: clean_phone gives the verdict and the message
    return f"+{country_code}{national}" if valid else ""


def check_phone(raw: str, *, country: str = "", field: str = "phone") -> tuple[str, str]:
    """(E.164, original) as `clean_phone` returns, or its ValidationError."""
    original = (raw or "").strip()
    region = (country or getattr(settings, "TANDEM_DEFAULT_REGION", "") or "US").upper()
    e164 = _fast_e164(original, region) if original else None
    if e164:
        return e164, original[:50]
    # Not valid (""), or not sure (None): clean_phone decides, and words its refusal
    # (bad values are few, so their slower path costs little).
    return clean_phone(raw, country=country, field=field)

"""The import's fast phone check answers exactly as people/normalize.py does."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from tandem.imports.checks import check_phone
from tandem.people.normalize import clean_phone


def outcome(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ValidationError as exc:
        return ("rejected", exc.message_dict)


def phone_inputs() -> list[tuple[str, str]]:
    """Every region's example numbers in three formats, with digits changed at random."""
    rng = random.Random(7)
    kinds = [PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE]
    out: list[tuple[str, str]] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in kinds:
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            for fmt in (
                PhoneNumberFormat.E164,
                PhoneNumberFormat.INTERNATIONAL,
                PhoneNumberFormat.NATIONAL,
            ):
                text = phonenumbers.format_number(example, fmt)
                out.append((text, region))
                digits = [i for i, c in enumerate(text) if c.isdigit()]
                for _ in range(4):
                    chars = list(text)
                    for _ in range(rng.randint(1, 3)):
                        chars[rng.choice(digits)] = str(rng.randint(0, 9))
                    mutated = "".join(chars)
                    if rng.random() < 0.15:
                        mutated += str(rng.randint(0, 9))
                    out.append((mutated, rng.choice([region, "US", "DE", "GB"])))
    odd = [
        "+1 (415) 555-0100", "(415) 555-0100", "1-415-555-0100", "+44 (0)20 7946 0018",
        "0044 20 7946 0018", "030/1234567", "+49-30-1234567", "49301234567", "+", "123",
        "+0 123", "+800 1234 5678", "8 912 345 67 89", "+7 912 345 67 89", "ext 12", "",
    ]  # fmt: skip
    out += [(text, region) for text in odd for region in ("US", "DE", "GB", "RU", "XX", "")]
    return out


@pytest.mark.parametrize("chunk", range(4))
def test_phone_check_matches_clean_phone_for_every_region(settings, chunk):
    settings.TANDEM_DEFAULT_REGION = "US"
    inputs = phone_inputs()[chunk::4]
    differences = [
        (raw, region)
        for raw, region in inputs
        if outcome(check_phone, raw, country=region) != outcome(clean_phone, raw, country=region)
    ]
    assert differences == []

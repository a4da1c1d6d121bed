"""clean_email's fast path for plain addresses answers exactly as email_validator does."""

from __future__ import annotations

import random
import string
import unicodedata

from django.core.exceptions import ValidationError
from email_validator import EmailNotValidError, validate_email

from tandem.people.normalize import clean_email, normalize_email


def outcome(fn, raw):
    try:
        return fn(raw)
    except ValidationError as exc:
        return ("error", exc.message_dict)


def validator_only(raw: str) -> tuple[str, str]:
    """What clean_email answers with every address through email_validator."""
    typed = unicodedata.normalize("NFC", (raw or "").strip())
    if not typed:
        raise ValidationError({"email": "Enter an email address."})
    try:
        validate_email(typed, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError({"email": f"{typed!r} is not a valid email address: {exc}"}) from None
    return typed, normalize_email(typed)


def email_inputs() -> list[str]:
    rng = random.Random(3)
    atoms = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
    out = [
        "a@b.co", "a..b@x.com", ".a@x.com", "a.@x.com", "a@x..com", "a@-x.com", "a@x-.com",
        "a@x.c0m", "a@x.123", "a@localhost", "a@x.local", "a@x.test", "a@xn--bcher-kva.com",
        "a@ab--cd.com", "A@EXAMPLE.COM", " a@b.com ", "a@mail.example", "a" * 64 + "@x.com",
        "a" * 65 + "@x.com", "a@" + "b" * 63 + ".com", "a@" + "b" * 64 + ".com",
        "user+tag@sub.domain.org", "é@x.com", "a@é.com", "a@b_c.com", "a b@c.com", '"a"@b.com',
    ]  # fmt: skip
    for _ in range(3000):
        local = ".".join(
            "".join(rng.choice(atoms) for _ in range(rng.randint(0, 6)))
            for _ in range(rng.randint(1, 3))
        )
        labels = [
            "".join(
                rng.choice(string.ascii_lowercase + string.digits + "-_")
                for _ in range(rng.randint(0, 8))
            )
            for _ in range(rng.randint(1, 4))
        ]
        out.append(f"{local}@{'.'.join(labels)}")
    return out


def test_clean_email_answers_as_email_validator_does():
    inputs = email_inputs()
    differences = [
        raw for raw in inputs if outcome(clean_email, raw) != outcome(validator_only, raw)
    ]
    assert differences == []
    # The generated inputs hold both kinds: accepted addresses and rejected ones.
    answers = [outcome(clean_email, raw) for raw in inputs]
    assert sum(isinstance(a, tuple) and a[0] != "error" for a in answers) > 500
    assert sum(a[0] == "error" for a in answers) > 500

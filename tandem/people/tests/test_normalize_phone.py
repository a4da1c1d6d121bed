"""A phone number that cannot be read is refused in words a user can act on."""

import pytest
from django.core.exceptions import ValidationError

from tandem.people.normalize import clean_phone


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("call me", "does not look like a phone number"),
        ("+999 123 4567", "country code is missing or unknown"),
        ("+49 1", "too short"),
        ("12", "not a valid phone number for DE (add the area code)"),
        ("+49 30 12345678901234", "not a valid phone number for DE"),
    ],
)
def test_an_unreadable_number_says_why_in_words(raw: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        clean_phone(raw, country="DE", field="mobile")
    message = refused.value.message_dict["mobile"][0]
    assert says in message
    assert repr(raw) in message
    assert "(1)" not in message and "string supplied" not in message  # not the library's words


def test_a_number_read_in_the_persons_country() -> None:
    assert clean_phone("030 1234567", country="DE") == ("+49301234567", "030 1234567")

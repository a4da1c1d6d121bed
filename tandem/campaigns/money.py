"""Amounts of money as campaigns keep them: Decimal, two places, base currency, not negative."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # max_digits=14, decimal_places=2


def clean_amount(value: Any, field: str, *, required: bool = True) -> Decimal | None:
    """`value` as an exact amount (Decimal, 2 places) ≥ 0; a ValidationError naming `field`.

    Accepts a Decimal, an int or a string ("1250", "1250.5", "1250.50"); a float is
    read through its shortest text, so 0.1 is 0.10. More than two decimals, a
    negative amount, or text that is not a number is refused, never rounded away.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError({field: "Give an amount, e.g. 1250.00."})
        return None
    if isinstance(value, bool):
        raise ValidationError({field: "Give an amount as a number, e.g. 1250.00."})
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError({field: "Give an amount as a number, e.g. 1250.00."}) from None
    if not amount.is_finite():
        raise ValidationError({field: "Give an amount as a number, e.g. 1250.00."})
    if amount < 0:
        raise ValidationError({field: "An amount cannot be negative."})
    if amount > MAX_AMOUNT:
        raise ValidationError({field: f"An amount is at most {MAX_AMOUNT}."})
    if amount != amount.quantize(CENT, rounding=ROUND_DOWN):
        raise ValidationError({field: "Give at most two decimals (cents)."})
    return amount.quantize(CENT)

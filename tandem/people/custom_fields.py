"""Validation of custom field values against the admin's definitions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from tandem.people.models import CustomField, CustomFieldType


def definitions(entity: str) -> list[CustomField]:
    return list(CustomField.objects.filter(entity=entity))


def _coerce(field: CustomField, value: Any) -> Any:
    if field.field_type == CustomFieldType.TEXT:
        if not isinstance(value, str | int | float):
            raise ValueError("must be text")
        return str(value)[:2000]
    if field.field_type == CustomFieldType.NUMBER:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError("must be a number") from None
        if not number.is_finite():
            raise ValueError("must be a finite number")
        return int(number) if number == number.to_integral_value() else float(number)
    if field.field_type == CustomFieldType.DATE:
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError("must be a date as YYYY-MM-DD") from None
    if field.field_type == CustomFieldType.BOOL:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"true", "yes", "1", "on"}:
            return True
        if text in {"false", "no", "0", "off"}:
            return False
        raise ValueError("must be true or false")
    if field.field_type == CustomFieldType.CHOICE:
        text = str(value).strip()
        if text not in field.choices:
            raise ValueError(f"must be one of: {', '.join(field.choices)}")
        return text
    raise ValueError(f"unknown type {field.field_type}")


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_custom_fields(
    entity: str, values: dict[str, Any] | None, *, current: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Merge `values` into `current`, validated. Errors name `custom_fields.<key>`.

    A value of None or "" clears the field (rejected if it is required).
    """
    defs = {f.key: f for f in definitions(entity)}
    result = dict(current or {})
    errors: dict[str, str] = {}
    for key, value in (values or {}).items():
        field = defs.get(key)
        if field is None:
            errors[f"custom_fields.{key}"] = f"There is no custom field {key!r} for {entity}."
            continue
        if _is_empty(value):
            result.pop(key, None)
            continue
        try:
            result[key] = _coerce(field, value)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = f"{field.label} {exc}."
    for key, field in defs.items():
        if field.required and _is_empty(result.get(key)) and f"custom_fields.{key}" not in errors:
            errors[f"custom_fields.{key}"] = f"{field.label} is required."
    if errors:
        raise ValidationError(errors)
    return result

"""Validation of custom field values against the admin's definitions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.core.audit import diff, record_audit, snapshot
from tandem.people.models import CustomField, CustomFieldEntity, CustomFieldType

# Definitions read once per batch of work (see `remembered_definitions`), else every call.
_remembered: ContextVar[dict[str, list[CustomField]] | None] = ContextVar(
    "custom_field_definitions", default=None
)


def definitions(entity: str) -> list[CustomField]:
    cache = _remembered.get()
    if cache is None:
        return list(CustomField.objects.filter(entity=entity))
    if entity not in cache:
        cache[entity] = list(CustomField.objects.filter(entity=entity))
    return cache[entity]


@contextmanager
def remembered_definitions() -> Iterator[None]:
    """Read each entity's definitions once inside the block: for a background batch
    (the capture inbox's drain) that checks hundreds of records in a few seconds. A
    definition changed meanwhile applies from the next batch, as if it had come a
    moment later. Inside another such block, the outer one's reading is kept."""
    if _remembered.get() is not None:
        yield
        return
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def coerce_value(field: CustomField, value: Any) -> Any:
    """One custom field's value as stored, or ValueError saying what it must be.

    The one check of a custom field value: the person and company forms, the API
    and the importer's row check all go through it.
    """
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
            result[key] = coerce_value(field, value)
        except ValueError as exc:
            errors[f"custom_fields.{key}"] = f"{field.label} {exc}."
    for key, field in defs.items():
        if field.required and _is_empty(result.get(key)) and f"custom_fields.{key}" not in errors:
            errors[f"custom_fields.{key}"] = f"{field.label} is required."
    if errors:
        raise ValidationError(errors)
    return result


# --- Defining custom fields (admin only) -------------------------------------

CUSTOM_FIELD_AUDITED = ("entity", "key", "label", "field_type", "required", "choices")
_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,59}")


def _key_from_label(label: str) -> str:
    key = slugify(label).replace("-", "_")
    key = re.sub(r"^[^a-z]+", "", key)
    return key[:60].rstrip("_")


def _clean_choices(field_type: str, choices: Any) -> list[str]:
    if field_type != CustomFieldType.CHOICE:
        return []
    if isinstance(choices, str):
        choices = choices.splitlines()
    if not isinstance(choices, list | tuple):
        raise ValidationError({"choices": "Give the choices as a list, one per line."})
    cleaned: list[str] = []
    for choice in choices:
        text = str(choice).strip()
        if not text or text in cleaned:
            continue
        if len(text) > 100:
            raise ValidationError(
                {"choices": f"Keep each choice under 100 characters: {text[:30]}…"}
            )
        cleaned.append(text)
    if not cleaned:
        raise ValidationError({"choices": "A choice field needs at least one choice."})
    return cleaned


def _clean_definition(
    *, entity: str, key: str, label: str, field_type: str, exclude_pk: int | None = None
) -> tuple[str, str]:
    """Check a definition's entity, label, type and key; returns (key, label)."""
    errors: dict[str, str] = {}
    label = (label or "").strip()
    if not label:
        errors["label"] = "Give the field a name."
    elif len(label) > 100:
        errors["label"] = "Use at most 100 characters."
    if entity not in CustomFieldEntity.values:
        errors["entity"] = f"Use one of: {', '.join(CustomFieldEntity.values)}."
    if field_type not in CustomFieldType.values:
        errors["field_type"] = f"Use one of: {', '.join(CustomFieldType.values)}."
    key = (key or "").strip() or _key_from_label(label)
    if not _KEY_RE.fullmatch(key):
        errors["key"] = (
            "Use lower-case letters, digits and underscores, starting with a letter "
            "(at most 60), e.g. contract_value."
        )
    elif entity in CustomFieldEntity.values and (
        CustomField.objects.filter(entity=entity, key=key)
        .exclude(pk__in=[exclude_pk] if exclude_pk is not None else [])
        .exists()
    ):
        errors["key"] = f"There is already a {entity} field with the key {key!r}."
    if errors:
        raise ValidationError(errors)
    return key, label


def _has_values(field: CustomField) -> bool:
    """Whether any record (deleted ones included) holds a value under this field's key."""
    from tandem.people.models import Company, Person

    model = Person if field.entity == CustomFieldEntity.PERSON else Company
    return model.objects.filter(custom_fields__has_key=field.key).exists()


def create_custom_field(
    *,
    actor: Actor,
    entity: str,
    label: str,
    field_type: str,
    key: str = "",
    required: bool = False,
    choices: Any = None,
) -> CustomField:
    """Add a field to people or companies. The key is what the API and imports use."""
    require(actor, "people.manage_custom_fields")
    key, label = _clean_definition(entity=entity, key=key, label=label, field_type=field_type)
    cleaned_choices = _clean_choices(field_type, choices)
    with transaction.atomic():
        last = (
            CustomField.objects.filter(entity=entity)
            .order_by("-position")
            .values_list("position", flat=True)
            .first()
        )
        field = CustomField.objects.create(
            entity=entity,
            key=key,
            label=label,
            field_type=field_type,
            required=bool(required),
            choices=cleaned_choices,
            position=(last or 0) + 1,
        )
        record_audit(
            actor=actor,
            event="created",
            target=field,
            changes=diff({}, snapshot(field, CUSTOM_FIELD_AUDITED)),
        )
    return field


def update_custom_field(*, actor: Actor, field: CustomField, data: dict[str, Any]) -> CustomField:
    """Change a field's label, required flag, choices, and, while no record holds a value, key and type.

    Values are stored under the key in each record's JSON, so renaming the key
    or changing the type once values exist would silently orphan or invalidate
    them; make a new field instead.
    """
    require(actor, "people.manage_custom_fields")
    unknown = set(data) - {"label", "key", "field_type", "required", "choices", "entity"}
    if unknown:
        raise ValidationError(f"Unknown custom field settings: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        field = CustomField.objects.select_for_update().get(pk=field.pk)
        if data.get("entity", field.entity) != field.entity:
            raise ValidationError(
                {"entity": "A field cannot move between people and companies; make a new one."}
            )
        new_type = data.get("field_type", field.field_type)
        new_key = data.get("key", field.key) or field.key
        if (new_key != field.key or new_type != field.field_type) and _has_values(field):
            name = "key" if new_key != field.key else "field_type"
            raise ValidationError(
                {name: "Records already hold values for this field, so its key and type stay."}
            )
        key, label = _clean_definition(
            entity=field.entity,
            key=new_key,
            label=data.get("label", field.label),
            field_type=new_type,
            exclude_pk=field.pk,
        )
        choices = _clean_choices(new_type, data.get("choices", field.choices))
        before = snapshot(field, CUSTOM_FIELD_AUDITED)
        field.key, field.label, field.field_type = key, label, new_type
        field.required = bool(data.get("required", field.required))
        field.choices = choices
        changes = diff(before, snapshot(field, CUSTOM_FIELD_AUDITED))
        if changes:
            field.save()
            record_audit(actor=actor, event="changed", target=field, changes=changes)
    return field


def delete_custom_field(*, actor: Actor, field: CustomField) -> None:
    """Remove a definition. Values already stored stay in the records' JSON, unshown."""
    require(actor, "people.manage_custom_fields")
    with transaction.atomic():
        field = CustomField.objects.select_for_update().get(pk=field.pk)
        record_audit(
            actor=actor,
            event="deleted",
            target=field,
            changes={k: [v, None] for k, v in snapshot(field, CUSTOM_FIELD_AUDITED).items()},
        )
        field.delete()

"""The checks of the deal services: each value cleaned or refused with a message naming
its field (ValidationError({field: message})), money in `Decimal` to the cent.

`amount_base = amount × exchange_rate`, rounded half-up to the cent; the base currency
(settings.TANDEM_BASE_CURRENCY) has the rate 1, any other needs its rate, above 0.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from tandem.accounts.models import User
from tandem.accounts.permissions import can
from tandem.deals.models import ContactRole, Pipeline, PipelineStage
from tandem.deals.pipelines import default_pipeline
from tandem.people.models import Company, Person

CENT = Decimal("0.01")
AMOUNT_MAX = Decimal("999999999999.99")  # max_digits 14, 2 places
AMOUNT_BASE_MAX = Decimal("99999999999999.99")  # max_digits 16
RATE_MAX = Decimal("9999999999.99999999")  # max_digits 18, 8 places
NAME_MAX = 200
TEXT_MAX = 10_000
NOTE_MAX = 500
COMPETITOR_MAX = 200
CURRENCY = re.compile(r"^[A-Z]{3}$")


def base_currency() -> str:
    return str(settings.TANDEM_BASE_CURRENCY)


# --- checks --------------------------------------------------------------------------------


def clean_decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise ValidationError({field: "Give a number."})
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise ValidationError({field: "Give a number, e.g. 12500.00."}) from None
    if not number.is_finite():
        raise ValidationError({field: "Give a number, e.g. 12500.00."})
    return number


def clean_amount(value: Any) -> Decimal:
    amount = clean_decimal(value, "amount")
    if amount < 0:
        raise ValidationError({"amount": "The amount cannot be negative."})
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValidationError({"amount": "Give the amount in cents at most (2 decimal places)."})
    if amount > AMOUNT_MAX:
        raise ValidationError({"amount": f"At most {AMOUNT_MAX:,}."})
    return amount.quantize(CENT)


def clean_currency(value: Any) -> str:
    if not isinstance(value, str) or not CURRENCY.match(value.strip().upper()):
        raise ValidationError({"currency": "Give a three-letter ISO 4217 code, e.g. EUR or USD."})
    return value.strip().upper()


def clean_rate(value: Any) -> Decimal:
    rate = clean_decimal(value, "exchange_rate")
    if rate <= 0:
        raise ValidationError({"exchange_rate": "The rate must be greater than 0."})
    if rate != rate.quantize(Decimal("1e-8"), rounding=ROUND_HALF_UP) or rate > RATE_MAX:
        raise ValidationError(
            {"exchange_rate": "Give at most 8 decimal places and at most 10 digits before them."}
        )
    return rate


def base_amount(amount: Decimal, rate: Decimal) -> Decimal:
    """The amount in the base currency, rounded half-up to the cent."""
    value = (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    if value > AMOUNT_BASE_MAX:
        raise ValidationError(
            {"exchange_rate": "The amount at this rate is too large for the base currency."}
        )
    return value


def money_at_rate(
    amount: Decimal, currency: str, rate: Any, rate_given: bool
) -> tuple[Decimal, Decimal]:
    """(rate, amount_base) for `amount` in `currency` at `rate` (None: not given)."""
    if currency == base_currency():
        if rate_given and rate is not None and clean_rate(rate) != 1:
            raise ValidationError(
                {"exchange_rate": f"{currency} is the base currency: its rate is 1."}
            )
        return Decimal("1"), amount
    if rate is None:
        raise ValidationError(
            {"exchange_rate": f"Give the rate from {currency} to {base_currency()}."}
        )
    rate = clean_rate(rate)
    return rate, base_amount(amount, rate)


def clean_text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: "Write it as text."})
    text = value.strip()
    if required and not text:
        raise ValidationError({field: "Give the deal a name."})
    if len(text) > limit:
        raise ValidationError({field: f"At most {limit:,} characters (got {len(text):,})."})
    return text


def clean_pk(value: Any, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63:
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
        if 0 < number < 2**63:
            return number
    raise ValidationError({field: "Give an id (a whole number)."})


def clean_company(value: Any) -> Company | None:
    if value is None or value == "":
        return None
    if isinstance(value, Company):
        company = value if value.deleted_at is None else None
    else:
        company = Company.objects.filter(
            pk=clean_pk(value, "company"), deleted_at__isnull=True
        ).first()
    if company is None:
        raise ValidationError({"company": f"There is no company {value}."})
    return company


def clean_owner(value: Any) -> User | None:
    if value is None or value == "":
        return None
    if isinstance(value, User):
        user: User | None = value
    else:
        user = User.objects.filter(pk=clean_pk(value, "owner")).first()
    if user is None:
        raise ValidationError({"owner": f"There is no user {value}."})
    if not user.is_active:
        raise ValidationError({"owner": f"{user} is deactivated; choose someone else."})
    if not can(user, "deals.create"):
        raise ValidationError({"owner": f"{user} cannot own deals (a salesperson or manager can)."})
    return user


def clean_date(value: Any, field: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        raise ValidationError({field: "Give a date, e.g. 2026-03-31."})
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError({field: "Give a date, e.g. 2026-03-31."})


def clean_moment(value: Any, field: str) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError({field: "Give a time in ISO 8601."}) from None
    if not isinstance(value, dt.datetime):
        raise ValidationError({field: "Give a time in ISO 8601."})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({field: "Not in the future."})
    return value


def clean_pipeline(value: Any) -> Pipeline:
    if value is None or value == "":
        return default_pipeline()
    if isinstance(value, Pipeline):
        return value
    found = Pipeline.objects.filter(pk=clean_pk(value, "pipeline")).first()
    if found is None:
        raise ValidationError({"pipeline": f"There is no pipeline {value}."})
    if not found.is_active:
        raise ValidationError({"pipeline": f"The pipeline “{found}” is archived."})
    return found


def clean_stage(value: Any, pipeline: Pipeline | None) -> PipelineStage:
    """An active stage (of `pipeline` when given)."""
    if isinstance(value, PipelineStage):
        stage: PipelineStage | None = value
    else:
        stage = (
            PipelineStage.objects.select_related("pipeline")
            .filter(pk=clean_pk(value, "stage"))
            .first()
        )
    if stage is None:
        raise ValidationError({"stage": f"There is no stage {value}."})
    if pipeline is not None and stage.pipeline_id != pipeline.pk:
        raise ValidationError({"stage": f"“{stage.name}” is not a stage of “{pipeline}”."})
    if not stage.is_active:
        raise ValidationError({"stage": f"The stage “{stage.name}” is archived."})
    if not stage.pipeline.is_active:
        raise ValidationError({"stage": f"The pipeline “{stage.pipeline}” is archived."})
    return stage


def clean_role(value: Any) -> str:
    if value in (None, ""):
        return ContactRole.OTHER
    if value not in ContactRole.values:
        raise ValidationError({"role": f"Use one of: {', '.join(ContactRole.values)}."})
    return str(value)


def clean_person(value: Any, field: str = "person") -> Person:
    if isinstance(value, Person):
        person: Person | None = value
    else:
        person = Person.objects.filter(pk=clean_pk(value, field)).first()
    if person is None or person.deleted_at is not None:
        raise ValidationError({field: f"There is no person {value}."})
    return person


def clean_contacts(raw: Any) -> list[tuple[Person, str, bool]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationError({"contacts": "Give a list of {person, role, is_primary}."})
    out: list[tuple[Person, str, bool]] = []
    seen: set[int] = set()
    errors: dict[str, Any] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            errors[f"contacts.{i}"] = "Give {person, role, is_primary}."
            continue
        try:
            person = clean_person(item.get("person"), f"contacts.{i}.person")
            role = clean_role(item.get("role"))
        except ValidationError as err:
            for key, messages in err.message_dict.items():
                name = key if key.startswith("contacts.") else f"contacts.{i}.{key}"
                errors[name] = messages
            continue
        primary = item.get("is_primary", False)
        if not isinstance(primary, bool):
            errors[f"contacts.{i}.is_primary"] = "Give true or false."
            continue
        if person.pk in seen:
            errors[f"contacts.{i}.person"] = f"{person} is on the list twice."
            continue
        seen.add(person.pk)
        out.append((person, role, primary))
    if errors:
        raise ValidationError(errors)
    if sum(1 for _, _, primary in out if primary) > 1:
        raise ValidationError({"contacts": "Mark one contact as primary at most."})
    return out


def collect(checks: dict[str, Any]) -> dict[str, Any]:
    out, errors = {}, {}
    for name, check in checks.items():
        try:
            out[name] = check()
        except ValidationError as err:
            errors.update(err.message_dict)
    if errors:
        raise ValidationError(errors)
    return out

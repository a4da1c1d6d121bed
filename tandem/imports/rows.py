"""One file row → clean values, the values left out, or the reason it is rejected.

The checks are the services' own: emails and phones as people/normalize.py
decides (phones through the fast path in checks.py), countries as clean_country,
custom field values as their definitions, text lengths as the model's. A row is
rejected only when it cannot say who the person (or company) is: no valid
email and no name (a company: no name and no valid domain). Any other bad value
is left out, the row comes in without it, and the report lists it with its row
number, column, value and reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.utils import timezone

from tandem.accounts.models import User
from tandem.imports.checks import check_phone
from tandem.imports.freemail import work_domain
from tandem.imports.mapping import CUSTOM_PREFIX, country_for, header_key, stage_for
from tandem.imports.models import RowOutcome
from tandem.people.custom_fields import coerce_value
from tandem.people.fields import PERSON_TEXT_FIELDS
from tandem.people.models import Company, CompanySize, CustomField, Person, Stage
from tandem.people.normalize import clean_country, clean_domain, clean_email, name_key, one_line

PERSON_TEXT = PERSON_TEXT_FIELDS
COMPANY_TEXT = ("name", "industry")


def _max_length(model: type[Person] | type[Company], name: str) -> int:
    return getattr(model._meta.get_field(name), "max_length", None) or 0


_MAX = {name: _max_length(Person, name) for name in PERSON_TEXT}
_COMPANY_MAX = {name: _max_length(Company, name) for name in COMPANY_TEXT}
_STAGE_LIST = ", ".join(Stage.values)
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


class RowError(NamedTuple):
    """A line of the report: a rejected row (the default), a value left out, a skipped row."""

    row_number: int
    column: str
    value: str
    reason: str
    outcome: str = RowOutcome.REJECTED.value


LEFT_OUT = RowOutcome.LEFT_OUT.value
SKIPPED = RowOutcome.SKIPPED.value


@dataclass(slots=True)
class PersonRow:
    number: int
    email_typed: str = ""
    email: str = ""  # normalised; the identity of the row
    phone: str = ""  # E.164
    phone_original: str = ""
    text: dict[str, str] = field(default_factory=dict)  # non-empty plain fields
    country: str = ""
    stage: str = ""
    owner_id: int | None = None
    company: str = ""  # a company name as written
    company_key: str = ""  # its name_key
    first_key: str = ""  # name_key of the first and last name, for search and sort
    last_key: str = ""
    domain: str = ""  # the email's domain when it is a work address (freemail.work_domain)
    campaign: str = ""
    custom: dict[str, Any] = field(default_factory=dict)
    created_at: dt.datetime | None = None
    left_out: list[RowError] = field(default_factory=list)  # bad values the row comes in without


@dataclass(slots=True)
class CompanyRow:
    number: int
    name: str = ""
    domain: str = ""
    text: dict[str, str] = field(default_factory=dict)  # industry
    size: str = ""
    country: str = ""
    owner_id: int | None = None
    custom: dict[str, Any] = field(default_factory=dict)
    left_out: list[RowError] = field(default_factory=list)


class Owners:
    """Users by user name, email or full name (case-insensitive), for the owner column."""

    def __init__(self) -> None:
        self.by_key: dict[str, int | None] = {}
        for user in User.objects.filter(is_active=True).only(
            "id", "username", "email", "first_name", "last_name"
        ):
            for key in (user.username, user.email, user.get_full_name()):
                key = (key or "").strip().lower()
                if not key:
                    continue
                # A name two users share is ambiguous: None marks it.
                if key in self.by_key and self.by_key[key] != user.pk:
                    self.by_key[key] = None
                else:
                    self.by_key[key] = user.pk

    def find(self, value: str) -> int | None:
        """The user's id; ValueError with the reason when there is none or several."""
        key = value.strip().lower()
        if key not in self.by_key:
            raise ValueError(
                f"There is no active user {value.strip()!r} (user name, email or full name)."
            )
        found = self.by_key[key]
        if found is None:
            raise ValueError(f"{value.strip()!r} names more than one user; use the user name.")
        return found


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def parse_when(value: str) -> dt.datetime:
    """A date or date-time as spreadsheets write it (ISO; a trailing Z or offset is fine)."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                when = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD.") from None
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when > timezone.now() + dt.timedelta(days=1):
        raise ValueError(f"{value!r} is in the future.")
    return when


_SPACES = re.compile(r"\s+")


def split_full_name(value: str) -> tuple[str, str]:
    """ "Ada Lovelace" → (Ada, Lovelace); "Lovelace, Ada" → (Ada, Lovelace); "Cher" → (Cher, "")."""
    text = _SPACES.sub(" ", value.strip())
    if "," in text:
        last, _, first = text.partition(",")
        return first.strip(), last.strip()
    first, _, last = text.partition(" ")
    return first, last


class RowCleaner:
    """Cleans the rows of one job: built once with its mapping, users and custom fields.

    Runs for every row of a million-row file, so the plan is made once: plain
    text columns in one tight loop, the others through small checks whose
    answers for repeated values (stages, countries, owners) are remembered.
    """

    def __init__(
        self,
        *,
        entity: str,
        headers: list[str],
        columns: dict[str, str | None],
        stages: dict[str, str],
        custom_fields: list[CustomField],
        owners: Owners,
        region: str = "",
    ):
        self.entity = entity
        # Where a phone without +country is read when its row names no country.
        self.region = region
        self.headers = headers
        self.position = {h: i for i, h in enumerate(headers)}
        # (index, header, target) for each mapped column, in file order.
        self.mapped = [
            (i, h, t) for i, h in enumerate(headers) if (t := columns.get(h)) is not None
        ]
        self.stages = {header_key(k): v for k, v in stages.items()}
        self.custom = {f.key: f for f in custom_fields}
        self.owners = owners
        self.text_columns = [(i, h, t, _MAX[t]) for i, h, t in self.mapped if t in _MAX]
        self.other_columns = [(i, h, t) for i, h, t in self.mapped if t not in _MAX]
        self._memo: dict[tuple[str, str], tuple[Any, str]] = {}

    def _remembered(self, target: str, value: str) -> tuple[Any, str]:
        """(answer, "") or (None, reason). Stage, country and owner values repeat across
        rows: each is worked out once."""
        key = (target, value)
        found = self._memo.get(key)
        if found is not None:
            return found
        try:
            if target == "country":
                try:
                    result: tuple[Any, str] = (clean_country(country_for(value)), "")
                except ValidationError:
                    # An import takes names as well as codes, so the message says both.
                    result = (
                        None,
                        f"{value!r} is not a country we know; use its name (Germany) "
                        "or its two-letter code (DE).",
                    )
            elif target == "stage":
                stage = stage_for(value, self.stages)
                result = (
                    (stage, "")
                    if stage
                    else (
                        None,
                        f"{value!r} is not a lifecycle stage we know; use one of: "
                        f'{_STAGE_LIST} (or map it under "stages").',
                    )
                )
            else:
                result = (self.owners.find(value), "")
        except ValidationError as exc:
            result = (None, _message(exc))
        except ValueError as exc:
            result = (None, str(exc))
        if len(self._memo) < 100_000:
            self._memo[key] = result
        return result

    # -- people ---------------------------------------------------------------------------

    def person(self, number: int, values: list[str]) -> PersonRow | list[RowError]:
        row = PersonRow(number=number)
        left_out = row.left_out
        text = row.text
        for index, header, target, longest in self.text_columns:
            value = values[index]
            if value:
                value = value.strip()
                if value:
                    value = one_line(value)
                    if len(value) > longest:
                        left_out.append(
                            RowError(
                                number,
                                header,
                                value[:500],
                                f"At most {longest} characters (got {len(value)}).",
                                LEFT_OUT,
                            )
                        )
                    else:
                        text[target] = value
        phone = ("", "")
        full_name = ""
        bad_email: RowError | None = None
        for index, header, target in self.other_columns:
            raw = values[index]
            value = raw.strip()
            if not value:
                continue
            try:
                if target == "email":
                    try:
                        row.email_typed, row.email = clean_email(value)
                    except ValidationError as exc:
                        bad_email = RowError(number, header, raw[:500], _message(exc), LEFT_OUT)
                        left_out.append(bad_email)
                        continue
                    row.domain = work_domain(row.email)
                elif target == "phone":
                    phone = (header, value)
                elif target in ("country", "stage", "owner"):
                    answer, reason = self._remembered(target, value)
                    if reason:
                        left_out.append(RowError(number, header, raw[:500], reason, LEFT_OUT))
                    else:
                        setattr(row, "owner_id" if target == "owner" else target, answer)
                elif target == "company":
                    value = one_line(value)
                    if len(value) > 200:
                        raise ValueError(f"At most 200 characters (got {len(value)}).")
                    row.company = value
                    row.company_key = name_key(value)
                elif target == "full_name":
                    full_name = value
                elif target == "campaign":
                    row.campaign = value[:200]
                elif target == "created_at":
                    row.created_at = parse_when(value)
                elif target.startswith(CUSTOM_PREFIX):
                    definition = self.custom[target[len(CUSTOM_PREFIX) :]]
                    try:
                        row.custom[definition.key] = coerce_value(definition, value)
                    except ValueError as exc:
                        raise ValueError(f"{definition.label} {exc}.") from None
            except ValidationError as exc:
                left_out.append(RowError(number, header, raw[:500], _message(exc), LEFT_OUT))
            except ValueError as exc:
                left_out.append(RowError(number, header, raw[:500], str(exc), LEFT_OUT))
        if full_name and not ("first_name" in text or "last_name" in text):
            first, last = split_full_name(full_name)
            if first:
                text["first_name"] = first[: _MAX["first_name"]]
            if last:
                text["last_name"] = last[: _MAX["last_name"]]
        first, last = text.get("first_name", ""), text.get("last_name", "")
        if not (row.email or first or last):
            # Nothing says who this is: the one case a row is rejected whole.
            if bad_email is not None:
                return [
                    bad_email._replace(
                        reason=f"{bad_email.reason} With no name either, the row cannot "
                        "say who the person is.",
                        outcome=RowOutcome.REJECTED.value,
                    )
                ]
            return [RowError(number, "", "", "Give at least a name or an email address.")]
        if phone[1]:
            try:
                row.phone, row.phone_original = check_phone(
                    phone[1], country=row.country or self.region
                )
            except ValidationError as exc:
                left_out.append(RowError(number, phone[0], phone[1][:500], _message(exc), LEFT_OUT))
        if len(left_out) > 1:  # in the file's column order
            left_out.sort(key=lambda e: self.position.get(e.column, 0))
        row.first_key, row.last_key = name_key(first), name_key(last)
        return row

    # -- companies ------------------------------------------------------------------------

    def company(self, number: int, values: list[str]) -> CompanyRow | list[RowError]:
        row = CompanyRow(number=number)
        left_out = row.left_out
        bad_identity: RowError | None = None
        for index, header, target in self.mapped:
            raw = values[index]
            value = raw.strip()
            if not value:
                continue
            try:
                if target in _COMPANY_MAX:
                    value = one_line(value)
                    if len(value) > _COMPANY_MAX[target]:
                        raise ValueError(
                            f"At most {_COMPANY_MAX[target]} characters (got {len(value)})."
                        )
                    if target == "name":
                        row.name = value
                    else:
                        row.text[target] = value
                elif target == "domain":
                    row.domain = clean_domain(value)
                elif target == "size":
                    row.size = company_size(value)
                elif target in ("country", "owner"):
                    answer, reason = self._remembered(target, value)
                    if reason:
                        left_out.append(RowError(number, header, raw[:500], reason, LEFT_OUT))
                    else:
                        setattr(row, "owner_id" if target == "owner" else target, answer)
                elif target.startswith(CUSTOM_PREFIX):
                    definition = self.custom[target[len(CUSTOM_PREFIX) :]]
                    try:
                        row.custom[definition.key] = coerce_value(definition, value)
                    except ValueError as exc:
                        raise ValueError(f"{definition.label} {exc}.") from None
            except (ValidationError, ValueError) as exc:
                reason = _message(exc) if isinstance(exc, ValidationError) else str(exc)
                error = RowError(number, header, raw[:500], reason, LEFT_OUT)
                left_out.append(error)
                if target in ("name", "domain") and bad_identity is None:
                    bad_identity = error
        if not row.name and row.domain:
            row.name = row.domain
        if not row.name:
            if bad_identity is not None:
                return [
                    bad_identity._replace(
                        reason=f"{bad_identity.reason} With no other name or domain, the row "
                        "cannot say which company it is.",
                        outcome=RowOutcome.REJECTED.value,
                    )
                ]
            return [RowError(number, "", "", "A company needs a name or a domain.")]
        return row


_SIZE_BOUNDS = ((10, "1-10"), (50, "11-50"), (200, "51-200"), (1000, "201-1000"))


def company_size(value: str) -> str:
    """One of our size bands, from a band ("11-50", "11–50") or a head count ("35", "1,200")."""
    text = value.strip().replace("–", "-").replace(" ", "")
    if text in CompanySize.values:
        return text
    digits = text.replace(",", "").replace(".", "").rstrip("+")
    if digits.isdigit():
        count = int(digits)
        for bound, band in _SIZE_BOUNDS:
            if count <= bound:
                return band
        return CompanySize.S1001.value
    raise ValueError(
        f"{value!r} is not a size; use one of {', '.join(CompanySize.values)} or a head count."
    )

"""What the apps built on people add to its person page, list filter, export and API (ADR 0005).

people sits below capture, campaigns and the rest (core <- accounts <- people <-
capture/...), so it never imports them. Yet staff must see, on people's own
screens, what those apps know about a person: consent, today. So people owns
three small, typed slots, and a higher app fills them from its
`AppConfig.ready()`; people reads only this registry:

- `PersonSection`: a card on the person page and the field of the person API
  with the same key (the field itself is declared in `schemas.PersonDetailOut`,
  so the API's contract stays written down in people).
- `ListCondition`: what one `PersonFilter` parameter means (the parameter is
  declared in `filters.PersonFilter`, ADR 0001); a set-based condition.
- `ExportColumns`: extra columns of the people CSV, as SQL expressions, so the
  export stays one streamed query.

No signals, no discovery: `grep -rn "register_" tandem/*/apps.py` lists every
contributor. Registering the same key again replaces the entry (tests, reloads).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from tandem.people.models import Person


@dataclass(frozen=True)
class PersonSection:
    """One person's data from another app: a card on the person page, a field in the API."""

    key: str  # the PersonDetailOut field it fills
    template: str  # included in the person page; `section.data` is load(person)
    load: Callable[[Person], Any]


@dataclass(frozen=True)
class ListCondition:
    """The meaning of one PersonFilter parameter that another app owns."""

    param: str  # the PersonFilter field
    label: str  # the filter's label on the people list
    any_label: str  # the list's "no filter" choice
    choices: Callable[[], list[tuple[str, str]]]  # (value, label) for the list's select
    # A set-based condition on Person (EXISTS / subquery, never a list of ids) for a value;
    # raises ValidationError naming `param` for a value it does not know.
    condition: Callable[[str], Q]


@dataclass(frozen=True)
class ExportColumns:
    """Extra columns of the people CSV: (header, expression) pairs, evaluated per person row.

    Each expression is annotated on the export's one query (a correlated subquery
    is fine), so the export makes no query per row. The value is written as text;
    NULL is an empty cell.
    """

    key: str
    columns: Callable[[], list[tuple[str, Any]]]


_sections: dict[str, PersonSection] = {}
_conditions: dict[str, ListCondition] = {}
_export_columns: dict[str, ExportColumns] = {}


def register_person_section(section: PersonSection) -> None:
    _sections[section.key] = section


def register_list_condition(condition: ListCondition) -> None:
    _conditions[condition.param] = condition


def register_export_columns(columns: ExportColumns) -> None:
    _export_columns[columns.key] = columns


def person_sections() -> list[PersonSection]:
    return list(_sections.values())


def person_section(key: str) -> PersonSection | None:
    return _sections.get(key)


def list_conditions() -> list[ListCondition]:
    return list(_conditions.values())


def list_condition(param: str, value: str) -> Q:
    """The condition another app gives `param=value`; a 4xx naming `param` if none does."""
    entry = _conditions.get(param)
    if entry is None:
        raise ValidationError({param: "This filter is not available here."})
    return entry.condition(value)


def export_columns() -> list[tuple[str, Any]]:
    return [column for entry in _export_columns.values() for column in entry.columns()]

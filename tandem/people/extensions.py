"""What the apps built on people add to its person page, list filter, export and API (ADR 0005).

people sits below capture, campaigns and the rest (core <- accounts <- people <-
capture/...), so it never imports them. Yet staff must see, on people's own
screens, what those apps know about a person: consent, today. So people owns
small, typed slots, and a higher app fills them from its `AppConfig.ready()`;
people reads only this registry:

- `PersonSection`: a card on the person page and the field of the person API
  with the same key (the field itself is declared in `schemas.PersonDetailOut`,
  so the API's contract stays written down in people).
- `CompanySection`: a card on the company page (the company's twin of PersonSection,
  page only: no API field).
- `ListCondition`: what one `PersonFilter` parameter means (the parameter is
  declared in `filters.PersonFilter`, ADR 0001); a set-based condition.
- `ListSort`: what one value of the list's `sort` parameter means when another app
  owns the value sorted by (scoring: the scores); the value itself is declared
  in `filters.PersonSort`, so the API's enum stays written down in people.
- `ExportColumns`: extra columns of the people CSV, as SQL expressions, so the
  export stays one streamed query.
- `TimelineSource`: entries of the person's timeline that another app records
  (campaigns: touchpoints).
- `NewPeopleCheck`: what runs when capture or an import adds people (dedup:
  queue the duplicate check after the commit).
- `ErasureStep`: what another app keeps about a person that erasing them must
  delete too (capture: web-form submissions not captured yet).
- `PeopleTouchedStep`: what runs when people were added or edited, or got new
  touchpoints or activities (scoring: rescore them after the commit, a batch at once).

No signals, no discovery: `grep -rn "register_" tandem/*/apps.py` lists every
contributor. Registering the same key again replaces the entry (tests, reloads).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q

from tandem.core.pagination import SortSpec
from tandem.people.models import Company, Person


@dataclass(frozen=True)
class PersonSection:
    """One person's data from another app: a card on the person page, a field in the API."""

    key: str  # the PersonDetailOut field it fills
    template: str  # included in the person page; `section.data` is load(person)
    load: Callable[[Person], Any]


@dataclass(frozen=True)
class CompanySection:
    """One company's data from another app: a card on the company page (followups: tasks)."""

    key: str
    template: str  # included in the company page; `section.data` is load(company)
    load: Callable[[Company], Any]


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
class ListSort:
    """One sort of the people list over a value another app keeps.

    `spec` orders by annotations (SortSpec.annotations): integer expressions on
    Person, never NULL (a person the app knows nothing about gets a value that
    puts them where a user expects, e.g. last), so keyset cursors can carry them.
    """

    key: str  # a PersonSort value
    label: str  # the choice on the people list
    spec: SortSpec


@dataclass(frozen=True)
class ExportColumns:
    """Extra columns of the people CSV: (header, expression) pairs, evaluated per person row.

    Each expression is annotated on the export's one query (a correlated subquery
    is fine), so the export makes no query per row. The value is written as text;
    NULL is an empty cell.
    """

    key: str
    columns: Callable[[], list[tuple[str, Any]]]


@dataclass(frozen=True)
class TimelineSource:
    """Entries of one person's timeline kept by another app.

    `entries(person, before, limit)` returns at most `limit` of them, newest
    first, older than `before` when given, as people.queries.TimelineEntry.
    """

    key: str
    entries: Callable[[Person, Any, int], list[Any]]


@dataclass(frozen=True)
class ErasureStep:
    """What another app must delete when a person is erased for good.

    `erase(person, emails)` runs inside the erasure's transaction, before the
    person's row goes; `emails` are the person's normalised addresses.
    """

    key: str
    erase: Callable[[Person, set[str]], Any]


@dataclass(frozen=True)
class NewPeopleCheck:
    """A follow-up on people just added (by capture, an import, the demo).

    `check(person_ids, found_by)` is called inside the transaction that wrote
    them; it must defer real work to `transaction.on_commit`, so a rollback
    leaves nothing behind.
    """

    key: str
    check: Callable[[list[int], str], Any]


@dataclass(frozen=True)
class PeopleTouchedStep:
    """A follow-up on people just added, edited, or given touchpoints or activities
    (people's create/update/log_activity, campaigns' record_touchpoint, capture's batch).

    `touched(person_ids, why)` is called inside the writing transaction; it must
    defer real work to `transaction.on_commit`, so a rollback leaves nothing behind.
    """

    key: str
    touched: Callable[[list[int], str], Any]


_sections: dict[str, PersonSection] = {}
_company_sections: dict[str, CompanySection] = {}
_conditions: dict[str, ListCondition] = {}
_export_columns: dict[str, ExportColumns] = {}
_sorts: dict[str, ListSort] = {}
_timeline_sources: dict[str, TimelineSource] = {}
_erasure_steps: dict[str, ErasureStep] = {}
_new_people_checks: dict[str, NewPeopleCheck] = {}
_touched_steps: dict[str, PeopleTouchedStep] = {}


def register_person_section(section: PersonSection) -> None:
    _sections[section.key] = section


def register_company_section(section: CompanySection) -> None:
    _company_sections[section.key] = section


def register_list_condition(condition: ListCondition) -> None:
    _conditions[condition.param] = condition


def register_list_sort(sort: ListSort) -> None:
    _sorts[sort.key] = sort


def register_export_columns(columns: ExportColumns) -> None:
    _export_columns[columns.key] = columns


def register_timeline_source(source: TimelineSource) -> None:
    _timeline_sources[source.key] = source


def register_erasure_step(step: ErasureStep) -> None:
    _erasure_steps[step.key] = step


def register_new_people_check(check: NewPeopleCheck) -> None:
    _new_people_checks[check.key] = check


def register_people_touched(step: PeopleTouchedStep) -> None:
    _touched_steps[step.key] = step


def person_sections() -> list[PersonSection]:
    return list(_sections.values())


def person_section(key: str) -> PersonSection | None:
    return _sections.get(key)


def company_sections() -> list[CompanySection]:
    return list(_company_sections.values())


def list_conditions() -> list[ListCondition]:
    return list(_conditions.values())


def list_condition(param: str, value: str) -> Q:
    """The condition another app gives `param=value`; a 4xx naming `param` if none does."""
    entry = _conditions.get(param)
    if entry is None:
        raise ValidationError({param: "This filter is not available here."})
    return entry.condition(value)


def list_sorts() -> list[ListSort]:
    return list(_sorts.values())


def list_sort(key: str) -> SortSpec:
    """The spec another app gives sort `key`; a 4xx naming `sort` if none does."""
    entry = _sorts.get(key)
    if entry is None:
        raise ValidationError({"sort": "This sort is not available here."})
    return entry.spec


def export_columns() -> list[tuple[str, Any]]:
    return [column for entry in _export_columns.values() for column in entry.columns()]


def timeline_sources() -> list[TimelineSource]:
    return list(_timeline_sources.values())


def erasure_steps() -> list[ErasureStep]:
    return list(_erasure_steps.values())


def people_added(person_ids: list[int], found_by: str) -> None:
    """Tell the apps above that these people were just added (inside the writing transaction)."""
    for entry in _new_people_checks.values():
        entry.check(person_ids, found_by)


def people_touched(person_ids: list[int], why: str) -> None:
    """Tell the apps above that these people got touchpoints or activities (inside the
    writing transaction)."""
    if not person_ids:
        return
    for entry in _touched_steps.values():
        entry.touched(person_ids, why)

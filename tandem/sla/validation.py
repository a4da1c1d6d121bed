"""What a business calendar and an SLA policy must be, each problem named by its field.

Shared by the services (the one place that writes) and the forms (which show the same
words next to the input).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zoneinfo
from functools import lru_cache
from typing import Any

import holidays
from django.core.exceptions import ValidationError

from tandem.campaigns.models import TouchpointKind
from tandem.sla.business_time import format_clock, parse_clock
from tandem.sla.models import UNIT_MINUTES, WEEKDAYS, SlaUnit

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
# Policies longer than this are a typo (a year of business days).
MAX_MINUTES = 365 * 1440


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """IANA names, sorted ("Europe/Berlin"); the legacy aliases ("CET") are left out."""
    return tuple(sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC"))


def _spaced(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """Country code → name, for every country the holidays package knows."""
    from holidays.registry import COUNTRIES

    names = {entry[1]: _spaced(entry[0]) for entry in COUNTRIES.values()}
    codes = holidays.list_supported_countries(include_aliases=False)
    return dict(sorted(((code, names.get(code, code)) for code in codes), key=lambda kv: kv[1]))


@lru_cache(maxsize=1)
def subdivisions() -> dict[str, tuple[str, ...]]:
    return {
        k: tuple(v) for k, v in holidays.list_supported_countries(include_aliases=False).items()
    }


def clean_time_zone(value: Any) -> str:
    name = str(value or "").strip()
    if name not in time_zones():
        raise ValidationError(
            {"time_zone": f"“{name}” is not a time zone; use e.g. Europe/Berlin."}
        )
    return name


def clean_country(country: Any, subdivision: Any) -> tuple[str, str]:
    """A country whose public holidays we know (blank: none), and one of its subdivisions."""
    code = str(country or "").strip().upper()
    sub = str(subdivision or "").strip()
    if code and code not in countries():
        raise ValidationError(
            {"country": f"No public holidays known for “{code}”; use an ISO code such as DE."}
        )
    if not sub:
        return code, ""
    if not code:
        raise ValidationError({"subdivision": "Choose the country first."})
    known = {s.casefold(): s for s in subdivisions()[code]}
    if sub.casefold() not in known:
        choices = ", ".join(subdivisions()[code]) or "none"
        raise ValidationError({"subdivision": f"{code} has no subdivision “{sub}” ({choices})."})
    return code, known[sub.casefold()]


def clean_hours(hours: Any) -> dict[str, list[list[str]]]:
    """{"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}: each day's intervals in order,
    none ending before it starts or overlapping the next; at least one in the week."""
    if not isinstance(hours, dict):
        raise ValidationError({"hours": "Give each weekday (mon … sun) a list of intervals."})
    unknown = sorted(set(hours) - set(WEEKDAYS))
    if unknown:
        raise ValidationError({"hours": f"Unknown day {unknown[0]!r}; use mon … sun."})
    errors: dict[str, str] = {}
    out: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        try:
            intervals = _clean_day(hours.get(day) or [], DAY_NAMES[day])
        except ValueError as exc:
            errors[f"hours.{day}"] = str(exc)
            continue
        if intervals:
            out[day] = [[format_clock(a), format_clock(b)] for a, b in intervals]
    if errors:
        raise ValidationError(errors)
    if not out:
        raise ValidationError({"hours": "Open at least one interval in the week."})
    return out


def _clean_day(raw: Any, name: str) -> list[tuple[int, int]]:
    if not isinstance(raw, list):
        raise ValueError(f"{name}: give a list of [start, end] pairs.")
    intervals = []
    for pair in raw:
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise ValueError(f"{name}: each interval is a [start, end] pair of HH:MM times.")
        try:
            start, end = parse_clock(str(pair[0])), parse_clock(str(pair[1]))
        except ValueError as exc:
            raise ValueError(f"{name}: “{exc}” is not a time; use HH:MM, 00:00 to 24:00.") from None
        if end <= start:
            raise ValueError(f"{name}: {pair[1]} ends before {pair[0]} starts.")
        intervals.append((start, end))
    intervals.sort()
    for (a1, b1), (a2, b2) in itertools.pairwise(intervals):
        if a2 < b1:
            raise ValueError(
                f"{name}: {format_clock(a1)}–{format_clock(b1)} overlaps "
                f"{format_clock(a2)}–{format_clock(b2)}."
            )
    return intervals


def clean_closing_days(days: Any) -> list[dict[str, str]]:
    """[{"date": "2026-12-24", "name": "Christmas Eve"}], sorted, each date once."""
    if not isinstance(days, list):
        raise ValidationError({"closing_days": "Give a list of {date, name}."})
    seen: dict[dt.date, str] = {}
    for entry in days:
        raw = entry.get("date") if isinstance(entry, dict) else entry
        name = str(entry.get("name") or "").strip() if isinstance(entry, dict) else ""
        try:
            day = dt.date.fromisoformat(str(raw))
        except ValueError:
            raise ValidationError(
                {"closing_days": f"“{raw}” is not a date; use YYYY-MM-DD."}
            ) from None
        if day in seen:
            raise ValidationError({"closing_days": f"{day} is listed twice."})
        if len(name) > 100:
            raise ValidationError({"closing_days": f"{day}: the name is over 100 characters."})
        seen[day] = name
    return [{"date": d.isoformat(), "name": seen[d]} for d in sorted(seen)]


def clean_policy(data: dict[str, Any]) -> dict[str, Any]:
    """A policy's fields as stored: `amount` and `unit` become `minutes` and `unit`."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name:
            errors["name"] = "Give the policy a name."
        elif len(name) > 100:
            errors["name"] = "At most 100 characters."
        out["name"] = name
    if "source" in data:
        out["source"] = str(data["source"] or "").strip()[:100]
    if "touchpoint_kind" in data:
        kind = str(data["touchpoint_kind"] or "").strip()
        if kind and kind not in TouchpointKind.values:
            errors["touchpoint_kind"] = f"“{kind}” is not a touchpoint kind."
        out["touchpoint_kind"] = kind
    if "unit" in data or "amount" in data:
        unit, amount = data.get("unit"), data.get("amount")
        if unit not in SlaUnit.values:
            errors["unit"] = "Use minutes, hours or days."
        elif not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
            errors["amount"] = "Give a whole number of at least 1."
        elif amount * UNIT_MINUTES[SlaUnit(unit)] > MAX_MINUTES:
            errors["amount"] = "At most a year."
        else:
            out["unit"], out["minutes"] = unit, amount * UNIT_MINUTES[SlaUnit(unit)]
    if "remind_at_share" in data:
        share = data["remind_at_share"]
        if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share < 1:
            errors["remind_at_share"] = "A share from 0 (no reminder) to below 1, e.g. 0.5."
        else:
            out["remind_at_share"] = float(share)
    for flag in ("reassign_on_breach", "is_active"):
        if flag in data:
            out[flag] = bool(data[flag])
    if errors:
        raise ValidationError(errors)
    return out

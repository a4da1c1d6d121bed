"""Reads: the SLA policies in order, and each team's business hours as they apply."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import holidays
from django.conf import settings
from django.db.models import QuerySet

from tandem.accounts.models import Team
from tandem.sla.business_time import Calendar
from tandem.sla.models import WEEKDAYS, BusinessCalendar, SlaPolicy, default_hours
from tandem.sla.validation import DAY_NAMES


def policies() -> QuerySet[SlaPolicy]:
    """Every policy in the order they are checked (the first match wins)."""
    return SlaPolicy.objects.order_by("position", "id")


@dataclass(frozen=True)
class BusinessHours:
    """The hours a team works by, and where they come from: "team" (its own),
    "company" (the company default) or "built_in" (no calendar set: Monday to Friday
    09:00-17:00 in the server's time zone, no holidays)."""

    team: Team | None
    uses: str
    time_zone: str
    country: str
    subdivision: str
    hours: dict[str, list[list[str]]]
    closing_days: list[dict[str, str]]
    updated_at: dt.datetime | None
    calendar: BusinessCalendar | None

    @property
    def open_minutes_per_week(self) -> int:
        week = Calendar.build(self.time_zone, self.hours).week
        return sum(b - a for day in week for a, b in day)

    @property
    def week(self) -> list[dict[str, Any]]:
        """Each weekday's intervals as text, for the pages: "09:00–12:00, 13:00–17:00"."""
        return [
            {
                "key": day,
                "name": DAY_NAMES[day],
                "text": ", ".join(f"{a}–{b}" for a, b in self.hours.get(day, [])) or "closed",
            }
            for day in WEEKDAYS
        ]


def _hours(team: Team | None, row: BusinessCalendar | None, uses: str) -> BusinessHours:
    if row is None:
        return BusinessHours(
            team, "built_in", settings.TIME_ZONE, "", "", default_hours(), [], None, None
        )
    return BusinessHours(
        team,
        uses,
        row.time_zone,
        row.country,
        row.subdivision,
        row.hours,
        list(row.closing_days or []),
        row.updated_at,
        row,
    )


@dataclass(frozen=True)
class DayOff:
    date: dt.date
    name: str
    kind: str  # "public holiday" or "closing day"


def days_off(hours: BusinessHours, *, today: dt.date, days: int = 90) -> list[DayOff]:
    """Public holidays and closing days on working weekdays from `today`, for the hours page
    (a manager who picked a country sees which days its holidays close)."""
    last = today + dt.timedelta(days=days)
    week = Calendar.build(hours.time_zone, hours.hours).week
    found: dict[dt.date, DayOff] = {}
    if hours.country:
        names = holidays.country_holidays(
            hours.country,
            subdiv=hours.subdivision or None,
            years=range(today.year, last.year + 1),
        )
        for day, name in names.items():
            found[day] = DayOff(day, name, "public holiday")
    for entry in hours.closing_days:
        day = dt.date.fromisoformat(entry["date"])
        found[day] = DayOff(day, entry.get("name") or "", "closing day")
    return sorted(
        (off for day, off in found.items() if today <= day <= last and week[day.weekday()]),
        key=lambda off: off.date,
    )


def company_hours() -> BusinessHours:
    row = BusinessCalendar.objects.filter(team__isnull=True).first()
    return _hours(None, row, "company")


def team_hours(team: Team) -> BusinessHours:
    """The team's own hours, else the company default (or the built-in week)."""
    own = BusinessCalendar.objects.filter(team=team).first()
    if own is not None:
        return _hours(team, own, "team")
    return replace(company_hours(), team=team)


def all_hours() -> list[BusinessHours]:
    """The company default first, then every team by name (two queries)."""
    rows = {row.team_id: row for row in BusinessCalendar.objects.all()}
    default = _hours(None, rows.get(None), "company")
    out = [default]
    for team in Team.objects.order_by("name"):
        own = rows.get(team.pk)
        if own is not None:
            out.append(_hours(team, own, "team"))
        else:
            out.append(replace(default, team=team))
    return out

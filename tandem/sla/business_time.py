"""Business time: a team's open hours, in its time zone, less public holidays and the
company's closing days.

A calendar is a week of local open intervals. Each day's intervals are turned into UTC
instants with zoneinfo, so a DST day is as long as the clocks say (an interval in the
skipped hour is empty; one over the repeated hour counts it twice). Counting and adding
walk these instants; the batch form builds them once and answers every pair with a prefix
sum (numpy, integer microseconds, exact).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
import numpy as np
from django.conf import settings
from django.db.models import Q

from tandem.sla.models import WEEKDAYS, BusinessCalendar, default_hours

UTC = dt.UTC
# A calendar with no open moment in ten years is broken; stop instead of looping forever.
MAX_DAYS_AHEAD = 3660
Minutes = tuple[int, int]  # minutes after local midnight, [start, end)


def parse_clock(value: str) -> int:
    """ "09:30" → 570; "24:00" closes at midnight. ValueError for anything else."""
    hours, sep, minutes = value.partition(":")
    if not (sep and len(hours) == 2 and len(minutes) == 2):
        raise ValueError(value)
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(value)
    h, m = int(hours), int(minutes)
    if m > 59 or h > 24 or (h == 24 and m):
        raise ValueError(value)
    return h * 60 + m


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@lru_cache(maxsize=512)
def public_holidays(country: str, subdivision: str, year: int) -> frozenset[dt.date]:
    """The public holidays of a country (and subdivision) in one year."""
    if not country:
        return frozenset()
    found = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return frozenset(found.keys())


@dataclass(frozen=True)
class Calendar:
    """One team's working week, ready to count with (see `calendar_for`)."""

    tz: ZoneInfo
    week: tuple[tuple[Minutes, ...], ...]  # Monday first
    country: str = ""
    subdivision: str = ""
    closing_days: frozenset[dt.date] = frozenset()
    # Each local day's open UTC intervals, worked out once per calendar object.
    _days: dict[dt.date, list[tuple[dt.datetime, dt.datetime]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def from_row(cls, row: BusinessCalendar | None) -> Calendar:
        if row is None:
            return cls.build(settings.TIME_ZONE, default_hours())
        closing = frozenset(dt.date.fromisoformat(d["date"]) for d in row.closing_days or [])
        return cls.build(row.time_zone, row.hours, row.country, row.subdivision, closing)

    @classmethod
    def build(
        cls,
        time_zone: str,
        hours: dict[str, list[list[str]]],
        country: str = "",
        subdivision: str = "",
        closing_days: frozenset[dt.date] = frozenset(),
    ) -> Calendar:
        week = tuple(
            tuple((parse_clock(a), parse_clock(b)) for a, b in hours.get(day, []))
            for day in WEEKDAYS
        )
        return cls(ZoneInfo(time_zone), week, country, subdivision, closing_days)

    def is_open_day(self, day: dt.date) -> bool:
        """A day with hours that is neither a public holiday nor a closing day."""
        if not self.week[day.weekday()] or day in self.closing_days:
            return False
        return day not in public_holidays(self.country, self.subdivision, day.year)

    def at(self, day: dt.date, minutes: int) -> dt.datetime:
        """Local wall time on `day` as a UTC instant (a skipped time reads as the offset
        before the change, as zoneinfo does with fold=0)."""
        local = dt.datetime.combine(day, dt.time(), tzinfo=self.tz)
        if minutes == 24 * 60:
            local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=self.tz)
        else:
            local = local.replace(hour=minutes // 60, minute=minutes % 60)
        return local.astimezone(UTC)

    def day_intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open UTC intervals of one local day, in order and never overlapping."""
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = self._work_out(day)
        return found

    def _work_out(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if not self.is_open_day(day):
            return []
        out: list[tuple[dt.datetime, dt.datetime]] = []
        for a, b in self.week[day.weekday()]:
            start, end = self.at(day, a), self.at(day, b)
            if out:
                start = max(start, out[-1][1])
            if end > start:  # an interval inside the skipped hour of a DST change is empty
                out.append((start, end))
        return out

    def intervals_from(self, moment: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open intervals that end after `moment`, in order, for as long as asked."""
        day = moment.astimezone(self.tz).date()
        for _ in range(MAX_DAYS_AHEAD):
            for start, end in self.day_intervals(day):
                if end > moment:
                    yield start, end
            day += dt.timedelta(days=1)
        raise ValueError("This calendar has no open hours in the next ten years.")

    def next_open(self, moment: dt.datetime) -> dt.datetime:
        """`moment` when open, else the next opening."""
        for start, end in self.intervals_from(moment):
            if start <= moment < end:
                return moment
            if start >= moment:
                return start
        raise AssertionError("unreachable")  # intervals_from raises first

    def add_seconds(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The moment `seconds` of open time after `start` (an instant inside hours)."""
        remaining = dt.timedelta(seconds=max(seconds, 0.0))
        start = aware(start)
        for a, b in self.intervals_from(start):
            a = max(a, start)
            if remaining <= b - a:
                return a + remaining
            remaining -= b - a
        raise AssertionError("unreachable")

    def add_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """By the same local clock time `days` open days later, counted from the first open
        moment at or after `start`. When that day's hours differ, the last open moment at or
        before that clock time on it (its opening when it opens later)."""
        first = self.next_open(aware(start))
        local = first.astimezone(self.tz)
        clock = local.hour * 60 + local.minute
        day = local.date()
        for _ in range(days):
            day += dt.timedelta(days=1)
            for _ in range(MAX_DAYS_AHEAD):
                if self.is_open_day(day):
                    break
                day += dt.timedelta(days=1)
            else:
                raise ValueError("This calendar has no open hours in the next ten years.")
        target = self.at(day, clock) + dt.timedelta(
            seconds=local.second, microseconds=local.microsecond
        )
        intervals = self.day_intervals(day)
        if not intervals:  # its only hours fell in a DST gap
            return self.next_open(target)
        best = intervals[0][0]
        for a, b in intervals:
            if a <= target:
                best = min(target, b)
        return best

    def seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Open seconds from `start` to `end` (0 when `end` is earlier): one pair, walked."""
        start, end = aware(start), aware(end)
        total = dt.timedelta()
        if end <= start:
            return 0.0
        for a, b in self.intervals_from(start):
            if a >= end:
                break
            total += min(b, end) - max(a, start)
        return total.total_seconds()

    def table(self, first: dt.datetime, last: dt.datetime) -> OpenTable:
        """Every open interval from the local day of `first` to that of `last`."""
        day = first.astimezone(self.tz).date() - dt.timedelta(days=1)
        end_day = last.astimezone(self.tz).date() + dt.timedelta(days=1)
        starts: list[int] = []
        ends: list[int] = []
        while day <= end_day:
            for a, b in self.day_intervals(day):
                starts.append(_micros(a))
                ends.append(_micros(b))
            day += dt.timedelta(days=1)
        return OpenTable(np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64))


class OpenTable:
    """Open intervals as integer microseconds since the epoch, with the open time before
    each: business time up to any instant is one binary search."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray) -> None:
        self.starts = starts
        self.lengths = ends - starts
        self.before = np.concatenate(([0], np.cumsum(self.lengths)[:-1])).astype(np.int64)

    def open_up_to(self, moments: np.ndarray) -> np.ndarray:
        if not len(self.starts):
            return np.zeros_like(moments)
        idx = np.searchsorted(self.starts, moments, side="right") - 1
        safe = np.maximum(idx, 0)
        inside = np.clip(moments - self.starts[safe], 0, self.lengths[safe])
        return np.where(idx >= 0, self.before[safe] + inside, 0)


def _micros(moment: dt.datetime) -> int:
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def aware(moment: dt.datetime) -> dt.datetime:
    """A naive datetime is read in settings.TIME_ZONE (as Django stores them)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
    return moment


def calendar_row(team_id: int | None) -> BusinessCalendar | None:
    """The team's own calendar, else the company default, else None (built-in hours)."""
    rows = BusinessCalendar.objects.filter(Q(team__isnull=True) | Q(team_id=team_id))
    by_team = {row.team_id: row for row in rows}
    return by_team.get(team_id) or by_team.get(None)


def calendar_for(team_id: int | None) -> Calendar:
    return Calendar.from_row(calendar_row(team_id))


def seconds_between_many(
    calendar: Calendar, pairs: Iterable[tuple[dt.datetime, dt.datetime]]
) -> list[float]:
    pairs = [(aware(a), aware(b)) for a, b in pairs]
    if not pairs:
        return []
    starts = np.array([_micros(a) for a, _ in pairs], dtype=np.int64)
    ends = np.array([_micros(b) for _, b in pairs], dtype=np.int64)
    first = min(min(a for a, _ in pairs), min(b for _, b in pairs))
    last = max(max(a for a, _ in pairs), max(b for _, b in pairs))
    table = calendar.table(first, last)
    spans = np.maximum(table.open_up_to(ends) - table.open_up_to(starts), 0)
    return (spans / 1_000_000).tolist()

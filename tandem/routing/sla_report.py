"""The SLA report: hand-offs routed in a period, by source, owner or team — how many met the
SLA, how many breached it, how many still wait, and the time to first contact (median and
90th percentile) in the team's business time (tandem.sla.services).

A hand-off with an SLA is
- met: first contact at or before its due time;
- breached: first contact after it, or none and the due time has passed (a lead sent
  back or handed on late, uncontacted, breached too);
- pending: no contact yet, still waiting, not due yet;
- closed: sent back or handed on before its due time without contact (an answer,
  not a miss).
A hand-off without an SLA (no due time) counts in `handoffs` and `no_sla` only;
its time to first contact still counts in the median.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tandem.accounts.models import Team, User
from tandem.accounts.permissions import can
from tandem.core.spreadsheet import safe_cell
from tandem.routing.models import Handoff, HandoffStatus
from tandem.sla import services as sla

GROUPS = ("source", "owner", "team")
DEFAULT_DAYS = 30


@dataclass
class Row:
    key: str
    label: str
    handoffs: int = 0
    met: int = 0
    breached: int = 0
    pending: int = 0
    closed: int = 0
    no_sla: int = 0
    _seconds: list[float] = field(default_factory=list, repr=False)
    median_seconds: float | None = None
    p90_seconds: float | None = None

    @property
    def met_percent(self) -> float | None:
        decided = self.met + self.breached
        return round(100.0 * self.met / decided, 1) if decided else None

    @property
    def median_minutes(self) -> float | None:
        return None if self.median_seconds is None else self.median_seconds / 60

    @property
    def p90_minutes(self) -> float | None:
        return None if self.p90_seconds is None else self.p90_seconds / 60

    def finish(self) -> None:
        values = sorted(self._seconds)
        self.median_seconds = percentile(values, 50)
        self.p90_seconds = percentile(values, 90)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "handoffs": self.handoffs,
            "met": self.met,
            "breached": self.breached,
            "pending": self.pending,
            "closed": self.closed,
            "no_sla": self.no_sla,
            "met_percent": self.met_percent,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
        }


@dataclass
class Report:
    group_by: str
    start: dt.date
    end: dt.date
    rows: list[Row]
    total: Row


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """The `pct` percentile by linear interpolation between closest ranks; None if empty."""
    if not sorted_values:
        return None
    rank = (len(sorted_values) - 1) * pct / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    value = sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (rank - low)
    return round(value, 1)


def period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The period asked for (both days included), the last 30 days by default."""
    today = timezone.localdate()
    end = end or today
    start = start or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValidationError({"to": "The period ends before it starts."})
    return start, end


def outcome(
    *,
    due_at: dt.datetime | None,
    first_contact_at: dt.datetime | None,
    status: str,
    responded_at: dt.datetime | None,
    now: dt.datetime,
) -> str:
    """met, breached, pending, closed, or no_sla (see the module's words)."""
    if due_at is None:
        return "no_sla"
    if first_contact_at is not None:
        return "met" if first_contact_at <= due_at else "breached"
    if due_at <= now:
        if status in (HandoffStatus.SENT_BACK, HandoffStatus.REASSIGNED) and (
            responded_at is not None and responded_at <= due_at
        ):
            return "closed"
        return "breached"
    if status in (HandoffStatus.SENT_BACK, HandoffStatus.REASSIGNED):
        return "closed"
    return "pending"


def _business_seconds(
    pairs: dict[int | None, list[tuple[dt.datetime, dt.datetime]]],
) -> Iterator[tuple[int | None, list[float]]]:
    """Business seconds of each (routed, first contact) span, one calendar read per team."""
    for team_id, spans in pairs.items():
        yield team_id, list(sla.business_seconds_between_many(team_id, spans))


def build(
    user: Any,
    *,
    group_by: str = "source",
    start: dt.date | None = None,
    end: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """The report for `user` ("sla.view_report")."""
    if not can(user, "sla.view_report"):
        raise PermissionDenied("Not allowed: sla.view_report")
    if group_by not in GROUPS:
        raise ValidationError({"group_by": f"Group by one of: {', '.join(GROUPS)}."})
    start, end = period(start, end)
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    group_field = {"source": "person__source", "owner": "owner_id", "team": "team_id"}[group_by]
    rows_qs = (
        Handoff.objects.filter(routed_at__gte=since, routed_at__lt=until)
        .order_by()
        .values_list(
            "id",
            group_field,
            "team_id",
            "routed_at",
            "due_at",
            "first_contact_at",
            "status",
            "responded_at",
        )
    )
    groups: dict[Any, Row] = {}
    total = Row(key="", label="All")
    spans: dict[int | None, list[tuple[dt.datetime, dt.datetime]]] = {}
    span_rows: dict[int | None, list[Row]] = {}
    for _pk, key, team_id, routed_at, due_at, first, status, responded in rows_qs.iterator(
        chunk_size=5000
    ):
        row = groups.get(key)
        if row is None:
            row = groups[key] = Row(key="" if key is None else str(key), label="")
        kind = outcome(
            due_at=due_at, first_contact_at=first, status=status, responded_at=responded, now=now
        )
        for target in (row, total):
            target.handoffs += 1
            setattr(target, kind, getattr(target, kind) + 1)
        if first is not None:
            spans.setdefault(team_id, []).append((routed_at, first))
            span_rows.setdefault(team_id, []).append(row)
    for team_id, seconds in _business_seconds(spans):
        for row, value in zip(span_rows[team_id], seconds, strict=True):
            row._seconds.append(float(value))
            total._seconds.append(float(value))
    _label(group_by, groups)
    ordered = sorted(groups.values(), key=lambda r: (-r.handoffs, r.label.lower()))
    for row in (*ordered, total):
        row.finish()
    return Report(group_by=group_by, start=start, end=end, rows=ordered, total=total)


def _label(group_by: str, groups: dict[Any, Row]) -> None:
    if group_by == "source":
        for key, row in groups.items():
            row.label = key or "(no source)"
        return
    ids = [k for k in groups if k is not None]
    if group_by == "owner":
        names = {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}
        empty = "(team queue)"
    else:
        names = {t.pk: t.name for t in Team.objects.filter(pk__in=ids)}
        empty = "(no team)"
    for key, row in groups.items():
        row.label = names.get(key, f"#{key}") if key is not None else empty


CSV_HEADER = [
    "group",
    "handoffs",
    "met",
    "breached",
    "pending",
    "closed",
    "no_sla",
    "met_percent",
    "median_business_minutes",
    "p90_business_minutes",
]


def csv_rows(report: Report) -> Iterator[list[str]]:
    def minutes(seconds: float | None) -> str:
        return "" if seconds is None else f"{seconds / 60:.1f}"

    yield CSV_HEADER
    for row in (*report.rows, report.total):
        yield [
            safe_cell(row.label),  # a source is text a visitor's form may have set
            *(str(n) for n in (row.handoffs, row.met, row.breached, row.pending)),
            *(str(n) for n in (row.closed, row.no_sla)),
            "" if row.met_percent is None else str(row.met_percent),
            minutes(row.median_seconds),
            minutes(row.p90_seconds),
        ]

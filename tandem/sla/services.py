"""SLAs: the clock a hand-off starts, business time for reports, and the writes managers
make (policies, business hours).

What routing asks: `start_clock` for a new hand-off, `policy_for` for the policy that
applies; the SLA report: `business_seconds_between(_many)`. Business time follows the
team's calendar, else the company default, else Monday to Friday 09:00-17:00 in
settings.TIME_ZONE with no holidays (tandem/sla/business_time.py).

Units, as a manager promising marketing means them: "15 business minutes" and "4 business
hours" count open time (15 minutes from Friday 18:00 is Monday 09:15). "5 business days"
is not 5 × the day's open minutes: it is due by the same clock time five open days later
(weekends, public holidays and closing days not counted), so a booth lead met on Thursday
at 14:00 is due the next Thursday at 14:00, whatever the lunch breaks in between. Counting
starts at the first open moment, so a lead arriving Friday evening with one business day
is due Tuesday 09:00. A policy stores its amount in minutes of its unit (a day is 1,440);
use `amount` and `unit`, never `minutes` alone, to know what it means.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from tandem.accounts.actor import Actor
from tandem.accounts.models import Team
from tandem.accounts.permissions import require
from tandem.core.audit import diff, record_audit, snapshot
from tandem.sla import validation
from tandem.sla.business_time import UTC, Calendar, calendar_for, seconds_between_many
from tandem.sla.models import UNIT_MINUTES, BusinessCalendar, SlaPolicy, SlaUnit


@dataclass(frozen=True)
class Clock:
    """What the SLA says for one lead handed to a team at `start`."""

    policy_id: int | None
    policy_name: str
    due_at: dt.datetime | None
    remind_at: dt.datetime | None
    reassign_on_breach: bool = False


NO_SLA = Clock(None, "", None, None)


def policy_for(source: str, touchpoint_kind: str) -> SlaPolicy | None:
    """The first active policy (by position) whose source and touchpoint kind match; a
    blank source or kind matches any. Sources compare without case or outer spaces, as
    people type them ("Trade show" is "trade show")."""
    return _first_match(SlaPolicy.objects.filter(is_active=True), source, touchpoint_kind)


def _first_match(
    policies: Iterable[SlaPolicy], source: str, touchpoint_kind: str
) -> SlaPolicy | None:
    wanted = (source or "").strip().casefold()
    for policy in policies:
        if policy.source and policy.source.strip().casefold() != wanted:
            continue
        if policy.touchpoint_kind and policy.touchpoint_kind != touchpoint_kind:
            continue
        return policy
    return None


def add_business_minutes(team_id: int | None, start: dt.datetime, minutes: float) -> dt.datetime:
    """`start` plus `minutes` of the team's open time (UTC). Outside hours the count starts
    at the next opening: 15 minutes from Friday 18:00 is Monday 09:15."""
    return calendar_for(team_id).add_seconds(start, minutes * 60).astimezone(UTC)


def add_business_days(team_id: int | None, start: dt.datetime, days: int) -> dt.datetime:
    """By the same clock time `days` open days later (see Calendar.add_days)."""
    return calendar_for(team_id).add_days(start, days).astimezone(UTC)


def business_seconds_between(team_id: int | None, start: dt.datetime, end: dt.datetime) -> float:
    """Open seconds of the team's calendar from `start` to `end` (0 when `end` is earlier)."""
    return calendar_for(team_id).seconds_between(start, end)


def business_seconds_between_many(
    team_id: int | None, pairs: Iterable[tuple[dt.datetime, dt.datetime]]
) -> list[float]:
    """`business_seconds_between` for many (start, end) pairs of one team, in order: the
    calendar is read and its open intervals laid out once for the whole call."""
    return seconds_between_many(calendar_for(team_id), pairs)


def due_at(calendar: Calendar, policy: SlaPolicy, start: dt.datetime) -> dt.datetime:
    """When a lead that arrived at `start` must have been contacted under `policy`."""
    if policy.unit == SlaUnit.DAYS:
        return calendar.add_days(start, policy.amount).astimezone(UTC)
    return calendar.add_seconds(start, policy.minutes * 60).astimezone(UTC)


def start_clock(
    *, team_id: int | None, source: str, touchpoint_kind: str, start: dt.datetime
) -> Clock:
    """The SLA clock of a lead handed to `team_id` at `start`: due by the policy, reminded
    when `remind_at_share` of the business time to the due moment has passed."""
    policy = policy_for(source, touchpoint_kind)
    if policy is None:
        return NO_SLA
    return _clock(calendar_for(team_id), policy, start)


@dataclass(frozen=True)
class ClockRequest:
    """One lead of a batch for `start_clocks`."""

    team_id: int | None
    source: str
    touchpoint_kind: str
    start: dt.datetime


def start_clocks(requests: Iterable[ClockRequest]) -> list[Clock]:
    """`start_clock` for many leads at once (routing a batch): the policies are read once
    and each team's calendar once, so the cost per lead is the arithmetic alone."""
    policies = list(SlaPolicy.objects.filter(is_active=True))
    calendars: dict[int | None, Calendar] = {}
    clocks = []
    for request in requests:
        policy = _first_match(policies, request.source, request.touchpoint_kind)
        if policy is None:
            clocks.append(NO_SLA)
            continue
        if request.team_id not in calendars:
            calendars[request.team_id] = calendar_for(request.team_id)
        clocks.append(_clock(calendars[request.team_id], policy, request.start))
    return clocks


def _clock(calendar: Calendar, policy: SlaPolicy, start: dt.datetime) -> Clock:
    due = due_at(calendar, policy, start)
    remind = None
    if policy.remind_at_share > 0:
        if policy.unit == SlaUnit.DAYS:
            total = calendar.seconds_between(start, due)
        else:
            total = policy.minutes * 60
        remind = calendar.add_seconds(start, total * policy.remind_at_share).astimezone(UTC)
    return Clock(policy.pk, policy.name, due, remind, policy.reassign_on_breach)


# --- Policies ------------------------------------------------------------------------

POLICY_FIELDS = [
    "name",
    "position",
    "source",
    "touchpoint_kind",
    "minutes",
    "unit",
    "remind_at_share",
    "reassign_on_breach",
    "is_active",
]


def create_sla_policy(*, actor: Actor, data: dict[str, Any]) -> SlaPolicy:
    """A new policy, last in the order unless `position` (1 = first) says where."""
    require(actor, "sla.manage")
    fields = {"source": "", "touchpoint_kind": "", "unit": SlaUnit.MINUTES, **data}
    missing = {f: "This field is required." for f in ("name", "amount") if f not in fields}
    if missing:
        raise ValidationError(missing)
    cleaned = validation.clean_policy(fields)
    position = data.get("position")
    with transaction.atomic():
        ordered = list(SlaPolicy.objects.select_for_update().order_by("position", "id"))
        policy = SlaPolicy.objects.create(**cleaned, position=len(ordered) + 1)
        if position is not None:
            _place(ordered, policy, position)
        record_audit(
            actor=actor,
            event="sla_policy_created",
            target=policy,
            changes=_added(snapshot(policy, POLICY_FIELDS)),
        )
    return policy


def update_sla_policy(*, actor: Actor, policy: SlaPolicy, data: dict[str, Any]) -> SlaPolicy:
    """Change the fields given (`amount` and `unit` together or either alone); a new
    `position` moves the policy there. Clocks already started keep their due time."""
    require(actor, "sla.manage")
    data = dict(data)
    if ("amount" in data) != ("unit" in data):
        data.setdefault("amount", policy.amount)
        data.setdefault("unit", policy.unit)
    cleaned = validation.clean_policy(data)
    with transaction.atomic():
        ordered = list(SlaPolicy.objects.select_for_update().order_by("position", "id"))
        policy = next(p for p in ordered if p.pk == policy.pk)
        before = snapshot(policy, POLICY_FIELDS)
        for name, value in cleaned.items():
            setattr(policy, name, value)
        policy.save()
        if data.get("position") is not None:
            _place(ordered, policy, data["position"])
        changes = diff(before, snapshot(policy, POLICY_FIELDS))
        if changes:
            record_audit(actor=actor, event="sla_policy_changed", target=policy, changes=changes)
    return policy


def move_sla_policy(*, actor: Actor, policy: SlaPolicy, position: int) -> SlaPolicy:
    """Move a policy to `position` (1 = checked first); the others keep their order."""
    return update_sla_policy(actor=actor, policy=policy, data={"position": position})


def delete_sla_policy(*, actor: Actor, policy: SlaPolicy) -> None:
    """Remove a policy. Hand-offs already timed by it keep their due time and its name."""
    require(actor, "sla.manage")
    with transaction.atomic():
        record_audit(
            actor=actor,
            event="sla_policy_deleted",
            target=policy,
            changes=_removed(snapshot(policy, POLICY_FIELDS)),
        )
        policy.delete()
        rest = list(SlaPolicy.objects.select_for_update().order_by("position", "id"))
        _renumber(rest)


def _added(after: dict[str, Any]) -> dict[str, list[Any]]:
    return {name: [None, value] for name, value in after.items() if value not in ("", None)}


def _removed(before: dict[str, Any]) -> dict[str, list[Any]]:
    return {name: [value, None] for name, value in before.items()}


def _place(ordered: list[SlaPolicy], policy: SlaPolicy, position: Any) -> None:
    if not isinstance(position, int) or isinstance(position, bool) or position < 1:
        raise ValidationError({"position": "A whole number from 1 (checked first)."})
    rest = [p for p in ordered if p.pk != policy.pk]
    rest.insert(min(position, len(rest) + 1) - 1, policy)
    _renumber(rest)


def _renumber(ordered: list[SlaPolicy]) -> None:
    """Positions 1, 2, 3… in the given order, in one statement."""
    changed = []
    for index, item in enumerate(ordered, start=1):
        if item.position != index:
            item.position = index
            changed.append(item)
    SlaPolicy.objects.bulk_update(changed, ["position"])


def next_position() -> int:
    return (SlaPolicy.objects.aggregate(top=Max("position"))["top"] or 0) + 1


# --- Business hours ------------------------------------------------------------------

CALENDAR_FIELDS = ["time_zone", "country", "subdivision", "hours", "closing_days"]


def set_business_hours(
    *,
    actor: Actor,
    team: Team | None,
    time_zone: str,
    hours: Any,
    country: str = "",
    subdivision: str = "",
    closing_days: Any = (),
) -> BusinessCalendar:
    """Set a team's business hours (`team=None`: the company default every team without
    its own uses). Clocks already started keep their due time."""
    require(actor, "sla.manage")
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, check in (
        ("time_zone", lambda: validation.clean_time_zone(time_zone)),
        ("country", lambda: validation.clean_country(country, subdivision)),
        ("hours", lambda: validation.clean_hours(hours)),
        ("closing_days", lambda: validation.clean_closing_days(list(closing_days or []))),
    ):
        try:
            cleaned[name] = check()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    values = {
        "time_zone": cleaned["time_zone"],
        "country": cleaned["country"][0],
        "subdivision": cleaned["country"][1],
        "hours": cleaned["hours"],
        "closing_days": cleaned["closing_days"],
    }
    with transaction.atomic():
        rows = BusinessCalendar.objects.select_for_update()
        rows = rows.filter(team__isnull=True) if team is None else rows.filter(team=team)
        calendar = rows.first()
        before = snapshot(calendar, CALENDAR_FIELDS) if calendar else {}
        if calendar is None:
            calendar = BusinessCalendar(team=team)
        for name, value in values.items():
            setattr(calendar, name, value)
        calendar.save()
        after = snapshot(calendar, CALENDAR_FIELDS)
        changes = diff(before, after) if before else _added(after)
        if changes:
            record_audit(actor=actor, event="business_hours_set", target=calendar, changes=changes)
    return calendar


def reset_business_hours(*, actor: Actor, team: Team) -> None:
    """A team goes back to the company's default hours (its own calendar is removed)."""
    require(actor, "sla.manage")
    with transaction.atomic():
        calendar = BusinessCalendar.objects.select_for_update().filter(team=team).first()
        if calendar is None:
            return
        record_audit(
            actor=actor,
            event="business_hours_reset",
            target=calendar,
            changes=_removed(snapshot(calendar, CALENDAR_FIELDS)),
        )
        calendar.delete()


def open_minutes_per_week(calendar: BusinessCalendar | None) -> int:
    """How many minutes a calendar is open in a week without holidays (shown beside it)."""
    return sum((b - a) for day in Calendar.from_row(calendar).week for a, b in day)


__all__ = [
    "NO_SLA",
    "UNIT_MINUTES",
    "Clock",
    "ClockRequest",
    "add_business_days",
    "add_business_minutes",
    "business_seconds_between",
    "business_seconds_between_many",
    "create_sla_policy",
    "delete_sla_policy",
    "move_sla_policy",
    "policy_for",
    "reset_business_hours",
    "set_business_hours",
    "start_clock",
    "start_clocks",
    "update_sla_policy",
]

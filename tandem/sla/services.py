"""What routing asks of SLAs: the clock for a new hand-off, and business time between two
moments (the SLA report's time to first contact)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tandem.sla.models import SlaPolicy


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
    for policy in SlaPolicy.objects.filter(is_active=True):
        if policy.source and policy.source != source:
            continue
        if policy.touchpoint_kind and policy.touchpoint_kind != touchpoint_kind:
            continue
        return policy
    return None


def add_business_minutes(team_id: int | None, start: dt.datetime, minutes: float) -> dt.datetime:
    """`start` plus `minutes` of the team's business time (first cut: wall-clock time)."""
    return start + dt.timedelta(minutes=minutes)


def business_seconds_between(team_id: int | None, start: dt.datetime, end: dt.datetime) -> float:
    """Business seconds of the team's calendar from `start` to `end` (first cut: wall-clock)."""
    return max((end - start).total_seconds(), 0.0)


def start_clock(
    *, team_id: int | None, source: str, touchpoint_kind: str, start: dt.datetime
) -> Clock:
    """The SLA clock of a lead handed to `team_id` at `start`."""
    policy = policy_for(source, touchpoint_kind)
    if policy is None:
        return NO_SLA
    return Clock(
        policy.pk,
        policy.name,
        add_business_minutes(team_id, start, policy.minutes),
        add_business_minutes(team_id, start, policy.minutes * policy.remind_at_share),
        policy.reassign_on_breach,
    )

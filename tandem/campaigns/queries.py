"""Reads of campaigns and touchpoints that other screens show."""

from __future__ import annotations

import datetime as dt

from tandem.campaigns.models import Touchpoint
from tandem.people.models import Person
from tandem.people.queries import TimelineEntry


def person_touchpoint_entries(
    person: Person, before: dt.datetime | None, limit: int
) -> list[TimelineEntry]:
    """A person's touchpoints as timeline entries, newest first (people's timeline source)."""
    touchpoints = Touchpoint.objects.filter(person=person).select_related("campaign")
    if before is not None:
        touchpoints = touchpoints.filter(occurred_at__lt=before)
    return [_touchpoint_entry(t) for t in touchpoints.order_by("-occurred_at", "-id")[:limit]]


def _touchpoint_entry(t: Touchpoint) -> TimelineEntry:
    """A touchpoint line: kind, campaign, UTM tags and any values proposed over filled fields."""
    parts = [
        f"{k.removeprefix('utm_')}={getattr(t, k)}"
        for k in ("utm_source", "utm_medium", "utm_campaign")
        if getattr(t, k)
    ]
    if t.page_url:
        parts.append(t.page_url)
    if t.location:
        parts.append(t.location)
    detail = t.detail if isinstance(t.detail, dict) else {}
    interest = str(detail.get("interest") or "")
    if interest:
        parts.insert(0, f"Interest: {interest}")
    proposed = detail.get("proposed")
    if proposed:
        parts.append("Proposed: " + ", ".join(f"{k} = {v}" for k, v in proposed.items()))
    title = t.get_kind_display() + (f" · {t.campaign.name}" if t.campaign is not None else "")
    return TimelineEntry(
        kind="touchpoint",
        at=t.occurred_at,
        actor_label=t.channel or "",
        title=title,
        body="\n".join(parts) if not t.note else "\n".join([t.note, *parts]),
        source_id=t.pk,
        person_id=t.person_id,
        interest=interest,
    )

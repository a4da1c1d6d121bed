"""Hand-offs made directly (the routing engine is another module's): a person routed to an
owner at a time, with an SLA clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tandem.accounts.actor import Actor
from tandem.people import services as people
from tandem.routing.models import Handoff

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # a Tuesday, 09:00 UTC


def routed(
    *,
    owner: Any = None,
    team: Any = None,
    routed_at: dt.datetime = T0,
    minutes: float | None = 60,
    remind_share: float | None = 0.5,
    person: Any = None,
    source: str = "web",
    name: str = "Lead",
    **fields: Any,
) -> Handoff:
    """A person (made by the system) and their current hand-off, due `minutes` after routing."""
    if person is None:
        person = people.create_person(
            actor=Actor.system("test"),
            data={"first_name": name, "last_name": "Person", "source": source, "owner": owner},
        )
    due = routed_at + dt.timedelta(minutes=minutes) if minutes is not None else None
    remind = (
        routed_at + dt.timedelta(minutes=minutes * remind_share)
        if minutes is not None and remind_share is not None
        else None
    )
    values: dict[str, Any] = {
        "person": person,
        "owner": owner,
        "team": team,
        "routed_by": "Territory: Europe",
        "routed_at": routed_at,
        "sla_name": "Demo request" if minutes is not None else "",
        "due_at": due,
        "remind_at": remind,
    }
    values.update(fields)
    return Handoff.objects.create(**values)

"""Tasks, people and companies for the tests, made through the services as users would."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tandem.accounts.actor import Actor
from tandem.followups import services
from tandem.followups.models import Task
from tandem.people import services as people
from tandem.people.models import Company, Person


def person(system: Actor, **data: Any) -> Person:
    return people.create_person(actor=system, data={"last_name": "Lovelace", **data})


def company(system: Actor, name: str = "Analytical Engines") -> Company:
    return people.create_company(actor=system, data={"name": name})


def task(
    system: Actor,
    *,
    title: str = "Call back",
    kind: str = "call",
    due_at: dt.datetime | None = None,
    **links: Any,
) -> Task:
    return services.create_task(system, kind=kind, title=title, due_at=due_at, **links)

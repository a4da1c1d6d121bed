"""Activities: a note, call, meeting or email logged on a person or a company."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.people import extensions
from tandem.people.models import Activity, ActivityKind, Company, Person

_ACTIVITY_KINDS = frozenset(ActivityKind.values)


def check_activity(*, kind: str, subject: str, body: str, outcome: str) -> None:
    """The checks of a logged activity (`log_activity`, `people.bulk`)."""
    if kind not in _ACTIVITY_KINDS:
        raise ValidationError(
            {"kind": f"{kind!r} is not an activity; use one of: {', '.join(ActivityKind.values)}."}
        )
    if not (subject or "").strip() and not (body or "").strip():
        raise ValidationError({"body": "Write what happened."})
    if len(subject or "") > 200:
        raise ValidationError({"subject": "At most 200 characters."})
    if len(outcome or "") > 200:
        raise ValidationError({"outcome": "At most 200 characters."})


def log_activity(
    *,
    actor: Actor,
    kind: str,
    person: Person | None = None,
    company: Company | None = None,
    subject: str = "",
    body: str = "",
    outcome: str = "",
    occurred_at: dt.datetime | None = None,
) -> Activity:
    """Log a note, call, meeting or email on a person or a company."""
    if person is None and company is None:
        raise ValidationError({"person": "Log an activity on a person or a company."})
    require(actor, "people.log_activity" if person else "companies.log_activity", person or company)
    check_activity(kind=kind, subject=subject, body=body, outcome=outcome)
    if company is None and person is not None:
        company = None  # a person's activity shows on their company via the person
    activity = Activity.objects.create(
        kind=kind,
        person=person,
        company=company,
        occurred_at=occurred_at or timezone.now(),
        actor=actor.user,
        actor_label=actor.label[:150],
        subject=(subject or "").strip(),
        body=(body or "").strip(),
        outcome=(outcome or "").strip(),
    )
    if person is not None:
        extensions.people_touched([person.pk], "activity")  # scoring rescores (ADR 0005)
    return activity

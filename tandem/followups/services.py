"""Making and changing tasks: the one door other apps use."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.followups.models import Task, TaskKind


def create_task(
    actor: Actor,
    *,
    kind: str,
    title: str,
    owner: Any = None,
    due_at: dt.datetime | None = None,
    person: Any = None,
    company: Any = None,
    key: str | None = None,
) -> Task:
    """A new open task. With `key`, a second call with the same key returns the first task."""
    require(actor, "tasks.create")
    if kind not in TaskKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(TaskKind.values)}."})
    if not (title or "").strip():
        raise ValidationError({"title": "Give the task a title."})
    if key:
        found = Task.objects.filter(key=key).first()
        if found is not None:
            return found
    try:
        with transaction.atomic():
            return Task.objects.create(
                kind=kind,
                title=title.strip()[:200],
                owner=owner,
                due_at=due_at,
                person=person,
                company=company,
                key=key or None,
                created_at=timezone.now(),
                created_by_label=actor.label[:150],
            )
    except IntegrityError:
        if key:
            return Task.objects.get(key=key)
        raise

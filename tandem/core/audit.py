"""The audit trail: who changed what, from what, to what.

Services call these inside the transaction of the change itself, so a change
without its audit row cannot be committed. No signals: they would hide who acted.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from typing import Any, Protocol

from django.db import models

from tandem.core.models import AuditEvent


class Actor(Protocol):
    """Who acts, as the audit trail needs it (accounts.actor.Actor is the one in use)."""

    @property
    def user(self) -> Any: ...

    @property
    def label(self) -> str: ...


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of `fields`, as JSON-ready plain values (FKs as ids)."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        assert isinstance(field, models.Field)
        out[name] = _plain(getattr(obj, field.attname))
    return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}


def record_audit(
    *,
    actor: Actor,
    event: str,
    target: models.Model,
    changes: dict[str, list[Any]] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor.user,
        actor_label=actor.label[:150],
        event=event,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        target_repr=str(target)[:200],
        changes=changes or {},
    )


def audit_for(target: models.Model, limit: int = 50) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            target_type=target._meta.label_lower, target_id=target.pk
        ).select_related("actor")[:limit]
    )

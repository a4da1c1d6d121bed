"""The admin-edited list of send-back reasons (issue 20, point 7).

A reason is never deleted: past send-backs are reported by its key, so an admin
deactivates one that should no longer be offered, and may bring it back.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.core.audit import diff, record_audit, snapshot
from tandem.routing.models import SendBackReason

# The list issue 20 names, seeded by migration 0003 (which keeps its own frozen copy).
DEFAULT_REASONS = (
    ("not_decision_maker", "Not the decision maker"),
    ("no_budget", "No budget"),
    ("bad_timing", "Bad timing"),
    ("not_a_fit", "Not a fit"),
    ("duplicate", "Duplicate"),
    ("spam", "Spam"),
    ("other", "Other"),
)
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]{0,49}$")
AUDITED = ("key", "label", "position", "is_active")
MAX_POSITION = 1_000_000


def _clean_label(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError({"label": "Give the reason in words salespeople will recognise."})
    label = " ".join(value.split())
    if len(label) > 100:
        raise ValidationError({"label": f"At most 100 characters (got {len(label)})."})
    return label


def _clean_position(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POSITION:
        raise ValidationError({"position": "Give a whole number from 0 to 1000000."})
    return value


def create_reason(
    *, actor: Actor, key: str, label: str, position: int | None = None
) -> SendBackReason:
    """Add a reason at the end of the list (or at `position`)."""
    require(actor, "routing.manage_reasons")
    key = (key or "").strip().lower()
    if not KEY_PATTERN.match(key):
        raise ValidationError(
            {"key": "Use 1 to 50 lower-case letters, digits and underscores, e.g. no_budget."}
        )
    label = _clean_label(label)
    with transaction.atomic():
        if SendBackReason.objects.filter(key=key).exists():
            raise ValidationError({"key": f"There is a reason {key!r} already."})
        if position is None:  # after the last, without going past the highest position
            last = SendBackReason.objects.aggregate(last=Max("position"))["last"] or 0
            position = min(last + 10, MAX_POSITION)
        reason = SendBackReason.objects.create(
            key=key, label=label, position=_clean_position(position)
        )
        record_audit(
            actor=actor,
            event="created",
            target=reason,
            changes={name: [None, value] for name, value in snapshot(reason, AUDITED).items()},
        )
    return reason


def update_reason(*, actor: Actor, reason: SendBackReason, data: dict[str, Any]) -> SendBackReason:
    """Change the label, position or whether it is offered; the key stays (reports use it)."""
    require(actor, "routing.manage_reasons")
    if "key" in data:
        raise ValidationError({"key": "The key cannot change: past send-backs are filed under it."})
    with transaction.atomic():
        reason = SendBackReason.objects.select_for_update().get(pk=reason.pk)
        before = snapshot(reason, AUDITED)
        if "label" in data:
            reason.label = _clean_label(data["label"])
        if "position" in data:
            reason.position = _clean_position(data["position"])
        if "is_active" in data:
            if not isinstance(data["is_active"], bool):
                raise ValidationError({"is_active": "Give true or false."})
            reason.is_active = data["is_active"]
        changes = diff(before, snapshot(reason, AUDITED))
        if changes:
            reason.save()
            record_audit(actor=actor, event="changed", target=reason, changes=changes)
    return reason


def deactivate_reason(*, actor: Actor, reason: SendBackReason) -> SendBackReason:
    """Stop offering a reason; what was sent back with it keeps it."""
    return update_reason(actor=actor, reason=reason, data={"is_active": False})


def ensure_default_reasons() -> None:
    """Put back any default reason missing (a database flushed after its migrations ran, as
    transactional tests leave it); one that exists keeps its label, position and state."""
    for position, (key, label) in enumerate(DEFAULT_REASONS, start=1):
        SendBackReason.objects.get_or_create(
            key=key, defaults={"label": label, "position": position * 10}
        )

"""Overrides: a person's judgement over the rules, with why, and for how long."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.core.audit import record_audit
from tandem.people.models import Person
from tandem.scoring import engine
from tandem.scoring.models import GRADES, OverrideKind, ScoreOverride


def override_score(
    *,
    actor: Actor,
    person: Person,
    kind: str,
    reason: str,
    score: int | None = None,
    grade: str = "",
    expires_at: dt.datetime | None = None,
) -> ScoreOverride:
    """Set a person's score, grade or "not a lead" over what the rules say.

    Marketers, managers and admins may, and the salesperson who owns the person.
    A reason is required (it is shown beside the score). The override in force
    before is ended; the history keeps both. After `expires_at` it lapses by itself.
    """
    require(actor, "scoring.override", person)
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if kind not in OverrideKind.values:
        errors["kind"] = f"Use one of: {', '.join(OverrideKind.values)}."
    if not reason:
        errors["reason"] = "Say why you override the score."
    elif len(reason) > 1000:
        errors["reason"] = "At most 1,000 characters."
    if kind == OverrideKind.SCORE and (score is None or not -1000 <= score <= 1000):
        errors["score"] = "Give the score, a whole number between -1000 and 1000."
    grade = (grade or "").strip().upper()
    if kind == OverrideKind.GRADE and grade not in GRADES:
        errors["grade"] = f"Use one of: {', '.join(GRADES)}."
    now = timezone.now()
    if expires_at is not None and timezone.is_naive(expires_at):
        expires_at = expires_at.replace(tzinfo=dt.UTC)  # a time without an offset is UTC
    if expires_at is not None and expires_at <= now:
        errors["expires_at"] = "The expiry must be in the future."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ended = ScoreOverride.objects.filter(person=person, ended_at__isnull=True).update(
            ended_at=now, ended_by_label=actor.label[:150]
        )
        override = ScoreOverride.objects.create(
            person=person,
            kind=kind,
            score=score if kind == OverrideKind.SCORE else None,
            grade=grade if kind == OverrideKind.GRADE else "",
            reason=reason,
            expires_at=expires_at,
            created_by=actor.user,
            created_by_label=actor.label[:150],
            created_at=now,
        )
        record_audit(
            actor=actor,
            event="score_overridden",
            target=person,
            changes={
                "override": [
                    None,
                    {
                        "kind": kind,
                        "score": override.score,
                        "grade": override.grade,
                        "reason": reason,
                        "expires_at": expires_at.isoformat() if expires_at else None,
                        "ended_before": ended,
                    },
                ]
            },
        )
        engine.rescore_people([person.pk], now=now)
    return override


def end_override(*, actor: Actor, person: Person, reason: str = "") -> int:
    """End the override in force, so the rules score the person again."""
    require(actor, "scoring.override", person)
    now = timezone.now()
    with transaction.atomic():
        ended = ScoreOverride.objects.filter(person=person, ended_at__isnull=True).update(
            ended_at=now, ended_by_label=actor.label[:150]
        )
        if ended:
            record_audit(
                actor=actor,
                event="score_override_ended",
                target=person,
                changes={"override": ["in force", None], "reason": [None, (reason or "").strip()]},
            )
            engine.rescore_people([person.pk], now=now)
    return ended

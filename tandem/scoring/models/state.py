"""When the scheduled decay rescore last ran (one row), so several workers run it once."""

from __future__ import annotations

from django.db import models


class ScoringClock(models.Model):
    """The singleton row (pk 1): `decay_due_at` is claimed by a conditional UPDATE."""

    decay_due_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"decay due {self.decay_due_at:%Y-%m-%d %H:%M}"

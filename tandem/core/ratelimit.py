"""Fixed-window rate limits counted in the database, so every web process shares them."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from tandem.core.models import RateCounter


@dataclass(frozen=True)
class RateResult:
    allowed: bool
    retry_after: int


def hit(key: str, *, limit: int, window_seconds: int) -> RateResult:
    """Count one hit for `key`; allowed while the window holds at most `limit` hits."""
    now = int(time.time())
    window_start = now - now % window_seconds
    retry_after = window_start + window_seconds - now
    with transaction.atomic():
        updated = RateCounter.objects.filter(key=key, window_start=window_start).update(
            hits=F("hits") + 1
        )
        if not updated:
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window_start=window_start, hits=1)
            except IntegrityError:
                RateCounter.objects.filter(key=key, window_start=window_start).update(
                    hits=F("hits") + 1
                )
        hits = RateCounter.objects.filter(key=key, window_start=window_start).values_list(
            "hits", flat=True
        )[0]
    if now % 97 == 0:  # now and then, drop windows long past
        RateCounter.objects.filter(window_start__lt=now - 86400).delete()
    return RateResult(allowed=hits <= limit, retry_after=max(retry_after, 1))


def peek(key: str, *, limit: int, window_seconds: int) -> RateResult:
    now = int(time.time())
    window_start = now - now % window_seconds
    row = RateCounter.objects.filter(key=key, window_start=window_start).values_list(
        "hits", flat=True
    )
    hits = row[0] if row else 0
    return RateResult(allowed=hits < limit, retry_after=max(window_start + window_seconds - now, 1))


def clear(key: str) -> None:
    RateCounter.objects.filter(key=key).delete()

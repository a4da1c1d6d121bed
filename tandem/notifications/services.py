"""Telling people: `notify` is the one door other apps use."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from tandem.notifications.models import Notification


def notify(
    users: Iterable[Any],
    *,
    kind: str,
    title: str,
    key: str,
    body: str = "",
    url: str = "",
) -> int:
    """Tell each of `users` (users or user ids) once per `key`; returns how many were new.

    Set-based (one insert that ignores the (user, key) pairs already told), so callers
    may repeat it safely: a breach seen by two workers is one notification.
    """
    ids = sorted({int(getattr(u, "pk", u)) for u in users if u is not None})
    if not ids:
        return 0
    now = timezone.now()
    known = set(
        Notification.objects.filter(user_id__in=ids, key=key).values_list("user_id", flat=True)
    )
    fresh = [
        Notification(
            user_id=uid, kind=kind, title=title[:200], body=body, url=url, key=key, created_at=now
        )
        for uid in ids
        if uid not in known
    ]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def unread_count(user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()

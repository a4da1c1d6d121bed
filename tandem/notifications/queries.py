"""Reads: a user's own notifications, newest first, and one of them (404 for anyone else)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from tandem.core.pagination import Page, SortSpec, paginate
from tandem.notifications.models import Notification

NEWEST_FIRST = SortSpec(columns=("created_at",), descending=True)


def notifications_for(viewer: Any, *, unread: bool = False) -> QuerySet[Notification]:
    """The viewer's notifications only: nobody sees another user's news, admins included."""
    qs = Notification.objects.filter(user=viewer)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return qs


def notifications_page(
    *, viewer: Any, unread: bool = False, limit: int, cursor: str | None = None, offset: int = 0
) -> Page:
    return paginate(
        notifications_for(viewer, unread=unread),
        spec=NEWEST_FIRST,
        limit=limit,
        cursor=cursor,
        offset=offset,
    )


def notification_for(viewer: Any, notification_id: int) -> Notification:
    """One of the viewer's notifications; another user's is "not found", not "forbidden"."""
    found = Notification.objects.filter(pk=notification_id, user=viewer).first()
    if found is None:
        raise Http404("No such notification.")
    return found

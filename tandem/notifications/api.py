"""The caller's own notifications over HTTP: list, count, mark read.

Each caller sees only their own (another user's is 404, whatever the role). A read-only
token lists and counts but does not mark read (403), as with every other write.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import P, QueryEx, Router

from tandem.accounts.actor import Actor
from tandem.core.pagination import MAX_LIMIT, MAX_OFFSET
from tandem.notifications import queries, services
from tandem.notifications.models import Notification
from tandem.notifications.schemas import MarkedRead, NotificationOut, NotificationPage, UnreadCount

router = Router(tags=["notifications"])

LIMIT_HELP = f"1 to {MAX_LIMIT}"
OFFSET_HELP = f"0 to {MAX_OFFSET}; page deeper with `cursor`"


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


@router.get("/notifications", response=NotificationPage)
def list_notifications(
    request: HttpRequest,
    unread: QueryEx[bool, P(description="true: only the unread ones")] = False,
    limit: QueryEx[int, P(ge=1, le=MAX_LIMIT, description=LIMIT_HELP)] = 50,
    offset: QueryEx[int, P(ge=0, le=MAX_OFFSET, description=OFFSET_HELP)] = 0,
    cursor: str | None = None,
) -> dict[str, Any]:
    """My notifications, newest first; page with `offset` near the top, `next_cursor` deeper."""
    page = queries.notifications_page(
        viewer=_actor(request).user, unread=unread, limit=limit, cursor=cursor, offset=offset
    )
    return {
        "items": page.items,
        "count": page.count,
        "count_exact": page.count_exact,
        "next_cursor": page.next_cursor,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.get("/notifications/unread-count", response=UnreadCount)
def unread_count(request: HttpRequest) -> dict[str, int]:
    """How many of my notifications are unread (the bell's number)."""
    return {"unread": services.unread_count(_actor(request).user)}


@router.post("/notifications/read-all", response=MarkedRead)
def read_all(request: HttpRequest) -> dict[str, int]:
    """Mark all my unread notifications read."""
    return {"marked": services.mark_all_read(actor=_actor(request))}


@router.post("/notifications/{notification_id}/read", response=NotificationOut)
def read_one(request: HttpRequest, notification_id: int) -> Notification:
    """Mark one of my notifications read (again: no change)."""
    actor = _actor(request)
    notification = queries.notification_for(actor.user, notification_id)
    return services.mark_read(actor=actor, notification=notification)

"""What the notifications API returns (fields listed by name)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from tandem.notifications.models import NotificationKind


class NotificationOut(Schema):
    id: int
    kind: NotificationKind
    title: str
    body: str
    url: str = Field(description="A path inside Tandem the news is about; may be empty.")
    key: str = Field(description="What the news is about; one notification per key.")
    created_at: dt.datetime
    read_at: dt.datetime | None = Field(description="Null while unread.")
    is_read: bool

    @staticmethod
    def resolve_is_read(obj: object) -> bool:
        return getattr(obj, "read_at", None) is not None


class NotificationPage(Schema):
    items: list[NotificationOut]
    count: int
    count_exact: bool = Field(description="False when the count is capped.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    limit: int
    offset: int


class UnreadCount(Schema):
    unread: int


class MarkedRead(Schema):
    marked: int = Field(description="How many were unread and are now read.")

"""Telling people: `notify` is the one door other apps use; the rest are the user's own
inbox (mark read) and email preferences.

A user's notifications are theirs alone: every write here takes the notification the
caller fetched through `queries.notification_for` (scoped to the viewer, 404 otherwise)
and checks again that it is the actor's own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.core.audit import record_audit
from tandem.notifications.models import EmailPreference, Notification, NotificationKind

log = logging.getLogger(__name__)

KEY_MAX = Notification._meta.get_field("key").max_length or 200
URL_MAX = Notification._meta.get_field("url").max_length or 500


def is_local_path(url: str) -> bool:
    """True for a path inside Tandem ("/people/12/"), false for anything a browser could
    take off-site: a scheme or host ("https://x", "//x", "/\\x"), control characters or
    backslashes (browsers read "\\" as "/"), or a relative path."""
    if not url or not url.startswith("/") or url.startswith("//"):
        return False
    if "\\" in url or any(ord(c) < 32 or ord(c) == 127 for c in url):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


@dataclass(frozen=True)
class News:
    """One notification to make: for `user` (a user or a user id), once per `key`."""

    user: Any
    kind: str
    title: str
    key: str
    body: str = ""
    url: str = ""


def _check(news: News) -> None:
    if news.kind not in NotificationKind.values:
        raise ValueError(f"unknown notification kind {news.kind!r}")
    if news.url and (not is_local_path(news.url) or len(news.url) > URL_MAX):
        raise ValueError(f"a notification links to a path inside Tandem, not {news.url!r}")
    if not news.key or len(news.key) > KEY_MAX:
        raise ValueError(f"a notification needs a key (what it is about) of 1 to {KEY_MAX} chars")


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
    may repeat it safely: a breach seen by two workers is one notification. Each new
    notification is emailed to its user once, by a task after the commit (emails.py).
    `url` must be a path inside Tandem (the bell and the email link follow it).
    """
    return notify_many(
        News(user=u, kind=kind, title=title, key=key, body=body, url=url)
        for u in users
        if u is not None
    )


def notify_many(news: Iterable[News]) -> int:
    """`notify` for many pieces of news at once (routing a batch of leads): one INSERT, one
    read-back and one email task after the commit, whatever the number; returns how many
    were new. A loop of `notify` calls makes a task each: batch with this instead.
    """
    now = timezone.now()
    rows: dict[tuple[int, str], Notification] = {}
    for item in news:
        _check(item)
        uid = int(getattr(item.user, "pk", item.user))
        rows.setdefault(
            (uid, item.key),
            Notification(
                user_id=uid,
                kind=item.kind,
                title=" ".join(item.title.split())[:200],
                body=item.body,
                url=item.url,
                key=item.key,
                created_at=now,
            ),
        )
    if not rows:
        return 0
    Notification.objects.bulk_create(rows.values(), ignore_conflicts=True)
    # Ours are the rows of this instant: a pair told before keeps its older time, and a
    # concurrent notify that won a pair wrote its own instant.
    users = {uid for uid, _ in rows}
    keys = {key for _, key in rows}
    new_ids = [
        pk
        for pk, uid, key in Notification.objects.filter(
            user_id__in=users, key__in=keys, created_at=now
        ).values_list("pk", "user_id", "key")
        if (uid, key) in rows
    ]
    if new_ids:
        _email_after_commit(new_ids)
    return len(new_ids)


def _email_after_commit(ids: list[int]) -> None:
    transaction.on_commit(partial(_enqueue_emails, ids))


def _enqueue_emails(ids: list[int]) -> None:
    from tandem.notifications.tasks import send_notification_emails

    try:
        send_notification_emails.enqueue(ids)
    except Exception:  # the news is committed; the worker's sweep sends the email later
        log.exception("queueing %s notification emails failed", len(ids))


def unread_count(user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def _own(actor: Actor, notification: Notification) -> None:
    """Only the user a notification is for changes it, and not with a read-only token."""
    if actor.user is None or notification.user_id != actor.user.pk:
        raise PermissionDenied("Not allowed: another user's notification")
    if not actor.can_write:
        raise PermissionDenied("Not allowed: a read-only token does not mark notifications read")


def mark_read(*, actor: Actor, notification: Notification) -> Notification:
    """Mark one notification read (again is a no-op: the first read time stays)."""
    _own(actor, notification)
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.refresh_from_db(fields=["read_at"])
    return notification


def mark_all_read(*, actor: Actor) -> int:
    """Mark every unread notification of the actor read: one UPDATE; returns how many."""
    if actor.user is None:
        raise PermissionDenied("Not allowed: only a user has notifications")
    if not actor.can_write:
        raise PermissionDenied("Not allowed: a read-only token does not mark notifications read")
    return Notification.objects.filter(user=actor.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def emailed_kinds(user: Any) -> set[str]:
    """The kinds of news `user` gets by email (all but those they turned off)."""
    pref = EmailPreference.objects.filter(user=user).first()
    muted = set(pref.muted_kinds) if pref else set()
    return set(NotificationKind.values) - muted


def set_email_preferences(*, actor: Actor, user: Any, kinds: Iterable[str]) -> EmailPreference:
    """Email `user` only about `kinds` from now on (emails not sent yet included).

    A user sets their own; the change is audited."""
    if actor.user is None or actor.user.pk != user.pk:
        raise PermissionDenied("Not allowed: another user's email preferences")
    if not actor.can_write:
        raise PermissionDenied("Not allowed: a read-only token")
    wanted = set(kinds)
    unknown = wanted - set(NotificationKind.values)
    if unknown:
        raise ValidationError({"kinds": f"Unknown kinds: {', '.join(sorted(unknown))}."})
    muted = sorted(set(NotificationKind.values) - wanted)
    with transaction.atomic():
        pref, _ = EmailPreference.objects.select_for_update().get_or_create(user=user)
        before = sorted(pref.muted_kinds or [])
        pref.muted_kinds = muted
        pref.save()
        if before != muted:
            record_audit(
                actor=actor,
                event="notification_email_preferences_changed",
                target=pref,
                changes={"muted_kinds": [before, muted]},
            )
    return pref

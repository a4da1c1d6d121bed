"""Untouched leads: every routed lead nobody has contacted yet, oldest due first.

A sales manager who promised marketing "every lead called within the hour"
watches this list go empty. Managers and admins ("routing.view_untouched") see
every lead and may filter by owner and team. Anyone else sees their own: the
leads they own, plus their team's queue (routed to the team, no owner yet), the
ones they are expected to pick up; asking for another owner's is refused (403).

Served by the partial index handoff_untouched_idx (due_at, id WHERE is_current
AND first_contact_at IS NULL): the set is small (leads wait minutes to days) even
on a million people, and it is read in due order, so a page reads one index range.
Leads with no due date (no SLA) come after all dated ones, by id.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from tandem.accounts.permissions import can
from tandem.core.pagination import MAX_LIMIT
from tandem.routing.escalation import waiting
from tandem.routing.models import Handoff

# What a row needs: read as values, not model objects (a page of 200 in a few ms).
FIELDS = (
    "id",
    "person_id",
    "person__first_name",
    "person__last_name",
    "person__email",
    "owner_id",
    "owner__first_name",
    "owner__last_name",
    "owner__username",
    "team_id",
    "team__name",
    "routed_at",
    "routed_by",
    "due_at",
    "sla_name",
)


@dataclass
class UntouchedPage:
    items: list[dict[str, Any]]  # FIELDS of each hand-off
    next_cursor: str | None
    limit: int
    sees_all: bool
    now: dt.datetime


def sees_all(user: Any) -> bool:
    return can(user, "routing.view_untouched")


def scope(user: Any, *, owner: int | None = None, team: int | None = None) -> QuerySet[Handoff]:
    """The untouched leads `user` may see, filtered; PermissionDenied for another's leads."""
    qs = waiting().filter(person__deleted_at__isnull=True)
    if sees_all(user):
        if owner is not None:
            qs = qs.filter(owner_id=owner)
        if team is not None:
            qs = qs.filter(team_id=team)
        return qs
    if owner is not None and owner != user.pk:
        raise PermissionDenied("Only managers see other people's untouched leads.")
    if team is not None and team != user.team_id:
        raise PermissionDenied("Only managers see other teams' untouched leads.")
    mine = Q(owner_id=user.pk)
    if user.team_id is not None and owner is None:
        mine |= Q(owner__isnull=True, team_id=user.team_id)
    return qs.filter(mine)


def _encode(due_at: dt.datetime | None, pk: int) -> str:
    raw = json.dumps([due_at.isoformat() if due_at else None, pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[dt.datetime | None, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        due, pk = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if not isinstance(pk, int) or isinstance(pk, bool) or not 0 <= pk < 2**63:
            raise ValueError
        when = dt.datetime.fromisoformat(due) if due is not None else None
        if when is not None and timezone.is_naive(when):
            raise ValueError
        return when, pk
    except (ValueError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationError({"cursor": "This cursor is not valid for this list."}) from None


def untouched_page(
    user: Any,
    *,
    owner: int | None = None,
    team: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> UntouchedPage:
    """One page, oldest due first (no due date last); `next_cursor` for the next one."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": f"Use a limit from 1 to {MAX_LIMIT}."})
    qs = scope(user, owner=owner, team=team).values(*FIELDS)
    dated, undated = qs.filter(due_at__isnull=False), qs.filter(due_at__isnull=True)
    rows: list[dict[str, Any]] = []
    if cursor:
        due, pk = _decode(cursor)
        if due is None:
            dated = dated.none()
            undated = undated.filter(pk__gt=pk)
        else:
            dated = dated.filter(Q(due_at__gt=due) | Q(due_at=due, pk__gt=pk))
    rows = list(dated.order_by("due_at", "id")[: limit + 1])
    if len(rows) <= limit:
        rows += list(undated.order_by("id")[: limit + 1 - len(rows)])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode(rows[-1]["due_at"], rows[-1]["id"]) if has_more and rows else None
    return UntouchedPage(
        items=rows,
        next_cursor=next_cursor,
        limit=limit,
        sees_all=sees_all(user),
        now=timezone.now(),
    )


def _name(first: str, last: str, fallback: str) -> str:
    return f"{first} {last}".strip() or fallback


def as_item(row: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """One row of the list as the API and the page show it."""
    due = row["due_at"]
    owner = row["owner_id"]
    return {
        "person_id": row["person_id"],
        "person_name": _name(
            row["person__first_name"],
            row["person__last_name"],
            row["person__email"] or f"Person #{row['person_id']}",
        ),
        "owner": owner,
        "owner_name": _name(
            row["owner__first_name"] or "",
            row["owner__last_name"] or "",
            row["owner__username"] or "",
        )
        if owner
        else "",
        "team": row["team_id"],
        "team_name": row["team__name"] or "",
        "routed_at": row["routed_at"],
        "routed_by": row["routed_by"],
        "due_at": due,
        "overdue": due is not None and due <= now,
        "sla_name": row["sla_name"],
    }

"""Reads for tasks: the list and its pages, one task, the Tasks page's groups, the cards."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from tandem.accounts.models import User
from tandem.core.pagination import MAX_LIMIT, MAX_OFFSET, Page, capped_count
from tandem.followups.filters import TaskFilter, due_ranges
from tandem.followups.models import Task, TaskStatus
from tandem.people.models import Company, Person

# Soonest due first, undated last, then by id: the order of every task list.
ORDER = (F("due_at").asc(nulls_last=True), "id")
GROUPS = (("overdue", "Overdue"), ("today", "Due today"), ("upcoming", "Upcoming"))
GROUP_LIMIT = 100
CARD_DONE_LIMIT = 5
CARD_LIMIT = 200


def tasks_for_list(
    *, viewer: User | None, filters: TaskFilter, now: dt.datetime | None = None
) -> QuerySet[Task]:
    """Tasks the viewer may see, filtered. Everyone inside the company sees every task
    (principle 1: the knowledge is the company's, like people and companies)."""
    qs = Task.objects.all()
    qs = filters.apply(qs, viewer=viewer, now=now or timezone.now())
    return qs.select_related("owner", "person", "company")


def task_detail(pk: int) -> Task:
    """One task (Task.DoesNotExist: a 404)."""
    return Task.objects.select_related("owner", "person", "company").get(pk=pk)


# --- keyset pages over (due_at NULLS LAST, id) ----------------------------------------


def _encode(task: Task) -> str:
    values = [task.due_at.isoformat() if task.due_at else None, task.pk]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str) -> Q:
    """Tasks after the cursor's one in list order (undated tasks come last)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        due, pk = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
        if due is None:
            return Q(due_at__isnull=True, id__gt=pk)
        if not isinstance(due, str):
            raise ValueError
        at = dt.datetime.fromisoformat(due)
        if timezone.is_naive(at):
            raise ValueError
    except (ValueError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        raise ValidationError({"cursor": "This cursor is not valid for this list."}) from None
    return Q(due_at__gt=at) | Q(due_at=at, id__gt=pk) | Q(due_at__isnull=True)


def tasks_page(
    *,
    viewer: User | None,
    filters: TaskFilter,
    limit: int = 50,
    cursor: str | None = None,
    offset: int = 0,
    now: dt.datetime | None = None,
) -> Page:
    """One page of tasks: `offset` near the top, `next_cursor` deeper (as the people list)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": f"Use a limit from 1 to {MAX_LIMIT}."})
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationError({"offset": f"Use an offset from 0 to {MAX_OFFSET}."})
    if cursor and offset:
        raise ValidationError({"cursor": "Give a cursor or an offset, not both."})
    qs = tasks_for_list(viewer=viewer, filters=filters, now=now)
    count, exact = capped_count(qs)
    ordered = qs.order_by(*ORDER)
    if cursor:
        ordered = ordered.filter(_after(cursor))
    rows = list(ordered[offset : offset + limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=rows,
        count=count,
        count_exact=exact,
        next_cursor=_encode(rows[-1]) if has_more and rows else None,
        limit=limit,
        offset=offset,
    )


# --- the Tasks page and the cards -----------------------------------------------------


@dataclass
class TaskGroup:
    key: str
    label: str
    tasks: list[Task]
    has_more: bool


def task_groups(
    *, viewer: User | None, filters: TaskFilter, now: dt.datetime, limit: int = GROUP_LIMIT
) -> list[TaskGroup]:
    """Open tasks as the Tasks page shows them: overdue, due today, upcoming.

    Each dated group is one range of an index on (due_at, id) in its order; upcoming
    reads its dated tasks that way, then the undated ones (an OR of both would make the
    database read and sort every open task)."""
    base = tasks_for_list(viewer=viewer, filters=filters, now=now).filter(status=TaskStatus.OPEN)
    ranges = due_ranges(now)
    groups = []
    for key, label in GROUPS:
        rows = list(base.filter(ranges[key]).order_by("due_at", "id")[: limit + 1])
        if key == "upcoming" and len(rows) <= limit:
            undated = base.filter(due_at__isnull=True).order_by("id")
            rows += list(undated[: limit + 1 - len(rows)])
        groups.append(TaskGroup(key, label, rows[:limit], len(rows) > limit))
    return groups


def done_tasks(*, viewer: User | None, filters: TaskFilter, limit: int = GROUP_LIMIT) -> list[Task]:
    """Recently completed tasks, newest first."""
    qs = tasks_for_list(viewer=viewer, filters=filters).filter(status=TaskStatus.DONE)
    return list(qs.order_by("-completed_at", "-id")[:limit])


@dataclass
class TasksCard:
    """The tasks about one person or company, for its page: open ones, then the latest done."""

    open: list[Task]
    done: list[Task]
    person: Person | None = None
    company: Company | None = None

    @property
    def subject(self) -> Any:
        return self.person or self.company


def _card(qs: QuerySet[Task]) -> tuple[list[Task], list[Task]]:
    """One query: the open tasks soonest first, and the latest done ones (of the first
    CARD_LIMIT not cancelled; a person or company with more has a Tasks list link)."""
    qs = qs.exclude(status=TaskStatus.CANCELLED).select_related("owner", "person", "company")
    rows = list(qs.order_by(*ORDER)[:CARD_LIMIT])
    open_ = [t for t in rows if t.status == TaskStatus.OPEN]
    done = [t for t in rows if t.status == TaskStatus.DONE]
    done.sort(key=lambda t: (t.completed_at or t.updated_at, t.pk), reverse=True)
    return open_, done[:CARD_DONE_LIMIT]


def person_tasks(person: Person) -> TasksCard:
    open_, done = _card(Task.objects.filter(person=person))
    return TasksCard(open=open_, done=done, person=person)


def company_tasks(company: Company) -> TasksCard:
    """Tasks about the company itself or about one of its people."""
    open_, done = _card(Task.objects.filter(Q(company=company) | Q(person__company=company)))
    return TasksCard(open=open_, done=done, company=company)

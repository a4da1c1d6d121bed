"""`{% task_row task %}`: one task as a row, with the buttons its viewer may use.

The row is the same on the Tasks page, the task page and the person and company
cards; the flags it shows (overdue, may edit) are decided here, not in the template.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from tandem.accounts.permissions import can
from tandem.followups.filters import is_overdue
from tandem.followups.models import Task, TaskStatus

register = template.Library()


def row_context(task: Task, user: Any, *, hx: bool = False, next_url: str = "") -> dict[str, Any]:
    return {
        "task": task,
        "is_open": task.status == TaskStatus.OPEN,
        "is_done": task.status == TaskStatus.DONE,
        "is_overdue": is_overdue(status=task.status, due_at=task.due_at, now=timezone.now()),
        "is_subject_deleted": task.person is not None and task.person.deleted_at is not None,
        "can_edit": can(user, "tasks.edit", task),
        "hx": hx,
        "next": next_url,
    }


@register.inclusion_tag("followups/_task_row.html", takes_context=True)
def task_row(context: template.Context, task: Task, hx: bool = False) -> dict[str, Any]:
    request = context["request"]
    here = context.get("here") or request.get_full_path()
    out = row_context(task, request.user, hx=hx, next_url=here)
    out["csrf_token"] = context.get("csrf_token")
    return out

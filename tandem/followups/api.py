"""Tasks over HTTP (/api/v1/tasks): fetch the task, call the service, return it.

Permissions, checks and audit live in followups/services.py; request.auth is the
acting `Actor` (accounts/api_auth.py); errors are mapped in core/api_errors.py.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from ninja import P, Query, QueryEx, Router, Status

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.accounts.queries import owner_by_ref
from tandem.core.pagination import MAX_LIMIT, MAX_OFFSET
from tandem.followups import services
from tandem.followups.filters import TaskFilter
from tandem.followups.models import Task, TaskStatus
from tandem.followups.queries import task_detail, tasks_page
from tandem.followups.schemas import CompleteIn, TaskIn, TaskOut, TaskPage, TaskPatch
from tandem.people.models import Company, Person

router = Router(tags=["tasks"])


def _actor(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _person(pk: int | None) -> Person | None:
    if pk is None:
        return None
    person = Person.objects.filter(pk=pk, deleted_at__isnull=True).first()
    if person is None:
        raise ValidationError({"person": f"There is no person {pk}."})
    return person


def _company(pk: int | None) -> Company | None:
    if pk is None:
        return None
    company = Company.objects.filter(pk=pk, deleted_at__isnull=True).first()
    if company is None:
        raise ValidationError({"company": f"There is no company {pk}."})
    return company


_RESOLVE = {"owner": owner_by_ref, "person": _person, "company": _company}


def _resolved(data: dict[str, Any]) -> dict[str, Any]:
    """Ids to rows; every unknown one named at once."""
    out, errors = dict(data), {}
    for name, resolve in _RESOLVE.items():
        if name in out:
            try:
                out[name] = resolve(out[name])
            except ValidationError as err:
                errors.update(err.message_dict)
    if errors:
        raise ValidationError(errors)
    return out


@router.get("/tasks", response=TaskPage)
def list_tasks(
    request: HttpRequest,
    filters: Query[TaskFilter],
    limit: QueryEx[int, P(ge=1, le=MAX_LIMIT, description=f"1 to {MAX_LIMIT}")] = 50,
    offset: QueryEx[int, P(ge=0, le=MAX_OFFSET, description="Page deeper with `cursor`")] = 0,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Tasks, soonest due first (undated last); filter by owner (`me`), status, kind,
    person, company, or `due` (overdue, today, upcoming in the site's time zone)."""
    actor = _actor(request)
    require(actor, "tasks.view")
    page = tasks_page(viewer=actor.user, filters=filters, limit=limit, cursor=cursor, offset=offset)
    return {
        "items": page.items,
        "count": page.count,
        "count_exact": page.count_exact,
        "next_cursor": page.next_cursor,
        "limit": page.limit,
        "offset": page.offset,
    }


@router.post("/tasks", response={201: TaskOut})
def create_task(request: HttpRequest, payload: TaskIn) -> Status:
    """Add a task; `status: done` records one already done (a call is logged as done)."""
    actor = _actor(request)
    data = payload.model_dump()
    status = data.pop("status")
    if "owner" not in payload.model_fields_set:
        del data["owner"]
    data = _resolved(data)
    data.setdefault("owner", actor.user)  # "my task" unless said otherwise
    with transaction.atomic():
        task = services.create_task(actor, **data)
        if status == TaskStatus.DONE:
            task = services.complete_task(actor, task=task)
    return Status(201, task_detail(task.pk))


@router.get("/tasks/{task_id}", response=TaskOut)
def get_task(request: HttpRequest, task_id: int) -> Task:
    require(_actor(request), "tasks.view")
    return task_detail(task_id)


@router.patch("/tasks/{task_id}", response=TaskOut)
def update_task(request: HttpRequest, task_id: int, payload: TaskPatch) -> Task:
    """Change the fields sent, all or nothing; `status` completes, reopens or cancels."""
    actor, task = _actor(request), task_detail(task_id)
    data = payload.model_dump(exclude_unset=True)
    status = data.pop("status", None)
    if "notes" in data and data["notes"] is None:
        data["notes"] = ""
    # The move first, then the fields: handing a task on ("owner") in the same request
    # as reopening it must not leave the caller without the right to reopen it.
    with transaction.atomic():
        if status == TaskStatus.DONE:
            task = services.complete_task(actor, task=task)
        elif status == TaskStatus.OPEN:
            task = services.reopen_task(actor, task=task)
        elif status == TaskStatus.CANCELLED:
            task = services.cancel_task(actor, task=task)
        if data:
            services.update_task(actor, task=task, changes=_resolved(data))
    return task_detail(task_id)


@router.post("/tasks/{task_id}/complete", response=TaskOut)
def complete_task(request: HttpRequest, task_id: int, payload: CompleteIn | None = None) -> Task:
    """Mark it done. A call, email or meeting is logged on the person's (or company's)
    timeline with the outcome and notes, once per task."""
    body = payload or CompleteIn.model_validate({})
    services.complete_task(
        _actor(request),
        task=task_detail(task_id),
        outcome=body.outcome,
        notes=body.notes,
        log=body.log_activity,
    )
    return task_detail(task_id)


@router.post("/tasks/{task_id}/reopen", response=TaskOut)
def reopen_task(request: HttpRequest, task_id: int) -> Task:
    services.reopen_task(_actor(request), task=task_detail(task_id))
    return task_detail(task_id)


@router.post("/tasks/{task_id}/cancel", response=TaskOut)
def cancel_task(request: HttpRequest, task_id: int) -> Task:
    services.cancel_task(_actor(request), task=task_detail(task_id))
    return task_detail(task_id)

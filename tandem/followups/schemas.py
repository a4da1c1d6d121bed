"""What /api/v1/tasks takes and returns (fields listed by name).

The shape of issue 20: `{"kind", "title", "person", "company", "owner", "due_at",
"status"}`, `person` and `company` by id. Inputs refuse unknown fields; the
services check everything again (an owner who is active, a person not deleted).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.urls import reverse
from django.utils import timezone
from ninja import Schema
from pydantic import Field, StrictInt

from tandem.followups.filters import BIGINT_MAX, is_overdue
from tandem.followups.models import Task, TaskKind, TaskStatus
from tandem.followups.services import NOTES_MAX, OUTCOME_MAX
from tandem.people.schemas import NOT_BLANK, CompanyRef, IdOrName, Moment, StrictIn, UserRef

RecordId = Annotated[StrictInt, Field(ge=1, le=BIGINT_MAX)]
OWNER_HELP = "User id or user name; null for nobody. Left out on create: the caller."


class TaskIn(StrictIn):
    kind: TaskKind = Field(TaskKind.TODO, description="call, email, meeting or todo")
    title: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    notes: str = Field("", max_length=NOTES_MAX)
    person: RecordId | None = Field(None, description="Person id")
    company: RecordId | None = Field(None, description="Company id")
    owner: IdOrName | None = Field(None, description=OWNER_HELP)
    due_at: Moment | None = Field(None, description="ISO 8601; UTC without an offset")
    status: Literal["open", "done"] = Field(
        "open",
        description="`done` records a task already done (a call, email or meeting is logged)",
    )


class TaskPatch(StrictIn):
    """Only the fields sent change. `status` moves the task: `done` completes it (a call,
    email or meeting is logged), `open` reopens it, `cancelled` cancels it."""

    # Never null: a task keeps a kind, a title and a status (left out: unchanged).
    kind: TaskKind = Field(None)  # type: ignore[assignment]
    title: str = Field(None, min_length=1, max_length=200, pattern=NOT_BLANK)  # type: ignore[assignment]
    notes: str | None = Field(None, max_length=NOTES_MAX)
    person: RecordId | None = Field(None, description="Person id; null for none")
    company: RecordId | None = Field(None, description="Company id; null for none")
    owner: IdOrName | None = Field(None, description="User id or user name; null for nobody")
    due_at: Moment | None = Field(None, description="ISO 8601; null for no due time")
    status: TaskStatus = Field(None)  # type: ignore[assignment]


class CompleteIn(StrictIn):
    outcome: str = Field("", max_length=OUTCOME_MAX, description="e.g. booked a demo")
    notes: str = Field("", max_length=NOTES_MAX, description="What happened")
    log_activity: bool = Field(
        True, description="Log the call, email or meeting on the person's timeline"
    )


class PersonRef(Schema):
    id: int
    full_name: str = Field(description="The name the pages show (or the email).")

    @staticmethod
    def resolve_full_name(obj: object) -> str:
        return str(obj)


class TaskOut(Schema):
    id: int
    kind: TaskKind
    title: str
    notes: str
    status: TaskStatus
    person: PersonRef | None
    company: CompanyRef | None
    owner: UserRef | None
    due_at: dt.datetime | None
    is_overdue: bool = Field(description="Open and past its due time.")
    created_at: dt.datetime
    created_by_label: str
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    completed_by_label: str
    outcome: str
    completion_notes: str
    activity_id: int | None = Field(description="The activity its completion logged.")
    key: str | None = Field(description="Set on tasks another app made (e.g. routing).")
    url: str = Field(description="The task's page in the web app.")

    @staticmethod
    def resolve_is_overdue(obj: Task) -> bool:
        return is_overdue(status=obj.status, due_at=obj.due_at, now=timezone.now())

    @staticmethod
    def resolve_url(obj: Task, context: dict) -> str:
        return context["request"].build_absolute_uri(reverse("tasks:detail", args=[obj.pk]))


class TaskPage(Schema):
    items: list[TaskOut]
    count: int
    count_exact: bool = Field(description="False when the count is capped.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    limit: int
    offset: int

"""A task: something a person must do by a time, about a person or a company."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

# The fields a user may change on a task (update_task, the API's PATCH, the edit form).
TASK_EDITABLE_FIELDS = ("title", "kind", "due_at", "owner", "person", "company", "notes")


class TaskKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "Meeting"
    TODO = "todo", "To-do"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Task(models.Model):
    kind = models.CharField(max_length=10, choices=TaskKind.choices, default=TaskKind.TODO)
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
        db_index=False,  # task_person_due_idx leads with it
    )
    company = models.ForeignKey(
        "people.Company",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
        db_index=False,  # task_company_due_idx leads with it
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    # Set by an app that makes tasks by itself (routing: "contact this booth lead"), so a
    # repeated run makes no second task.
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=150, blank=True)
    updated_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_by_label = models.CharField(max_length=150, blank=True)
    outcome = models.CharField(max_length=200, blank=True)  # said when completing it
    completion_notes = models.TextField(blank=True)
    # The call, email or meeting logged on the person's (or company's) timeline when the
    # task was completed: one per task, however often it is reopened and completed.
    activity = models.ForeignKey(
        "people.Activity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # "My tasks": one owner's open tasks by due time.
            models.Index(
                fields=["owner", "due_at", "id"],
                name="task_owner_due_idx",
                condition=Q(status="open"),
            ),
            # Everyone's open tasks by due time (a manager's "overdue" across the company).
            models.Index(
                fields=["due_at", "id"], name="task_open_due_idx", condition=Q(status="open")
            ),
            # The tasks card of a person and of a company.
            models.Index(fields=["person", "due_at", "id"], name="task_person_due_idx"),
            models.Index(fields=["company", "due_at", "id"], name="task_company_due_idx"),
        ]

    def __str__(self) -> str:
        return self.title

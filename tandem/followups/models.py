"""A task: something a person must do by a time, about a person or a company."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


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
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    company = models.ForeignKey(
        "people.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
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
    created_by_label = models.CharField(max_length=150, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["owner", "due_at", "id"],
                name="task_owner_due_idx",
                condition=Q(status="open"),
            )
        ]

    def __str__(self) -> str:
        return self.title

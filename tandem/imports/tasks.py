"""Background work of imports: load by id, call the service (STYLE: tasks are interfaces)."""

from __future__ import annotations

from django_tasks import task
from django_tasks.base import Task

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.imports import services
from tandem.imports.models import ImportJob

# An import's task starts ahead of the capture drains queued meanwhile: under a steady
# stream of web-form posts each web process queues one every 0.25 s, and on a busy machine
# the wizard's import waited behind hundreds of them, never starting while posts came in.
# Once started a task runs to its end whatever its priority, so captures wait no longer
# than they would anyway; what they wait for is in the inbox, not lost.
PRIORITY = 10


def ahead(job_task: Task) -> Task:
    """The task with the imports' priority, where the backend orders by priority (the
    database queue does; RQ's does not, and refuses one)."""
    if job_task.get_backend().supports_priority:
        return job_task.using(priority=PRIORITY)
    return job_task


@task()
def run_import_task(job_id: int) -> None:
    """Import the job's rows batch by batch; a second run resumes after the last batch."""
    services.run_import(job_id=job_id)


@task()
def dry_run_task(job_id: int) -> None:
    services.dry_run(job_id=job_id)


@task()
def undo_import_task(job_id: int, user_id: int | None) -> None:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return
    user = User.objects.filter(pk=user_id).first() if user_id else None
    actor = Actor.for_user(user) if user is not None else Actor.system(f"undo of import #{job_id}")
    services.undo_import(actor=actor, job=job)

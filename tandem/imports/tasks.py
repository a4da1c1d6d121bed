"""Background work of imports: load by id, call the service (STYLE: tasks are interfaces)."""

from __future__ import annotations

from django_tasks import task

from tandem.accounts.models import User
from tandem.core.actor import Actor
from tandem.imports import services
from tandem.imports.models import ImportJob


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

"""Imports: what the job steps share (who a run acts as, failing a job, counts)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.core.dblocks import retry_on_lock
from tandem.imports.mapping import (
    country_for,
    custom_entity,
)
from tandem.imports.models import (
    ImportJob,
    ImportStatus,
)
from tandem.people.models import CustomField
from tandem.people.normalize import clean_country

ACTIVE = (ImportStatus.QUEUED, ImportStatus.RUNNING)


def custom_fields_for(entity: str) -> list[CustomField]:
    return list(CustomField.objects.filter(entity=custom_entity(entity)))


def job_actor(job: ImportJob) -> Actor:
    """Who a background run acts as: the person who started the import."""
    if job.created_by is not None and job.created_by.is_active:
        return Actor.for_user(job.created_by)
    return Actor.system(f"import #{job.pk}")


def fail_job(job: ImportJob, message: str) -> None:
    """Mark the job failed; waits out a lock still held (the reason it may be failing)."""
    retry_on_lock(
        lambda: ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, error=message[:2000], finished_at=timezone.now()
        )
    )
    job.refresh_from_db()


def default_region() -> str:
    return (settings.TANDEM_DEFAULT_REGION or "US").upper()


def clean_region(value: str) -> str:
    """A region for reading phones: a two-letter code or a country name ("DE", "Germany")."""
    if not (value or "").strip():
        return default_region()
    try:
        return clean_country(country_for(value))
    except ValidationError:
        raise ValidationError(
            {
                "region": f"{value!r} is not a country we know; give its two-letter code (e.g. DE, US)."
            }
        ) from None


def file_message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def reset_counts(job: ImportJob) -> None:
    job.is_dry_run = False
    job.processed_rows = job.created_count = job.updated_count = 0
    job.skipped_count = job.rejected_count = job.left_out_count = 0
    job.error = ""

"""Imports: the dry run, the whole import in one transaction rolled back (J10)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.core.dblocks import busy_text, is_lock_timeout, retry_on_lock
from tandem.imports.bulk import (
    JobContext,
    Outcome,
    Sql,
    bulk_session,
    write_row_errors,
)
from tandem.imports.jobs import (
    ACTIVE,
    fail_job,
    file_message,
    job_actor,
    reset_counts,
)
from tandem.imports.models import (
    ImportJob,
    ImportStatus,
)
from tandem.imports.pipeline import Batch
from tandem.imports.rows import RowError
from tandem.imports.running import job_batches, job_context, process_batch

DRY_RUN_ERRORS_KEPT = 1000  # a dry run keeps this many row errors to show; the count is exact


class _RollBack(Exception):
    pass


def _batch_in_savepoint(ctx: JobContext, batch: Batch) -> Outcome:
    """One batch of the dry run; a capture (or another import) that committed one of the
    batch's emails between the look-up and the insert (PostgreSQL) makes it read again,
    as the real import does, instead of failing the whole check."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                return process_batch(ctx, batch)
        except IntegrityError:
            ctx.forget()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def start_dry_run(*, actor: Actor, job: ImportJob, enqueue: bool = True) -> ImportJob:
    from tandem.imports.tasks import ahead, dry_run_task

    require(actor, "imports.run")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.MAPPED:
            raise ValidationError({"job": "Map the columns before the dry run."})
        reset_counts(job)
        job.is_dry_run = True
        job.status = ImportStatus.QUEUED
        job.save()
        job.row_errors.all().delete()
        if enqueue:
            transaction.on_commit(partial(ahead(dry_run_task).enqueue, job_id=job.pk))
    return job


def dry_run(
    *,
    job_id: int,
    actor: Actor | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> ImportJob:
    """The whole import in one transaction that is rolled back: exact counts, nothing kept.

    The counts and the first row errors are then stored on the job, which
    stays mapped and ready to run. (On SQLite the check holds the write lock
    while it runs, like the import itself would.)
    """
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if not job.is_dry_run or job.status not in (*ACTIVE, ImportStatus.MAPPED):
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    job.refresh_from_db()
    actor = actor or job_actor(job)
    total = Outcome()
    processed = 0
    kept: list[RowError] = []
    try:
        try:
            with transaction.atomic():
                ctx = job_context(job, actor)
                with bulk_session(), closing(job_batches(ctx, skip=0)) as batches:
                    for batch in batches:
                        out = _batch_in_savepoint(ctx, batch)
                        processed += batch.count
                        total.created += out.created
                        total.updated += out.updated
                        total.skipped += out.skipped
                        total.rejected += out.rejected
                        total.left_out += out.left_out
                        kept.extend(out.errors[: max(DRY_RUN_ERRORS_KEPT - len(kept), 0)])
                        if on_batch:
                            on_batch(processed)
                raise _RollBack
        except _RollBack:
            pass
    except ValidationError as exc:
        fail_job(job, file_message(exc))
        return job
    except Exception as exc:
        if not is_lock_timeout(exc):
            fail_job(job, f"The dry run stopped on an error: {exc}")
            raise
        # The job is as it was before the check (mapped), with the reason, ready to try again.
        retry_on_lock(
            lambda: ImportJob.objects.filter(pk=job.pk).update(
                status=ImportStatus.MAPPED,
                is_dry_run=False,
                processed_rows=0,
                error=f"{busy_text()} The dry run stopped; run it again.",
            )
        )
        job.refresh_from_db()
        return job
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.MAPPED,
            processed_rows=processed,
            total_rows=processed,
            created_count=total.created,
            updated_count=total.updated,
            skipped_count=total.skipped,
            rejected_count=total.rejected,
            left_out_count=total.left_out,
        )
        write_row_errors(Sql(), job.pk, kept)
    job.refresh_from_db()
    return job

"""Imports: start, run batch by batch, resume; a lock that times out fails the job (J10).

A run commits one batch at a time together with the job's progress and counts,
so a killed import has lost nothing it reported done, and running it again
continues after the last committed batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.core import collector
from tandem.core.audit import record_audit
from tandem.core.collector import paused_collector
from tandem.core.dblocks import busy_text, is_lock_timeout
from tandem.imports import pipeline
from tandem.imports.bulk import (
    PERSON_TYPE,
    CompaniesBatch,
    JobContext,
    Outcome,
    PeopleBatch,
    bulk_session,
    default_batch_size,
    indexes,
    write_row_errors,
)
from tandem.imports.jobs import (
    ACTIVE,
    custom_fields_for,
    default_region,
    fail_job,
    file_message,
    job_actor,
    reset_counts,
)
from tandem.imports.mapping import (
    clean_mapping,
    custom_entity,
)
from tandem.imports.models import (
    ImportEntity,
    ImportJob,
    ImportStatus,
)
from tandem.imports.pipeline import Batch
from tandem.imports.rows import Owners, RowCleaner
from tandem.people import extensions as people_extensions
from tandem.people.custom_fields import create_custom_field
from tandem.people.models import CustomField, Person

# The importing process collects cycles every this many batches: a batch leaves next to none
# (measured: no object found a pass, 3-7 ms a pass).
_COLLECT_BATCHES = 10


def _fail_on_lock(job: ImportJob, what: str) -> None:
    """A lock that timed out stops the job, not the process: it is failed with one line
    saying what happened and what to do; its committed batches stay, and resume continues
    after them."""
    job.refresh_from_db()
    fail_job(
        job,
        f"{busy_text()} The {what} stopped after {job.processed_rows:,} of about "
        f"{job.total_rows:,} rows, which are in; resume it to go on from there "
        "(nothing is imported twice).",
    )


# --- running ------------------------------------------------------------------------------------


def job_context(job: ImportJob, actor: Actor) -> JobContext:
    """Everything the batches share; makes the mapping's new custom fields first."""
    entity = custom_entity(job.entity)
    for spec in (job.mapping.get("new_fields") or {}).values():
        if not CustomField.objects.filter(entity=entity, key=spec["key"]).exists():
            create_custom_field(
                actor=actor,
                entity=entity,
                key=spec["key"],
                label=spec.get("label") or spec["key"],
                field_type=spec["type"],
            )
    fields = custom_fields_for(job.entity)
    known = {f.key for f in fields}
    columns = dict(job.mapping.get("columns") or {})
    for header, target in columns.items():
        if target and target.startswith("custom:") and target[7:] not in known:
            raise ValidationError(
                {"mapping": f"{header!r} goes to custom field {target[7:]!r}, which is gone."}
            )
    cleaner = RowCleaner(
        entity=job.entity,
        headers=job.headers,
        columns=columns,
        stages=job.mapping.get("stages") or {},
        custom_fields=fields,
        owners=Owners(),
        region=job.region or default_region(),
    )
    return JobContext(
        job=job, actor=actor, cleaner=cleaner, custom_fields=fields, now=timezone.now()
    )


def job_batches(
    ctx: JobContext, *, skip: int, size: int | None = None
) -> Generator[Batch, None, None]:
    job = ctx.job
    clean = ctx.cleaner.person if job.entity == ImportEntity.PEOPLE else ctx.cleaner.company
    return pipeline.batches(job, clean, skip=skip, size=size or default_batch_size())


def process_batch(ctx: JobContext, batch: Batch) -> Outcome:
    if ctx.job.entity == ImportEntity.PEOPLE:
        return PeopleBatch(ctx).run(batch.results)
    return CompaniesBatch(ctx).run(batch.results)


def _no_flush_wait() -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _commit_batch(ctx: JobContext, batch: Batch) -> bool:
    """Write one batch and the job's progress in one transaction; False if another runner
    has moved the job on meanwhile (this one then stops)."""
    job = ctx.job
    names = (
        "processed_rows",
        "created_count",
        "updated_count",
        "skipped_count",
        "rejected_count",
        "left_out_count",
    )
    for attempt in range(3):
        try:
            with transaction.atomic():
                _no_flush_wait()
                locked = ImportJob.objects.select_for_update().get(pk=job.pk)
                if (
                    locked.processed_rows != job.processed_rows
                    or locked.status != ImportStatus.RUNNING
                ):
                    return False
                out = process_batch(ctx, batch)
                write_row_errors(ctx.sql, job.pk, out.errors)
                before = {name: getattr(job, name) for name in names}
                after = {
                    "processed_rows": job.processed_rows + batch.count,
                    "created_count": job.created_count + out.created,
                    "updated_count": job.updated_count + out.updated,
                    "skipped_count": job.skipped_count + out.skipped,
                    "rejected_count": job.rejected_count + out.rejected,
                    "left_out_count": job.left_out_count + out.left_out,
                }
                ImportJob.objects.filter(pk=job.pk).update(**after)
                changes: dict[str, list[Any]] = {n: [before[n], after[n]] for n in names}
                changes["rows"] = [batch.first_row, batch.last_row]
                if out.companies_created:
                    changes["companies_created"] = [0, out.companies_created]
                record_audit(actor=ctx.actor, event="imported", target=job, changes=changes)
            for name, value in after.items():
                setattr(job, name, value)
            return True
        except IntegrityError:
            # A capture took one of the batch's emails meanwhile (PostgreSQL): read again.
            ctx.forget()
            if attempt == 2:
                raise
    return False


def start_import(*, actor: Actor, job: ImportJob, enqueue: bool = True) -> ImportJob:
    """Queue the import; the worker runs it batch by batch (tasks.run_import_task).

    The CLI passes enqueue=False and runs it in the foreground itself.
    """
    from tandem.imports.tasks import ahead, run_import_task

    require(actor, "imports.run")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.MAPPED:
            raise ValidationError({"job": "Map the columns before running the import."})
        reset_counts(job)
        job.status = ImportStatus.QUEUED
        job.save()
        job.row_errors.all().delete()
        record_audit(
            actor=actor, event="started", target=job, changes={"policy": [None, job.policy]}
        )
        if enqueue:
            transaction.on_commit(partial(ahead(run_import_task).enqueue, job_id=job.pk))
    return job


def resume_import(*, actor: Actor, job: ImportJob, enqueue: bool = True) -> ImportJob:
    """Run a stopped import again: it continues after the last committed batch.

    The CLI passes enqueue=False and runs it in the foreground itself (a queued task
    too would only race it for the same batches).
    """
    from tandem.imports.tasks import ahead, run_import_task

    require(actor, "imports.run")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.is_dry_run or job.status not in (*ACTIVE, ImportStatus.FAILED):
            raise ValidationError({"job": "Only a stopped or failed import can be resumed."})
        job.status = ImportStatus.QUEUED
        job.error = ""
        job.save(update_fields=["status", "error"])
        record_audit(
            actor=actor,
            event="resumed",
            target=job,
            changes={"processed_rows": [None, job.processed_rows]},
        )
        if enqueue:
            transaction.on_commit(partial(ahead(run_import_task).enqueue, job_id=job.pk))
    return job


def stopped_import_of(
    *, actor: Actor, entity: str, path: Path, policy: str, mapping: dict[str, Any] | None
) -> ImportJob | None:
    """The last import of this very file, by the same actor with the same choices, that
    stopped part-way: running the same command again resumes it, so the rows it wrote are
    neither written twice nor split between two jobs (and one undo removes them all)."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    job = (
        ImportJob.objects.filter(
            entity=entity,
            file_sha256=digest.hexdigest(),
            policy=policy,
            is_dry_run=False,
            created_by=actor.user,
            status__in=[ImportStatus.FAILED, ImportStatus.RUNNING],
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if job is None or mapping is None:
        return job
    try:
        cleaned = clean_mapping(
            mapping, headers=job.headers, entity=entity, custom_fields=custom_fields_for(entity)
        )
    except ValidationError:
        return None
    same = ("columns", "stages")
    return job if all(cleaned.get(k) == job.mapping.get(k) for k in same) else None


def run_import(
    *,
    job_id: int,
    actor: Actor | None = None,
    max_batches: int | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[ImportJob], None] | None = None,
) -> ImportJob:
    """Import the job's rows after those already committed, one transaction per batch.

    `max_batches` stops early (a job left running, as if its worker died);
    calling this again resumes it. A file problem found mid-way (changed on
    disk) fails the job with the reason; the committed batches stay, with
    their report, and can be undone. A big import into a small database
    builds its secondary indexes after the rows (bulk/indexes.py).
    """
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.is_dry_run or job.status not in (*ACTIVE, ImportStatus.FAILED):
        return job
    actor = actor or job_actor(job)
    try:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.RUNNING, started_at=Coalesce("started_at", timezone.now()), error=""
        )
        job.refresh_from_db()
        ctx = job_context(job, actor)
        indexes.restore_indexes(stopped_only=True)  # left dropped by an import that stopped
        if (
            job.entity == ImportEntity.PEOPLE
            and not indexes.has_deferred(job)
            and indexes.should_defer(job.total_rows - job.processed_rows)
        ):
            indexes.defer_indexes(job)
        with (
            bulk_session(),
            paused_collector(),
            closing(
                job_batches(
                    ctx,
                    skip=job.processed_rows,
                    size=batch_size or default_batch_size(moving_in=indexes.has_deferred(job)),
                )
            ) as batches,
        ):
            for done, batch in enumerate(batches, start=1):
                if not _commit_batch(ctx, batch):
                    job.refresh_from_db()
                    return job
                if done % _COLLECT_BATCHES == 0:
                    collector.collect()
                if on_batch:
                    on_batch(job)
                if max_batches is not None and done >= max_batches:
                    return job
        indexes.restore_indexes(job=job)
        with transaction.atomic():
            finished = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
                status=ImportStatus.DONE, finished_at=timezone.now(), total_rows=F("processed_rows")
            )
            job.refresh_from_db()
            if finished:
                record_audit(
                    actor=actor,
                    event="finished",
                    target=job,
                    changes={
                        "created_count": [0, job.created_count],
                        "updated_count": [0, job.updated_count],
                        "skipped_count": [0, job.skipped_count],
                        "rejected_count": [0, job.rejected_count],
                        "left_out_count": [0, job.left_out_count],
                    },
                )
                _tell_people_added(job)
    except ValidationError as exc:
        fail_job(job, file_message(exc))
        indexes.restore_indexes(job=job)
    except Exception as exc:
        if not is_lock_timeout(exc):
            fail_job(job, f"The import stopped on an error: {exc}")
            indexes.restore_indexes(job=job)
            raise
        _fail_on_lock(job, "import")
        try:
            indexes.restore_indexes(job=job)
        except Exception as again:
            if not is_lock_timeout(again):
                raise
            # Still locked: the next run (resume) makes them again first (stopped_only).
    return job


def _tell_people_added(job: ImportJob) -> None:
    """Tell the apps above of the people the import created or changed, through people's
    extension point (ADR 0005), inside the transaction that finishes the job: dedup
    looks for likely duplicates among them (by normalised email an import never makes
    a second person; same phone, similar name at the same company), scoring scores them
    (until 2026-12-06 an imported person had no score until the daily rescore), the
    funnel folds a big import ahead. Each defers its work to the commit, and past its
    own limit does one pass over everyone instead.
    """
    if job.entity != ImportEntity.PEOPLE or not (job.created_count or job.updated_count):
        return
    # Every id, not the first few thousand: each app's own limit decides (a list of ints,
    # some 36 MB for a million people, once per import).
    ids = list(Person.objects.filter(import_job_id=job.pk).values_list("id", flat=True))
    ids += job.changes.filter(target_type=PERSON_TYPE).values_list("target_id", flat=True)
    people_extensions.people_added(ids, "import")

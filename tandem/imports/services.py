"""Imports: upload, map, dry run, run in batches, resume, undo (J10).

Every step is a function here; the wizard, the CLI and the background task
call them. A run commits one batch at a time together with the job's
progress and counts, so a killed import has lost nothing it reported done,
and running it again continues after the last committed batch. Undo removes
what the import created (rows carrying its id) and puts back what it changed
(ImportChange.before).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import uuid
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from tandem.accounts.models import User
from tandem.campaigns.models import Touchpoint
from tandem.core import collector
from tandem.core.actor import Actor
from tandem.core.audit import record_audit
from tandem.core.collector import paused_collector
from tandem.core.dblocks import busy_text, is_lock_timeout, retry_on_lock
from tandem.core.permissions import can, require
from tandem.imports import pipeline, readers
from tandem.imports.bulk import (
    COMPANY_TYPE,
    PERSON_TYPE,
    CompaniesBatch,
    JobContext,
    Outcome,
    PeopleBatch,
    Sql,
    as_json,
    bulk_session,
    default_batch_size,
    indexes,
    write_row_errors,
)
from tandem.imports.mapping import (
    auto_mapping,
    clean_mapping,
    country_for,
    custom_entity,
    with_new_fields,
)
from tandem.imports.models import (
    DuplicatePolicy,
    ImportChange,
    ImportEntity,
    ImportJob,
    ImportStatus,
)
from tandem.imports.pipeline import Batch
from tandem.imports.rows import Owners, RowCleaner, RowError
from tandem.people.custom_fields import create_custom_field
from tandem.people.models import Company, CustomField, Person, PersonPhone, StageChange
from tandem.people.normalize import clean_country, name_key

DRY_RUN_ERRORS_KEPT = 1000  # a dry run keeps this many row errors to show; the count is exact
UNDO_BATCH = 2000
# The importing process collects cycles every this many batches: a batch leaves next to none
# (measured: no object found a pass, 3-7 ms a pass).
_COLLECT_BATCHES = 10
_EDITABLE = (ImportStatus.UPLOADED, ImportStatus.MAPPED)
_ACTIVE = (ImportStatus.QUEUED, ImportStatus.RUNNING)
_SUFFIXES = (".csv", ".xlsx", ".txt", ".tsv")


def import_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def custom_fields_for(entity: str) -> list[CustomField]:
    return list(CustomField.objects.filter(entity=custom_entity(entity)))


def _job_actor(job: ImportJob) -> Actor:
    """Who a background run acts as: the person who started the import."""
    if job.created_by is not None and job.created_by.is_active:
        return Actor.for_user(job.created_by)
    return Actor.system(f"import #{job.pk}")


def _fail(job: ImportJob, message: str) -> None:
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


def _fail_on_lock(job: ImportJob, what: str) -> None:
    """A lock that timed out stops the job, not the process: it is failed with one line
    saying what happened and what to do; its committed batches stay, and resume continues
    after them."""
    job.refresh_from_db()
    _fail(
        job,
        f"{busy_text()} The {what} stopped after {job.processed_rows:,} of about "
        f"{job.total_rows:,} rows, which are in; resume it to go on from there "
        "(nothing is imported twice).",
    )


def _file_message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- upload and mapping -----------------------------------------------------------------------


def create_import(
    *,
    actor: Actor,
    entity: str,
    upload: File | Path,
    original_name: str = "",
    encoding: str = "",
    delimiter: str = "",
) -> ImportJob:
    """Store an uploaded file, check it through, and make a job with suggested mapping.

    A bad file raises ValidationError naming "file" and leaves nothing behind.
    """
    require(actor, "imports.run")
    if entity not in ImportEntity.values:
        raise ValidationError({"entity": f"Import {' or '.join(ImportEntity.values)}."})
    name = Path(str(original_name or upload.name or "upload")).name[:255]
    suffix = Path(name).suffix.lower()
    stored = import_dir() / f"{uuid.uuid4().hex}{suffix if suffix in _SUFFIXES else ''}"
    if isinstance(upload, Path):
        if not upload.is_file():
            raise ValidationError({"file": f"There is no file {str(upload)!r}."})
        shutil.copyfile(upload, stored)
    else:
        with stored.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
    try:
        info = readers.inspect_file(stored, encoding=encoding, delimiter=delimiter)
    except ValidationError:
        stored.unlink(missing_ok=True)
        raise
    fields = custom_fields_for(entity)
    with transaction.atomic():
        job = ImportJob.objects.create(
            entity=entity,
            file_path=str(stored),
            original_name=name,
            file_sha256=info.sha256,
            file_format=info.file_format,
            encoding=info.encoding,
            delimiter=info.delimiter,
            headers=info.headers,
            mapping=auto_mapping(info.headers, entity, fields),
            region=default_region(),
            total_rows=info.total_rows,
            created_by=actor.user,
        )
        record_audit(actor=actor, event="uploaded", target=job, changes={"file": [None, name]})
    return job


def preview_rows(job: ImportJob, limit: int = readers.PREVIEW_ROWS) -> list[list[str]]:
    rows = []
    for _, values in readers.data_rows(
        Path(job.file_path), job.file_format, job.encoding, job.delimiter
    ):
        rows.append(values)
        if len(rows) >= limit:
            break
    return rows


def column_samples(job: ImportJob, limit: int = 500) -> dict[str, list[str]]:
    """The first values of each column, to infer a new custom field's type."""
    samples: dict[str, list[str]] = {h: [] for h in job.headers}
    rows = readers.data_rows(Path(job.file_path), job.file_format, job.encoding, job.delimiter)
    for seen, (_, values) in enumerate(rows, start=1):
        for header, value in zip(job.headers, values, strict=False):
            if value.strip():
                samples[header].append(value)
        if seen >= limit:
            break
    return samples


def set_mapping(
    *,
    actor: Actor,
    job: ImportJob,
    mapping: Any,
    policy: str = DuplicatePolicy.SKIP,
    region: str | None = None,
) -> ImportJob:
    """Check and keep the mapping, the duplicate policy and the region phones are read in
    (None: keep the job's); any earlier dry run is void."""
    require(actor, "imports.run")
    if policy not in DuplicatePolicy.values:
        raise ValidationError({"policy": f"Use one of: {', '.join(DuplicatePolicy.values)}."})
    region = job.region if region is None else clean_region(region)
    fields = custom_fields_for(job.entity)
    cleaned = clean_mapping(mapping, headers=job.headers, entity=job.entity, custom_fields=fields)
    if cleaned["new_fields"] and not can(actor, "people.manage_custom_fields"):
        raise ValidationError(
            {
                "mapping": "Only an admin can add custom fields; map those columns to existing fields."
            }
        )
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in _EDITABLE:
            raise ValidationError({"job": "This import has started; its mapping stays as it ran."})
        job.mapping = cleaned
        job.policy = policy
        job.region = region
        job.create_fields = bool(cleaned["new_fields"])
        job.status = ImportStatus.MAPPED
        _reset_counts(job)
        job.save()
        job.row_errors.all().delete()
    return job


def _reset_counts(job: ImportJob) -> None:
    job.is_dry_run = False
    job.processed_rows = job.created_count = job.updated_count = 0
    job.skipped_count = job.rejected_count = job.left_out_count = 0
    job.error = ""


# --- running ------------------------------------------------------------------------------------


def _context(job: ImportJob, actor: Actor) -> JobContext:
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


def _batches(
    ctx: JobContext, *, skip: int, size: int | None = None
) -> Generator[Batch, None, None]:
    job = ctx.job
    clean = ctx.cleaner.person if job.entity == ImportEntity.PEOPLE else ctx.cleaner.company
    return pipeline.batches(job, clean, skip=skip, size=size or default_batch_size())


def _process(ctx: JobContext, batch: Batch) -> Outcome:
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
                out = _process(ctx, batch)
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
        _reset_counts(job)
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
        if job.is_dry_run or job.status not in (*_ACTIVE, ImportStatus.FAILED):
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
    if job.is_dry_run or job.status not in (*_ACTIVE, ImportStatus.FAILED):
        return job
    actor = actor or _job_actor(job)
    try:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.RUNNING, started_at=Coalesce("started_at", timezone.now()), error=""
        )
        job.refresh_from_db()
        ctx = _context(job, actor)
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
                _batches(
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
                _check_for_duplicates(job)
    except ValidationError as exc:
        _fail(job, _file_message(exc))
        indexes.restore_indexes(job=job)
    except Exception as exc:
        if not is_lock_timeout(exc):
            _fail(job, f"The import stopped on an error: {exc}")
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


def _check_for_duplicates(job: ImportJob) -> None:
    """Queue the duplicate check (dedup) for the people the import created or changed.

    By normalised email an import never makes a second person; this finds the
    likely ones among the rest (same phone, similar name at the same company).
    """
    if job.entity != ImportEntity.PEOPLE or not (job.created_count or job.updated_count):
        return
    from tandem.dedup.tasks import enqueue_find_duplicates, scan_threshold

    # Past the threshold it is one scan of everyone: no need to load a million ids to know.
    enough = scan_threshold() + 1
    ids = list(Person.objects.filter(import_job_id=job.pk).values_list("id", flat=True)[:enough])
    if len(ids) < enough:
        changed = job.changes.filter(target_type=PERSON_TYPE).values_list("target_id", flat=True)
        ids += changed[: enough - len(ids)]
    enqueue_find_duplicates(ids, "import")


# --- dry run ----------------------------------------------------------------------------------


class _RollBack(Exception):
    pass


def start_dry_run(*, actor: Actor, job: ImportJob, enqueue: bool = True) -> ImportJob:
    from tandem.imports.tasks import ahead, dry_run_task

    require(actor, "imports.run")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.MAPPED:
            raise ValidationError({"job": "Map the columns before the dry run."})
        _reset_counts(job)
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
    if not job.is_dry_run or job.status not in (*_ACTIVE, ImportStatus.MAPPED):
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    job.refresh_from_db()
    actor = actor or _job_actor(job)
    total = Outcome()
    processed = 0
    kept: list[RowError] = []
    try:
        try:
            with transaction.atomic():
                ctx = _context(job, actor)
                with bulk_session(), closing(_batches(ctx, skip=0)) as batches:
                    for batch in batches:
                        out = _process(ctx, batch)
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
        _fail(job, _file_message(exc))
        return job
    except Exception as exc:
        if not is_lock_timeout(exc):
            _fail(job, f"The dry run stopped on an error: {exc}")
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


# --- undo --------------------------------------------------------------------------------------


def request_undo(*, actor: Actor, job: ImportJob) -> ImportJob:
    """Mark the import for undoing and queue the work (tasks.undo_import_task)."""
    from tandem.imports.tasks import ahead, undo_import_task

    require(actor, "imports.run")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        _check_undoable(job)
        job.status = ImportStatus.UNDOING
        job.save(update_fields=["status"])
        transaction.on_commit(
            partial(
                ahead(undo_import_task).enqueue,
                job_id=job.pk,
                user_id=actor.user.pk if actor.user else None,
            )
        )
    return job


def _check_undoable(job: ImportJob) -> None:
    if job.is_dry_run or job.status not in (
        ImportStatus.DONE,
        ImportStatus.FAILED,
        ImportStatus.RUNNING,
        ImportStatus.UNDOING,
    ):
        raise ValidationError({"job": "Only an import that ran can be undone, and only once."})


def _chunks(ids: list[int], size: int = UNDO_BATCH) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def undo_import(
    *, actor: Actor, job: ImportJob, on_progress: Callable[[str, int], None] | None = None
) -> ImportJob:
    """Remove what the import created and restore what it changed, batch by batch.

    People and companies it created are deleted (with their emails, phones,
    stage history, touchpoints and anything added to them since); the values
    it overwrote on existing records are put back. Stopped half-way, it can
    simply be run again.
    """
    require(actor, "imports.run")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        _check_undoable(job)
        previous = job.status
        job.status = ImportStatus.UNDOING
        job.save(update_fields=["status"])
    counts = {"touchpoints": 0, "people": 0, "companies": 0, "restored": 0}

    def report(what: str, n: int) -> None:
        counts[what] += n
        if on_progress:
            on_progress(what, counts[what])

    while ids := list(
        Touchpoint.objects.filter(import_job_id=job.pk).values_list("id", flat=True)[:UNDO_BATCH]
    ):
        with transaction.atomic():
            Touchpoint.objects.filter(pk__in=ids).delete()
        report("touchpoints", len(ids))
    while ids := list(
        Person.objects.filter(import_job_id=job.pk).values_list("id", flat=True)[:UNDO_BATCH]
    ):
        with transaction.atomic():
            Person.objects.filter(pk__in=ids).delete()
        report("people", len(ids))
    while ids := list(
        Company.objects.filter(import_job_id=job.pk).values_list("id", flat=True)[:UNDO_BATCH]
    ):
        with transaction.atomic():
            Company.objects.filter(pk__in=ids).delete()
        report("companies", len(ids))
    change_ids = list(job.changes.order_by("id").values_list("id", flat=True))
    for ids in _chunks(change_ids):
        with transaction.atomic():
            changes = list(ImportChange.objects.filter(pk__in=ids))
            _restore(job, actor, [c for c in changes if c.target_type == PERSON_TYPE], Person)
            _restore(job, actor, [c for c in changes if c.target_type == COMPANY_TYPE], Company)
        report("restored", len(ids))
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.UNDONE, undone_at=timezone.now()
        )
        record_audit(
            actor=actor,
            event="undone",
            target=job,
            changes={
                "status": [previous, ImportStatus.UNDONE],
                "people_removed": [0, counts["people"]],
                "companies_removed": [0, counts["companies"]],
                "touchpoints_removed": [0, counts["touchpoints"]],
                "records_restored": [0, counts["restored"]],
            },
        )
    job.refresh_from_db()
    return job


def _restore(
    job: ImportJob, actor: Actor, changes: list[ImportChange], model: type[Person] | type[Company]
) -> None:
    """Put back the values an import overwrote, grouped so each shape is one executemany."""
    if not changes:
        return
    sql = Sql()
    now = timezone.now()
    ids = [c.target_id for c in changes]
    current = {
        row["id"]: row
        for row in model.objects.filter(pk__in=ids).values(
            "id", *(["stage"] if model is Person else [])
        )
    }
    live_companies = set(
        Company.objects.filter(
            pk__in={c.before["company_id"] for c in changes if c.before.get("company_id")}
        ).values_list("id", flat=True)
    )
    live_users = set(
        User.objects.filter(
            pk__in={c.before["owner_id"] for c in changes if c.before.get("owner_id")}
        ).values_list("id", flat=True)
    )
    groups: dict[tuple[str, ...], list[tuple]] = {}
    stage_rows = []
    for change in changes:
        if change.target_id not in current:
            continue  # deleted since: nothing to put back
        before = dict(change.before)
        phones = before.pop("_phones", None)
        if "company_id" in before and before["company_id"] not in live_companies:
            before["company_id"] = None
        if "owner_id" in before and before["owner_id"] not in live_users:
            before["owner_id"] = None
        if before.get("stage_changed_at"):
            before["stage_changed_at"] = dt.datetime.fromisoformat(before["stage_changed_at"])
        if model is Person:
            if "first_name" in before:
                before["first_name_key"] = name_key(before["first_name"])
            if "last_name" in before:
                before["last_name_key"] = name_key(before["last_name"])
            if "stage" in before and current[change.target_id]["stage"] != before["stage"]:
                stage_rows.append(
                    StageChange(
                        person_id=change.target_id,
                        from_stage=current[change.target_id]["stage"],
                        to_stage=before["stage"],
                        changed_at=now,
                        actor=actor.user,
                        actor_label=actor.label[:150],
                        reason=f"Undo of import #{job.pk}",
                    )
                )
            if phones is not None:
                kept = [pk for pk, _ in phones]
                PersonPhone.objects.filter(person_id=change.target_id).exclude(pk__in=kept).delete()
                PersonPhone.objects.filter(person_id=change.target_id).update(is_primary=False)
                primary = [pk for pk, is_primary in phones if is_primary]
                if primary:
                    PersonPhone.objects.filter(pk__in=primary).update(is_primary=True)
        columns = tuple(sorted(before))
        values = []
        for column in columns:
            value = before[column]
            if column == "custom_fields":
                value = as_json(value or {})
            elif isinstance(value, dt.datetime):
                value = sql.when(value)
            values.append(value)
        groups.setdefault(columns, []).append((*values, sql.when(now), change.target_id))
    for columns, rows in groups.items():
        sql.update(model, [*columns, "updated_at"], rows)
    if stage_rows:
        StageChange.objects.bulk_create(stage_rows)


# --- CLI helper -------------------------------------------------------------------------------


def import_file(
    *,
    actor: Actor,
    entity: str,
    path: Path,
    mapping: dict[str, Any] | None = None,
    policy: str = DuplicatePolicy.SKIP,
    create_fields: bool = False,
    encoding: str = "",
    delimiter: str = "",
    region: str | None = None,
) -> ImportJob:
    """Upload and map a file in one step (the CLI): the given mapping, or the suggested one.

    With create_fields, each column the mapping leaves out (or, without a
    mapping, each column not recognised) becomes a new custom field.
    """
    job = create_import(
        actor=actor, entity=entity, upload=path, encoding=encoding, delimiter=delimiter
    )
    fields = custom_fields_for(entity)
    samples = column_samples(job) if create_fields else None
    if mapping is None:
        mapping = auto_mapping(
            job.headers, entity, fields, create_fields=create_fields, samples=samples
        )
    elif create_fields:
        mapping = with_new_fields(mapping, job.headers, fields, samples)
    return set_mapping(actor=actor, job=job, mapping=mapping, policy=policy, region=region)

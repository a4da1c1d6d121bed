"""Imports: undo, removing what an import created and restoring what it changed (J10)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.accounts.permissions import require
from tandem.campaigns.models import Touchpoint
from tandem.core.audit import record_audit
from tandem.imports.bulk import (
    COMPANY_TYPE,
    PERSON_TYPE,
    Sql,
    as_json,
)
from tandem.imports.models import (
    ImportChange,
    ImportJob,
    ImportStatus,
)
from tandem.people.models import Company, Person, PersonPhone, StageChange
from tandem.people.normalize import name_key

UNDO_BATCH = 2000


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

"""Reads for imports: the job list, a job's progress and its report."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from django.db.models import QuerySet

from tandem.core.spreadsheet import safe_cell
from tandem.imports.models import ImportJob, ImportRowError, ImportStatus, RowOutcome

REPORT_HEADER = ["row", "column", "value", "reason", "outcome"]
OUTCOME_WORDS: dict[str, str] = {
    RowOutcome.REJECTED.value: "row rejected",
    RowOutcome.LEFT_OUT.value: "value left out",
    RowOutcome.SKIPPED.value: "row skipped",
}


def jobs_for_list(limit: int = 50) -> QuerySet[ImportJob]:
    """Recent imports, newest first; everyone who may import sees all of them."""
    return ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")[:limit]


@dataclass
class Progress:
    """What the progress bar shows; the template only displays it."""

    percent: int
    processed: int
    total: int
    is_active: bool  # queued or running: keep polling
    is_dry_run: bool
    label: str


def progress_of(job: ImportJob) -> Progress:
    active = job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.UNDOING)
    total = max(job.total_rows, job.processed_rows)
    if job.status in (ImportStatus.DONE, ImportStatus.UNDONE):
        percent = 100
    elif total:
        percent = min(100, job.processed_rows * 100 // total)
    else:
        percent = 0
    if job.status == ImportStatus.UNDOING:
        label = "Undoing…"
    elif job.is_dry_run and active:
        label = "Checking every row (dry run)…"
        percent = 0
    elif job.status == ImportStatus.QUEUED:
        label = "Waiting for the worker…"
    elif job.status == ImportStatus.RUNNING:
        label = f"{job.processed_rows:,} of {total:,} rows"
    else:
        label = job.get_status_display()
    return Progress(
        percent=percent,
        processed=job.processed_rows,
        total=total,
        is_active=active,
        is_dry_run=job.is_dry_run,
        label=label,
    )


def row_errors(
    job: ImportJob, limit: int | None = None, *, outcome: str | None = None
) -> QuerySet[ImportRowError]:
    """The report's lines in row order: all of them, or those of one outcome."""
    errors = job.row_errors.order_by("row_number", "id")
    if outcome is not None:
        errors = errors.filter(outcome=outcome)
    return errors[:limit] if limit is not None else errors


@dataclass
class ReportPart:
    """One part of a job's report (rejected rows, values left out, skipped rows)."""

    outcome: str
    title: str
    lines: list[ImportRowError]
    total: int

    @property
    def more(self) -> int:
        return max(self.total - len(self.lines), 0)


def report_parts(job: ImportJob, limit: int) -> list[ReportPart]:
    """The first lines of each part of the report that has any, with its exact count."""
    parts = [
        (RowOutcome.REJECTED, "Rejected rows", job.rejected_count),
        (
            RowOutcome.LEFT_OUT,
            "Values left out (the rows came in without them)",
            job.left_out_count,
        ),
        (RowOutcome.SKIPPED, "Skipped rows", job.skipped_count),
    ]
    return [
        ReportPart(
            outcome=outcome.value,
            title=title,
            lines=list(row_errors(job, limit, outcome=outcome)),
            total=total,
        )
        for outcome, title, total in parts
        if total
    ]


def report_rows(job: ImportJob) -> Iterator[list[str]]:
    yield REPORT_HEADER
    for error in row_errors(job).iterator(chunk_size=2000):
        yield [
            str(error.row_number),
            safe_cell(error.column),
            safe_cell(error.value),
            safe_cell(error.reason),
            OUTCOME_WORDS.get(error.outcome, error.outcome),
        ]


def write_report_csv(job: ImportJob, out: IO[str]) -> int:
    """The report as CSV (row, column, value, reason, outcome): every rejected row, value left
    out and skipped row; returns how many lines."""
    writer = csv.writer(out)
    count = -1
    for count, row in enumerate(report_rows(job)):  # noqa: B007
        writer.writerow(row)
    return max(count, 0)


def same_file_imports(job: ImportJob) -> QuerySet[ImportJob]:
    """Earlier imports of the very same file that are still in (not undone, not dry runs)."""
    if not job.file_sha256:
        return ImportJob.objects.none()
    return (
        ImportJob.objects.filter(file_sha256=job.file_sha256, entity=job.entity)
        .exclude(pk=job.pk)
        .filter(status__in=[ImportStatus.DONE, ImportStatus.RUNNING, ImportStatus.FAILED])
        .order_by("-created_at")
    )

"""Import jobs: mapping, progress, row errors and what undo needs."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ImportEntity(models.TextChoices):
    PEOPLE = "people", "People"
    COMPANIES = "companies", "Companies"


class DuplicatePolicy(models.TextChoices):
    SKIP = "skip", "Skip existing"
    FILL = "fill", "Fill empty fields"
    OVERWRITE = "overwrite", "Overwrite"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    MAPPED = "mapped", "Mapped"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    UNDOING = "undoing", "Undoing"
    UNDONE = "undone", "Undone"


class RowOutcome(models.TextChoices):
    """What the report says of a row: rejected whole (it cannot say who the person is),
    one value left out (the person came in without it), or skipped (and why)."""

    REJECTED = "rejected", "Rejected"
    LEFT_OUT = "left_out", "Value left out"
    SKIPPED = "skipped", "Skipped"


class ImportJob(models.Model):
    entity = models.CharField(max_length=10, choices=ImportEntity.choices)
    file_path = models.CharField(max_length=500)
    original_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_format = models.CharField(max_length=10, blank=True)  # csv, xlsx
    encoding = models.CharField(max_length=30, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    policy = models.CharField(
        max_length=10, choices=DuplicatePolicy.choices, default=DuplicatePolicy.SKIP
    )
    create_fields = models.BooleanField(default=False)
    region = models.CharField(
        max_length=2,
        blank=True,
        help_text="Where a phone without +country is read when its row names no country "
        "(two-letter code; TANDEM_DEFAULT_REGION when blank).",
    )
    is_dry_run = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(
        default=0, help_text="Rows committed; a resumed run starts after them."
    )
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    left_out_count = models.PositiveIntegerField(
        default=0, help_text="Values left out of rows that came in without them."
    )
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.original_name}"


class ImportRowError(models.Model):
    """One line of an import's report: a rejected row, a value left out, or a skipped row."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()
    outcome = models.CharField(
        max_length=10, choices=RowOutcome.choices, default=RowOutcome.REJECTED
    )
    column = models.CharField(max_length=200, blank=True)
    value = models.CharField(max_length=500, blank=True)
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number"], name="importrowerror_job_row_idx")]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.reason}"


class ImportChange(models.Model):
    """What an import changed on an existing row, so undo can put it back.

    Rows an import created carry its id (`Person.import_job_id`), so undo deletes
    them with one statement and no per-row record is needed.
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="changes")
    row_number = models.PositiveIntegerField()
    target_type = models.CharField(max_length=40)
    target_id = models.BigIntegerField()
    before = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["job", "target_type", "target_id"], name="importchange_once_per_target"
            )
        ]

    def __str__(self) -> str:
        return f"{self.target_type}#{self.target_id}"


class DeferredIndex(models.Model):
    """An index (or, on PostgreSQL, a foreign key) a big import dropped to make again once
    its rows are in (bulk/indexes.py).

    The row is written in the transaction that drops the index, so an import
    killed half-way leaves the exact statement that makes the index again.
    """

    name = models.CharField(max_length=200, unique=True)
    table = models.CharField(max_length=200)
    definition = models.TextField(
        help_text="The statement that makes it again: CREATE INDEX, or ALTER TABLE … ADD CONSTRAINT."
    )
    job = models.ForeignKey(
        ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

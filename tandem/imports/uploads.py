"""Imports: upload a file, preview it, and map its columns (J10)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import can, require
from tandem.core.audit import record_audit
from tandem.imports import readers
from tandem.imports.jobs import (
    clean_region,
    custom_fields_for,
    default_region,
    reset_counts,
)
from tandem.imports.mapping import (
    auto_mapping,
    clean_mapping,
    with_new_fields,
)
from tandem.imports.models import (
    DuplicatePolicy,
    ImportEntity,
    ImportJob,
    ImportStatus,
)

_EDITABLE = (ImportStatus.UPLOADED, ImportStatus.MAPPED)
_SUFFIXES = (".csv", ".xlsx", ".txt", ".tsv")


def import_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


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
        reset_counts(job)
        job.save()
        job.row_errors.all().delete()
    return job


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

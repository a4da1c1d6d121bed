"""Files and jobs for import tests: write a CSV, run it through the import as the CLI does."""

from __future__ import annotations

import csv
from pathlib import Path

from tandem.core.actor import Actor
from tandem.imports import services
from tandem.imports.models import ImportJob


def write_csv(
    path: Path, rows: list[list[str]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    with path.open("w", newline="", encoding=encoding) as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def run_file(
    path: Path,
    *,
    actor: Actor,
    entity: str = "people",
    policy: str = "skip",
    mapping: dict | None = None,
    create_fields: bool = False,
    max_batches: int | None = None,
    batch_size: int = 5000,
) -> ImportJob:
    """Upload, map (suggested or given) and run a file in the foreground, as the CLI does."""
    job = services.import_file(
        actor=actor,
        entity=entity,
        path=path,
        mapping=mapping,
        policy=policy,
        create_fields=create_fields,
    )
    services.start_import(actor=actor, job=job, enqueue=False)
    return services.run_import(
        job_id=job.pk, actor=actor, max_batches=max_batches, batch_size=batch_size
    )

"""Imports: upload, map, dry run, run in batches, resume, undo (J10).

Every step is a function; the wizard, the CLI and the background task call
them through this module, which names them all. They live by what they do:

- uploads.py: store and check a file, preview it, map its columns (and the CLI's
  one-step upload and map);
- running.py: start, run batch by batch, resume; a run commits one batch at a
  time with the job's progress, so a killed import continues after its last
  committed batch;
- dry_runs.py: the whole import in one transaction that is rolled back;
- undo.py: remove what an import created (rows carrying its id) and put back
  what it changed (ImportChange.before);
- jobs.py: what those share (who a background run acts as, failing a job).
"""

from __future__ import annotations

from tandem.imports.dry_runs import DRY_RUN_ERRORS_KEPT, dry_run, start_dry_run
from tandem.imports.jobs import clean_region, custom_fields_for, default_region
from tandem.imports.running import resume_import, run_import, start_import, stopped_import_of
from tandem.imports.undo import UNDO_BATCH, request_undo, undo_import
from tandem.imports.uploads import (
    column_samples,
    create_import,
    import_dir,
    import_file,
    preview_rows,
    set_mapping,
)

__all__ = [
    "DRY_RUN_ERRORS_KEPT",
    "UNDO_BATCH",
    "clean_region",
    "column_samples",
    "create_import",
    "custom_fields_for",
    "default_region",
    "dry_run",
    "import_dir",
    "import_file",
    "preview_rows",
    "request_undo",
    "resume_import",
    "run_import",
    "set_mapping",
    "start_dry_run",
    "start_import",
    "stopped_import_of",
    "undo_import",
]

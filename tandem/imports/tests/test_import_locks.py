"""A write lock held past the lock timeout stops an import in one clear line, keeps what it
wrote, and running it again resumes it: nothing twice, counts and undo as one clean run."""

from __future__ import annotations

import io
import subprocess
import time

import pytest
from django.core.management import call_command

from tandem.campaigns.models import Touchpoint
from tandem.imports.models import ImportJob, ImportStatus
from tandem.imports.tests.factories import write_csv
from tandem.imports.tests.processes import (
    ROOT,
    child_env,
    hold_write_lock_in_background,
    tandem,
)
from tandem.people.models import Company, Person, StageChange

ROWS = 3000


def people_file(tmp_path):
    rows = [["Email", "First Name", "Company", "Campaign"]]
    rows += [
        [f"p{i}@corp{i % 7}.example", f"P{i}", f"Corp {i % 7}", "Fair 2026"] for i in range(ROWS)
    ]
    rows[1500] = ["p3@corp3.example", "Again", "Corp 3", "Fair 2026"]  # an in-file duplicate
    rows[2000] = ["broken", "", "", ""]  # no valid email and no name: rejected
    return write_csv(tmp_path / "people.csv", rows)


def import_command(path, *extra):
    return tandem("import", "--skip-checks", "people", str(path), "--batch-size", "50", *extra)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_lock_that_times_out_fails_the_import_in_one_line_and_running_it_again_resumes(
    tmp_path,
):
    path = people_file(tmp_path)
    child = subprocess.Popen(
        import_command(path),
        env=child_env(tmp_path, TANDEM_DB_LOCK_TIMEOUT_MS="300"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        job = ImportJob.objects.filter(is_dry_run=False).first()
        if job is not None and job.processed_rows >= 300:
            break
        time.sleep(0.02)
    assert child.poll() is None, "the import ended before the lock was taken"
    holder = hold_write_lock_in_background(2.0)  # far past the import's 0.3 s
    _, stderr = child.communicate(timeout=60)
    holder.join()

    job = ImportJob.objects.get(is_dry_run=False)
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert child.returncode == 1, stderr
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    assert "locked" in lines[0]
    assert "TANDEM_DB_LOCK_TIMEOUT_MS" in lines[0]  # what to change if it keeps happening
    assert f"tandem import resume {job.pk}" in lines[0]  # what to do now

    assert job.status == ImportStatus.FAILED
    assert "locked" in job.error and "resume" in job.error  # what the wizard shows
    assert 300 <= job.processed_rows < ROWS and job.processed_rows % 50 == 0
    written = Person.objects.count()
    assert written == job.created_count > 0  # the rows it wrote, all counted, nothing half-in
    assert Touchpoint.objects.filter(import_job_id=job.pk).count() == written
    assert StageChange.objects.filter(person__import_job_id=job.pk).count() == written

    out = io.StringIO()  # the very same command again
    call_command("import", "people", str(path), "--batch-size", "50", stdout=out)
    assert f"Import #{job.pk} of this file stopped after {job.processed_rows:,} rows" in (
        out.getvalue()
    )
    assert ImportJob.objects.filter(is_dry_run=False).count() == 1  # resumed, not a new job
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.updated_count, job.skipped_count, job.rejected_count) == (
        ROWS - 2,
        0,
        1,
        1,
    )
    assert Person.objects.count() == ROWS - 2
    assert Company.objects.count() == 7
    assert Touchpoint.objects.filter(import_job_id=job.pk).count() == ROWS - 2
    assert StageChange.objects.filter(person__import_job_id=job.pk).count() == ROWS - 2
    assert job.row_errors.count() == 1

    call_command("import", "undo", str(job.pk), stdout=io.StringIO())
    assert Person.objects.count() == 0 and Company.objects.count() == 0  # one undo removes all

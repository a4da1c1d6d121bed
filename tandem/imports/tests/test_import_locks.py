"""A write lock held past the lock timeout stops an import in one clear line, keeps what it
wrote, and running it again resumes it: nothing twice, counts and undo as one clean run."""

from __future__ import annotations

import io
import subprocess
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from tandem.accounts.actor import Actor
from tandem.campaigns.models import Touchpoint
from tandem.imports import services
from tandem.imports.models import ImportJob, ImportStatus
from tandem.imports.tasks import run_import_task
from tandem.imports.tests.factories import write_csv
from tandem.imports.tests.processes import (
    ROOT,
    child_env,
    hold_write_lock_in_background,
    tandem,
)
from tandem.people.models import Company, Person, StageChange

ROWS = 3000


def people_file(tmp_path, count=ROWS):
    rows = [["Email", "First Name", "Company", "Campaign"]]
    rows += [
        [f"p{i}@corp{i % 7}.example", f"P{i}", f"Corp {i % 7}", "Fair 2026"] for i in range(count)
    ]
    rows[count // 2] = ["p3@corp3.example", "Again", "Corp 3", "Fair 2026"]  # an in-file duplicate
    rows[2 * count // 3] = ["broken", "", "", ""]  # no valid email and no name: rejected
    return write_csv(tmp_path / "people.csv", rows)


def import_command(path, *extra):
    return tandem("import", "--skip-checks", "people", str(path), "--batch-size", "50", *extra)


@pytest.mark.slow
@pytest.mark.timeout(300)
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
    # One report line each for the rejected row and the skipped one, written once across
    # the stop and the resume (not again for the rows the first run had reported).
    assert sorted(job.row_errors.values_list("outcome", flat=True)) == ["rejected", "skipped"]

    call_command("import", "undo", str(job.pk), stdout=io.StringIO())
    assert Person.objects.count() == 0 and Company.objects.count() == 0  # one undo removes all


@pytest.fixture
def short_lock_wait(settings):
    """This process's connection gives up on a lock after 0.3 s, as TANDEM_DB_LOCK_TIMEOUT_MS=300."""
    settings.TANDEM_DB_LOCK_TIMEOUT_MS = 300
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA busy_timeout = 300")
        else:
            cursor.execute("SET lock_timeout = '300ms'")
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA busy_timeout = 20000")
        else:
            cursor.execute("RESET lock_timeout")


@pytest.mark.django_db(transaction=True)
def test_in_the_wizard_a_lock_that_times_out_is_one_line_on_the_page_and_resume_finishes(
    tmp_path, client, marketer, short_lock_wait
):
    actor = Actor.for_user(marketer)
    job = services.import_file(actor=actor, entity="people", path=people_file(tmp_path, 300))
    client.force_login(marketer)

    # Held until the page is back, far past the 0.3 s wait (a fixed 1.5 s ended before the
    # import's first write on a slow machine, and the import then simply ran).
    release = threading.Event()
    holder = hold_write_lock_in_background(60, release)
    page = client.post(reverse("imports:run", args=[job.pk]), follow=True).content.decode()
    release.set()
    holder.join()
    assert "locked by other writes" in page and "try again" in page  # a line, not a 500
    job.refresh_from_db()
    assert job.status == ImportStatus.MAPPED  # nothing changed: Run is still there

    # The worker meets the lock (tests run tasks inline: called here, once the lock is held).
    services.start_import(actor=actor, job=job, enqueue=False)
    # Held until after the import's first write gave up, then let go: recording the failure
    # waits for the lock (up to 30 s, core/dblocks.py).
    holder = hold_write_lock_in_background(5)
    run_import_task.call(job_id=job.pk)  # as the worker runs it: no exception, no failed task
    holder.join()

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "\n" not in job.error and "locked" in job.error and "resume" in job.error
    assert Person.objects.count() == job.created_count == 0  # nothing half-written
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert escape(job.error) in page
    assert reverse("imports:resume", args=[job.pk]) in page  # the way on, on the page

    client.post(reverse("imports:resume", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.skipped_count, job.rejected_count) == (298, 1, 1)
    assert Person.objects.count() == 298
    assert "locked" not in client.get(reverse("imports:detail", args=[job.pk])).content.decode()

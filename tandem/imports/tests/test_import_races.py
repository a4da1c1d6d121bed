"""A person committed by someone else while an import's batch is being written: the batch
reads again and counts that person as found, on both databases, instead of failing."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from tandem.accounts.actor import Actor
from tandem.imports import services
from tandem.imports.models import ImportStatus
from tandem.imports.tests.factories import write_csv
from tandem.people.models import Person
from tandem.people.services import create_person

RACED = "race@example.com"


def waiting_on_a_lock() -> bool:
    """PostgreSQL: some other backend of this database waits for a row or key lock."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def commit_once_the_import_waits(inserted: threading.Event, go: threading.Event) -> None:
    """Another writer (a capture, say): adds RACED and holds its transaction open until `go`."""
    try:
        with transaction.atomic():
            create_person(
                actor=Actor.system("capture"),
                data={"first_name": "Raced"},
                email=RACED,
                reason="Captured meanwhile",
            )
            inserted.set()
            assert go.wait(30)
    finally:
        connection.close()


def run_in_thread(target, *args) -> tuple[threading.Thread, list[object]]:
    result: list[object] = []

    def body():
        try:
            result.append(target(*args))
        except BaseException as exc:  # handed to the test to assert on
            result.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, result


@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("check", [True, False], ids=["dry run", "import"])
def test_a_batch_reads_again_when_a_capture_commits_one_of_its_emails_meanwhile(tmp_path, check):
    system = Actor.system("test")
    path = write_csv(
        tmp_path / "race.csv",
        [["Email", "Last Name"], ["one@example.com", "One"], [RACED, "Race"], ["two@x.io", "Two"]],
    )
    job = services.import_file(actor=system, entity="people", path=path, policy="fill")
    if check:
        services.start_dry_run(actor=system, job=job, enqueue=False)
        run = services.dry_run
    else:
        services.start_import(actor=system, job=job, enqueue=False)
        run = services.run_import

    inserted, go = threading.Event(), threading.Event()
    writer = threading.Thread(target=commit_once_the_import_waits, args=(inserted, go))
    writer.start()
    assert inserted.wait(30)
    checker, result = run_in_thread(lambda: run(job_id=job.pk, actor=system))
    # PostgreSQL: the dry run has looked the emails up (RACED not yet there) and now waits
    # on the other transaction's key. SQLite: it waits for the write lock instead.
    deadline = time.monotonic() + 20
    if connection.vendor == "postgresql":
        while not waiting_on_a_lock():
            assert time.monotonic() < deadline, "the dry run never reached the insert"
            time.sleep(0.05)
    else:
        time.sleep(0.5)
    go.set()
    writer.join(30)
    checker.join(60)

    assert result and not isinstance(result[0], BaseException), result
    job.refresh_from_db()
    assert (job.status, job.error) == (ImportStatus.MAPPED if check else ImportStatus.DONE, "")
    assert (job.created_count, job.updated_count + job.skipped_count) == (2, 1)
    if not check:  # the person captured meanwhile is there once, with the import's fill
        assert Person.objects.filter(emails__email_normalized=RACED).count() == 1
        assert Person.objects.get(emails__email_normalized=RACED).last_name == "Race"

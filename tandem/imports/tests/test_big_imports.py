"""A big import into a small database: rows read in a second process, indexes built after.

The thresholds are settings; these tests lower them so that a few hundred
rows take the path a million would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from tandem.imports import services
from tandem.imports.bulk import indexes
from tandem.imports.models import DeferredIndex, ImportStatus
from tandem.imports.tests.factories import write_csv
from tandem.people.models import Company, Person, PersonEmail, StageChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def big(settings):
    settings.TANDEM_IMPORT_READER_PROCESS_ROWS = 100
    settings.TANDEM_IMPORT_DEFER_INDEXES_ROWS = 100


def index_names() -> set[str]:
    return {name for name, _, _ in indexes.secondary_indexes(indexes.PEOPLE_TABLES)}


def foreign_key_names() -> set[str]:
    """PostgreSQL's foreign keys of the tables an import writes (none listed on SQLite)."""
    return {name for name, _, _ in indexes.foreign_keys(indexes.PEOPLE_TABLES)}


def people_csv(tmp_path, n: int, name: str = "people.csv"):
    rows = [["Email", "First Name", "Last Name", "Company"]]
    rows += [
        [f"p{i}@corp{i % 9}.example", f"First{i}", f"Last{i}", f"Corp {i % 9}"] for i in range(n)
    ]
    return write_csv(tmp_path / name, rows)


def start(path, actor):
    job = services.import_file(actor=actor, entity="people", path=path, policy="fill")
    return services.start_import(actor=actor, job=job, enqueue=False)


def test_a_big_import_into_a_small_database_builds_its_indexes_after_the_rows(
    big, tmp_path, system
):
    before = index_names()
    keys = foreign_key_names()
    assert "person_name_idx" in before and "stagechange_person_idx" in before
    if connection.vendor == "postgresql":
        assert any("company_id" in name for name in keys)
    job = start(people_csv(tmp_path, 400), system)
    seen: list[tuple[set[str], set[str], int]] = []

    services.run_import(
        job_id=job.pk,
        actor=system,
        batch_size=100,
        on_batch=lambda j: seen.append(
            (index_names(), foreign_key_names(), DeferredIndex.objects.count())
        ),
    )

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.rejected_count) == (400, 0)
    # While the rows went in, only the unique indexes were kept (and no foreign key on
    # PostgreSQL), each dropped one on record...
    assert all(
        names == set() and fks == set() and recorded == len(before) + len(keys)
        for names, fks, recorded in seen
    )
    assert len(seen) == 4
    # ...and afterwards every index and key is back, the same ones, and the records are gone.
    assert index_names() == before
    assert foreign_key_names() == keys
    assert not DeferredIndex.objects.exists()
    assert PersonEmail.objects.count() == 400 and StageChange.objects.count() == 400
    assert Company.objects.count() == 9
    # The rebuilt indexes serve the lists: a name search finds the person.
    assert list(Person.objects.filter(last_name_key__startswith="last399")) == [
        Person.objects.get(email="p399@corp3.example")
    ]


def test_an_import_into_a_database_holding_more_people_keeps_its_indexes(big, tmp_path, system):
    services.run_import(job_id=start(people_csv(tmp_path, 300, "first.csv"), system).pk)
    before = index_names()
    rows = [["Email", "First Name"]] + [[f"new{i}@corp.example", f"N{i}"] for i in range(200)]
    job = start(write_csv(tmp_path / "second.csv", rows), system)
    seen: list[set[str]] = []

    services.run_import(
        job_id=job.pk, batch_size=100, on_batch=lambda j: seen.append(index_names())
    )

    assert seen == [before, before]  # 200 rows into 300 people: nothing dropped
    assert Person.objects.count() == 500


def test_indexes_a_killed_import_left_dropped_are_built_again(big, tmp_path, system):
    before, keys = index_names(), foreign_key_names()
    job = start(people_csv(tmp_path, 300), system)
    # The import runs two batches and its worker dies (the job stays "running").
    services.run_import(job_id=job.pk, batch_size=100, max_batches=2)
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING and job.processed_rows == 200
    assert index_names() == set() and foreign_key_names() == set()
    assert DeferredIndex.objects.filter(job=job).count() == len(before) + len(keys)

    # Another import does not take them back while that one may still be running...
    other = start(write_csv(tmp_path / "one.csv", [["Email"], ["solo@corp.example"]]), system)
    services.run_import(job_id=other.pk)
    assert index_names() == set()

    # ...the worker does, when it starts again after the crash.
    call_command("worker", "--burst")
    assert index_names() == before and not DeferredIndex.objects.exists()
    assert foreign_key_names() == keys

    # Resuming the killed import ends as one clean run, indexes in place.
    services.resume_import(actor=system, job=job)
    services.run_import(job_id=job.pk, batch_size=100)
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.processed_rows, job.created_count) == (300, 300)
    assert index_names() == before


def test_migrate_builds_the_indexes_of_a_stopped_import_first(big, tmp_path, system):
    before = index_names()
    job = start(people_csv(tmp_path, 200), system)
    services.run_import(job_id=job.pk, batch_size=100, max_batches=1)
    assert index_names() == set()

    call_command("migrate", verbosity=0)

    assert index_names() == before and not DeferredIndex.objects.exists()


def test_a_big_import_that_fails_half_way_builds_its_indexes_and_keeps_its_batches(
    big, tmp_path, system
):
    before = index_names()
    rows = [["Email", "First Name"]] + [[f"p{i}@corp.example", "Zoë"] for i in range(300)]
    job = start(write_csv(tmp_path / "people.csv", rows), system)
    services.run_import(job_id=job.pk, batch_size=100, max_batches=1)
    # The stored file is damaged before the run resumes: the reading process meets bytes
    # that are not UTF-8 near its end, and the error comes back to the importer.
    stored = Path(job.file_path)
    stored.write_bytes(stored.read_bytes().replace(b"p290@", b"p\xff290@"))

    services.run_import(job_id=job.pk, batch_size=100)

    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED
    assert "holds bytes that are not utf-8" in job.error
    assert job.processed_rows in (100, 200)
    assert Person.objects.count() == job.created_count == job.processed_rows
    assert index_names() == before and not DeferredIndex.objects.exists()


def dangling(person_id: int) -> set[int]:
    """People whose company is not there, as the database's own foreign key check sees it."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA foreign_key_check(people_person)")
            return {row[1] for row in cursor.fetchall() if row[2] == "people_company"}
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction never commits
        try:
            with transaction.atomic():
                Person.objects.filter(pk=person_id).update(owner_id=None)  # fires the checks
        except IntegrityError:
            return {person_id}
        return set()


def test_foreign_keys_are_in_force_after_a_big_import(big, tmp_path, system, caplog):
    keys = foreign_key_names()
    job = start(people_csv(tmp_path, 200), system)
    services.run_import(job_id=job.pk, batch_size=100, max_batches=1)
    # PostgreSQL's keys are away while the rows go in; SQLite's stay (they cost it little).
    assert foreign_key_names() == set()
    # A row written behind Django's back meanwhile points at no company.
    orphan = Person.objects.filter(import_job_id=job.pk).first()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE people_person SET company_id = 999999 WHERE id = %s", [orphan.pk])

    services.run_import(job_id=job.pk, batch_size=100)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.created_count == 200
    assert foreign_key_names() == keys and not DeferredIndex.objects.exists()
    # The keys are in force again: the database finds the dangling row...
    assert dangling(orphan.pk) == {orphan.pk}
    assert Person.objects.filter(pk=orphan.pk).exists()  # ...which is kept, not lost
    if connection.vendor == "postgresql":
        # ...and the check at the end named it in the log.
        assert "do not all pass it" in caplog.text
    Person.objects.filter(pk=orphan.pk).update(company_id=None)  # the test database's own check


def validated_keys() -> dict[str, bool]:
    """PostgreSQL: each foreign key of the import's tables, and whether it has been checked."""
    names = [m._meta.db_table for m in indexes.PEOPLE_TABLES]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conname, c.convalidated FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE c.contype = 'f' AND t.relname = ANY(%s)",
            [names],
        )
        return dict(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_a_big_import_run_as_the_worker_does_rebuilds_everything_outside_a_transaction(
    big, tmp_path, system, caplog
):
    """As in the worker and the CLI (no transaction around it): PostgreSQL builds the
    indexes and checks the keys on connections of its own, two at a time."""
    before, keys = index_names(), foreign_key_names()
    job = start(people_csv(tmp_path, 300), system)
    services.run_import(job_id=job.pk, batch_size=100, max_batches=1)
    orphan = Person.objects.filter(import_job_id=job.pk).first()
    if connection.vendor == "postgresql":  # written behind Django's back while keys are away
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE people_person SET company_id = 999999 WHERE id = %s", [orphan.pk]
            )
    Company.objects.create(name="Made meanwhile")  # the database stays in use

    services.run_import(job_id=job.pk, batch_size=100)

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and job.created_count == 300
    assert index_names() == before and foreign_key_names() == keys
    assert not DeferredIndex.objects.exists()
    assert Person.objects.filter(last_name_key__startswith="last299").count() == 1
    if connection.vendor == "postgresql":
        checked = validated_keys()
        # Every key is back; each one is checked but the one the dangling row fails,
        # which still guards every new write and is named in the log.
        assert set(checked) == keys
        assert [name for name, ok in checked.items() if not ok] == [
            name for name in keys if "company_id" in name and name.startswith("people_person_")
        ]
        assert "do not all pass it" in caplog.text
        Person.objects.filter(pk=orphan.pk).update(company_id=None)

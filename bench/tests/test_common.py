"""The bench commands' shared database set-up (bench/common.py)."""

# ruff: noqa: S608 — the SQL is built from the test's own constants, no input

from __future__ import annotations

import pytest
from django.db import connection

from bench.common import (
    PG_SERVER,
    _make_pg_database,
    drop_pg_database,
    move_sequences,
    series_sql,
    use_database,
)
from tandem.people.models import Company

SQLITE_FILES = ("tandem.sqlite3", "tandem.sqlite3-wal", "tandem.sqlite3-shm")


@pytest.mark.django_db
def test_a_sqlite_bench_database_is_kept_with_keep_and_removed_without(tmp_path, monkeypatch):
    # use_database points the environment at its database: put it back afterwards.
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path))
    folder = tmp_path / "bench"
    folder.mkdir()
    for name in SQLITE_FILES:
        (folder / name).write_text("an earlier run")

    where = use_database("sqlite", pg_name="unused", sqlite_folder=str(folder), keep=True)

    assert where == str(folder / "tandem.sqlite3")
    assert all((folder / name).exists() for name in SQLITE_FILES)
    use_database("sqlite", pg_name="unused", sqlite_folder=str(folder), keep=False)
    assert not any((folder / name).exists() for name in SQLITE_FILES)


def test_a_postgres_bench_database_is_reused_with_keep_and_made_again_without():
    """Needs only the PostgreSQL server (both CI runs have it), not a PostgreSQL test
    database: the database part of use_database, without pointing Django at it."""
    import psycopg

    name = "tandem_h_bench_common_test"

    def tables() -> list[str]:
        with psycopg.connect(f"{PG_SERVER}/{name}") as conn:
            rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            return [row[0] for row in rows]

    try:
        _make_pg_database(name, keep=False)
        with psycopg.connect(f"{PG_SERVER}/{name}", autocommit=True) as conn:
            conn.execute("CREATE TABLE filled (id int)")
        _make_pg_database(name, keep=True)
        assert tables() == ["filled"]
        _make_pg_database(name, keep=False)
        assert tables() == []
    finally:
        drop_pg_database(name)
    with psycopg.connect(f"{PG_SERVER}/postgres") as conn:
        gone = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    assert gone is None


@pytest.mark.django_db
def test_rows_filled_with_their_own_ids_leave_room_for_the_next_one():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), SUM(n) FROM ({series_sql(connection.vendor, 10)}) AS s")
        assert cursor.fetchone() == (10, 55)
        cursor.execute(
            "INSERT INTO people_company (id, name, name_key, domain, industry, size, country,"
            " owner_id, custom_fields, created_at, updated_at, deleted_at, import_job_id)"
            " SELECT n, 'Company ' || n, 'company ' || n, '', '', '', '', NULL, '{}',"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, NULL, NULL"
            f" FROM ({series_sql(connection.vendor, 10)}) AS s"
        )
        move_sequences(cursor, ["people_company"])

    company = Company.objects.create(name="Made after the fill", name_key="made after the fill")

    # No clash with the filled ids (SQLite may already be past them: other tests used ids).
    assert company.pk > 10

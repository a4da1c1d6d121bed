"""Build the secondary indexes (and, on PostgreSQL, check the foreign keys) after the rows
when a big import moves into a small database.

A person row goes into some 30 B-trees (the people table's list and search
indexes, emails, phones, stage history, touchpoints). Keeping each of them
sorted row by row is most of an import's write time; sorting each one once
when the rows are in is many times faster. On PostgreSQL each foreign key
is also checked row by row, by a trigger at the commit (3.6 s of a 15 s
100k-row import); checking a whole table at once is one join. PostgreSQL's
manual advises both for a bulk load ("Populating a Database": remove
indexes and foreign key constraints, load, create them again).

So when the rows still to import are at least
TANDEM_IMPORT_DEFER_INDEXES_ROWS (50,000) and at least
as many as the people already stored (moving in: J10), the import drops the
non-unique indexes of the tables it writes (and their foreign keys on
PostgreSQL), and makes them again when it ends. Unique indexes stay: they
are the constraints (one person per email) and the lookups the import
itself makes. Lists and searches are slower while it runs; nothing is
wrong, only unsorted. Without the foreign keys nothing goes unchecked in
practice: every write to these tables comes through Django, which deletes
and nulls the rows that point at a deleted one itself; the keys are
checked again, for the whole table, when they are back.

Each dropped index or key is recorded (DeferredIndex) in the same transaction as
the DROP. If the import is killed, the next run of that import keeps going
without them and builds them at its end. `tandem worker` builds them when it
starts (a worker that restarts after a crash), `tandem migrate` before it
migrates, and another import before it starts when the one that dropped
them is no longer running (failed, or deleted).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction

from tandem.campaigns.models import Touchpoint
from tandem.imports.models import DeferredIndex, ImportJob, ImportStatus
from tandem.people.models import Person, PersonEmail, PersonPhone, StageChange

logger = logging.getLogger(__name__)

PEOPLE_TABLES: tuple[type[models.Model], ...] = (
    Person,
    PersonEmail,
    PersonPhone,
    StageChange,
    Touchpoint,
)
_SORT_CACHE_KIB = 2000  # SQLite's page cache while it builds an index (its default size)
_BUILD_MEMORY = "512MB"  # PostgreSQL maintenance_work_mem while the indexes are built
# PostgreSQL refuses DDL on a table with foreign-key checks still pending in the transaction
# (Django's are deferred to the commit); this runs them first. Nothing pends after a commit.
_CHECK_PENDING = "SET CONSTRAINTS ALL IMMEDIATE"
_ADD_CONSTRAINT = re.compile(r"^\s*ALTER\s+TABLE\s+.*\sADD\s+CONSTRAINT\s", re.IGNORECASE)
_CREATE = re.compile(r"^\s*CREATE\s+INDEX\s+(?!IF\s+NOT\s+EXISTS)", re.IGNORECASE)


def should_defer(rows_left: int) -> bool:
    """True for a big import into a database that holds fewer people than it brings."""
    if rows_left < settings.TANDEM_IMPORT_DEFER_INDEXES_ROWS:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COUNT(*) FROM "{Person._meta.db_table}"')  # noqa: S608
        stored = int(cursor.fetchone()[0])
    return rows_left >= stored


def secondary_indexes(tables: Iterable[type[models.Model]]) -> list[tuple[str, str, str]]:
    """(name, table, CREATE statement) of each non-unique index of the tables' own."""
    names = [m._meta.db_table for m in tables]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            marks = ", ".join(["%s"] * len(names))
            cursor.execute(
                "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' "  # noqa: S608
                f"AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY tbl_name, name",
                names,
            )
            rows = cursor.fetchall()
            return [
                (n, t, sql) for n, t, sql in rows if not sql.upper().startswith("CREATE UNIQUE")
            ]
        cursor.execute(
            """
            SELECT i.relname, t.relname, pg_get_indexdef(i.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace
              AND NOT x.indisunique AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
            ORDER BY t.relname, i.relname
            """,
            [names],
        )
        return [tuple(r) for r in cursor.fetchall()]


def foreign_keys(tables: Iterable[type[models.Model]]) -> list[tuple[str, str, str]]:
    """(name, table, ALTER TABLE … ADD CONSTRAINT statement) of each foreign key of the tables
    (PostgreSQL; SQLite's cannot be dropped, and cost it little)."""
    if connection.vendor != "postgresql":
        return []
    names = [m._meta.db_table for m in tables]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conname, t.relname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            WHERE c.contype = 'f' AND t.relname = ANY(%s)
              AND t.relnamespace = current_schema()::regnamespace
            ORDER BY t.relname, c.conname
            """,
            [names],
        )
        return [
            (name, table, f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
            for name, table, definition in cursor.fetchall()
        ]


def defer_indexes(job: ImportJob, tables: Iterable[type[models.Model]] = PEOPLE_TABLES) -> int:
    """Drop the tables' secondary indexes (and foreign keys, on PostgreSQL) for the job,
    recording each; how many were dropped.

    On PostgreSQL a DROP waits for the queries reading the table; if that
    takes over a few seconds nothing is dropped and the import runs with
    its indexes.
    """
    quote = connection.ops.quote_name
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '5s'")
                    cursor.execute(_CHECK_PENDING)
            found = secondary_indexes(tables)
            keys = foreign_keys(tables)
            DeferredIndex.objects.bulk_create(
                [
                    DeferredIndex(name=n, table=t, definition=sql, job=job)
                    for n, t, sql in (*found, *keys)
                ]
            )
            with connection.cursor() as cursor:
                for name, _, _ in found:
                    cursor.execute(f"DROP INDEX {quote(name)}")
                for name, table, _ in keys:
                    cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    except DatabaseError as exc:
        logger.warning(
            "Import #%s runs with its indexes: they could not be dropped (%s)", job.pk, exc
        )
        return 0
    return len(found) + len(keys)


def restore_indexes(*, job: ImportJob | None = None, stopped_only: bool = False) -> int:
    """Build again the indexes deferred (by `job`, or by any import; with `stopped_only`,
    by imports that are not running).

    One transaction per index, with its record: a build cut short is done
    again by the next call. Returns how many were built.

    On PostgreSQL, outside a transaction, the indexes are built two at a
    time on connections of their own, then the foreign keys are checked the
    same way: one CREATE INDEX uses one core, and builds on one table do not
    block each other (both take a SHARE lock). Measured on a 1M-row import
    here: 11.6 s of index builds and 3.0 s of key checks one after another.
    """
    pending = DeferredIndex.objects.order_by("id")
    if job is not None:
        pending = pending.filter(job=job)
    if stopped_only:
        pending = pending.exclude(job__status=ImportStatus.RUNNING)
    found = list(pending)
    keys = [d for d in found if _ADD_CONSTRAINT.match(d.definition)]
    plain = [d for d in found if not _ADD_CONSTRAINT.match(d.definition)]
    if connection.vendor == "postgresql" and not connection.in_atomic_block and len(found) > 1:
        _on_own_connections(_restore_index, plain)
        _on_own_connections(_restore_foreign_key, keys)
        return len(found)
    with _sorting_threads():
        for index in plain:
            _restore_index(index)
        for key in keys:
            _restore_foreign_key(key)
    return len(found)


_BUILDERS = 2  # PostgreSQL connections building at once (this machine has two cores)


def _on_own_connections(work: Callable[[DeferredIndex], None], items: list[DeferredIndex]) -> None:
    """`work` on each item, on _BUILDERS threads with a connection each (closed after)."""

    def run(item: DeferredIndex) -> None:
        try:
            work(item)
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=_BUILDERS, thread_name_prefix="tandem-index") as pool:
        for future in [pool.submit(run, item) for item in items]:
            future.result()  # the first error, if any, raised here


def _restore_index(index: DeferredIndex) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL maintenance_work_mem = '{_BUILD_MEMORY}'")
                cursor.execute(_CHECK_PENDING)
            cursor.execute(_CREATE.sub("CREATE INDEX IF NOT EXISTS ", index.definition, 1))
        DeferredIndex.objects.filter(pk=index.pk).delete()


def _restore_foreign_key(key: DeferredIndex) -> None:
    """Add the foreign key back, then check the rows already there in one pass.

    Added NOT VALID first (a moment's lock; from then on every write is
    checked), then validated, which reads the table without blocking its
    writers. A row pointing at nothing would leave the key in force but
    not validated: that is logged, and the import's rows stay.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
                "WHERE c.conname = %s AND t.relname = %s "
                "AND t.relnamespace = current_schema()::regnamespace",
                [key.name, key.table],
            )
            if cursor.fetchone() is None:
                cursor.execute(_CHECK_PENDING)
                cursor.execute(f"{key.definition} NOT VALID")
        DeferredIndex.objects.filter(pk=key.pk).delete()
    quote = connection.ops.quote_name
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{_BUILD_MEMORY}'")
            cursor.execute(f"ALTER TABLE {quote(key.table)} VALIDATE CONSTRAINT {quote(key.name)}")
    except DatabaseError as exc:
        logger.error(
            "Foreign key %s of %s is back and checks every write, but rows stored before "
            "do not all pass it (%s).",
            key.name,
            key.table,
            exc,
        )


@contextmanager
def _sorting_threads() -> Iterator[None]:
    """SQLite settings for CREATE INDEX on a million rows, then the usual ones.

    Its sorter spills runs of cache_size to a temporary file and merges them;
    with PRAGMA threads, the runs are sorted on several cores. So: a small
    cache and a file (many runs, sorted in parallel) beat the importing
    connection's 256 MiB cache in memory (one run, on one core). Measured on
    a 1M-row import's tables here: the 23 indexes took 11.6 s instead of
    26-31 s (docs/benchmarks.md). PostgreSQL
    decides for itself (max_parallel_maintenance_workers).
    """
    if connection.vendor != "sqlite":
        yield
        return
    names = ["threads", "cache_size"]
    if not connection.in_atomic_block:  # SQLite changes it only outside a transaction
        names.append("temp_store")
    usual: dict[str, int] = {}
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"PRAGMA {name}")
            usual[name] = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA threads = {int(min(os.cpu_count() or 1, 4))}")
        cursor.execute(f"PRAGMA cache_size = -{_SORT_CACHE_KIB}")
        if "temp_store" in names:
            cursor.execute("PRAGMA temp_store = FILE")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(f"PRAGMA {name} = {usual[name]}")


def has_deferred(job: ImportJob) -> bool:
    return DeferredIndex.objects.filter(job=job).exists()


def restore_all_if_any(using: str = "default") -> int:
    """Build every index a killed import left dropped (worker start, migrate); safe before the
    table exists."""
    if using != "default":
        return 0
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if DeferredIndex._meta.db_table not in tables:
        return 0
    built = restore_indexes()
    if built:
        logger.warning("Built %s indexes that a stopped import had left for later.", built)
    return built

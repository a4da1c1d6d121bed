"""Load bench CSVs into the configured database with set-based SQL.

    python -m bench load DIR

SQLite: `executemany` INSERTs, one big transaction per chunk, with
`synchronous=OFF` and a large page cache for the load's connection only.
PostgreSQL: `COPY ... FROM STDIN` (psycopg 3), a transaction per chunk.

Rows hold exactly what the services would store: name keys via `name_key`,
the normalised primary email on the person and in a PersonEmail row, the
phone as given (the generator writes E.164) on the person and in a
PersonPhone row, one "Created" StageChange per person, and companies with
`name_key` and a normalised domain. Owners are users made through
`create_user`. Ids are assigned here, so child rows need no round trip; the
sequences are moved past them at the end. The schema is left as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import database_label, human, migrate, rate, setup_django, stopwatch

CHUNK = 100_000
BENCH_USER = "bench"
BENCH_PASSWORD = "tandem-bench"
SPREAD = dt.timedelta(days=3 * 365)  # created_at is spread over the last three years


@dataclass
class Table:
    """An INSERT/COPY target: the columns we fill, then the model's other columns
    (added by later migrations) with their defaults."""

    model: Any
    columns: list[str]
    extra_columns: list[str]
    extra_values: tuple[Any, ...]
    rows: int = 0
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    def sql_columns(self) -> str:
        return ", ".join(f'"{c}"' for c in [*self.columns, *self.extra_columns])


def make_table(model: Any, columns: Sequence[str], vendor: str) -> Table:
    extra_columns, extra_values = [], []
    for f in model._meta.concrete_fields:
        if f.column in columns:
            continue
        if f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        else:
            raise SystemExit(
                f"{model._meta.label}.{f.name} has no default and is not nullable: "
                "teach bench/load.py what to put there."
            )
        if isinstance(value, dict | list):
            value = json.dumps(value)
        elif isinstance(value, bool) and vendor == "sqlite":
            value = int(value)
        extra_columns.append(f.column)
        extra_values.append(value)
    unknown = set(columns) - {f.column for f in model._meta.concrete_fields}
    if unknown:
        raise SystemExit(f"{model._meta.label} has no column(s) {sorted(unknown)}")
    return Table(model, list(columns), extra_columns, tuple(extra_values))


class Writer:
    """Writes row tuples to a table: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, connection: Any):
        self.connection = connection
        self.vendor = connection.vendor

    def when(self, value: dt.datetime) -> Any:
        if self.vendor == "sqlite":  # Django stores naive UTC text on SQLite
            return str(value.replace(tzinfo=None))
        return value

    def flag(self, value: bool) -> Any:
        return int(value) if self.vendor == "sqlite" else value

    def write(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with stopwatch() as elapsed:
            extra = table.extra_values
            if extra:
                rows = [row + extra for row in rows]
            if self.vendor == "sqlite":
                marks = ", ".join("?" * (len(table.columns) + len(table.extra_columns)))
                self.connection.connection.executemany(
                    # Names come from the models, values are parameters.
                    f'INSERT INTO "{table.name}" ({table.sql_columns()}) VALUES ({marks})',  # noqa: S608
                    rows,
                )
            elif self.vendor == "postgresql":
                with self.connection.cursor() as cursor:
                    copy_sql = f'COPY "{table.name}" ({table.sql_columns()}) FROM STDIN'
                    with cursor.cursor.copy(copy_sql) as copy:
                        for row in rows:
                            copy.write_row(row)
            else:
                raise SystemExit(f"bench load supports SQLite and PostgreSQL, not {self.vendor}")
        table.rows += len(rows)
        table.seconds += elapsed()


def next_id(connection: Any, model: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{model._meta.db_table}"')  # noqa: S608
        return int(cursor.fetchone()[0]) + 1


def read_csv(path: Path) -> Iterable[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)


def chunks(rows: Iterable[dict[str, str]], size: int) -> Iterable[list[dict[str, str]]]:
    batch: list[dict[str, str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def load(folder: Path, *, log: Callable[[str], None] = print) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from tandem.accounts.actor import Actor
    from tandem.accounts.models import Role, User
    from tandem.accounts.services import create_user
    from tandem.people.models import (
        Company,
        Person,
        PersonEmail,
        PersonPhone,
        Stage,
        StageChange,
    )
    from tandem.people.normalize import name_key, normalize_domain, normalize_email

    people_csv, companies_csv = folder / "people.csv", folder / "companies.csv"
    for path in (people_csv, companies_csv):
        if not path.exists():
            raise SystemExit(
                f"{path} is missing: make it with python -m bench.generate --out {folder}"
            )
    with stopwatch() as migrating:
        migrate()
    log(f"Database: {database_label()} (migrated in {migrating():.1f} s)")
    if Person.objects.exists():
        raise SystemExit(
            "This database already holds people; bench load fills an empty one "
            "(use a fresh TANDEM_DATA_DIR or database)."
        )

    vendor = connection.vendor
    writer = Writer(connection)
    system = Actor.system("bench")
    companies = make_table(
        Company,
        ["id", "name", "name_key", "domain", "industry", "size", "country", "owner_id",
         "custom_fields", "created_at", "updated_at", "deleted_at"],
        vendor,
    )  # fmt: skip
    people = make_table(
        Person,
        ["id", "first_name", "last_name", "first_name_key", "last_name_key", "email", "phone",
         "title", "company_id", "street", "city", "postcode", "region", "country", "owner_id",
         "stage", "stage_changed_at", "source", "custom_fields", "created_at", "updated_at",
         "deleted_at"],
        vendor,
    )  # fmt: skip
    emails = make_table(
        PersonEmail,
        ["id", "person_id", "email", "email_normalized", "is_primary", "created_at"],
        vendor,
    )
    phones = make_table(
        PersonPhone,
        ["id", "person_id", "number", "original", "kind", "is_primary", "created_at"],
        vendor,
    )
    changes = make_table(
        StageChange,
        ["id", "person_id", "from_stage", "to_stage", "changed_at", "actor_id", "actor_label",
         "reason"],
        vendor,
    )  # fmt: skip
    tables = [companies, people, emails, phones, changes]

    if vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")  # a bench load; a crash means reload
            cursor.execute("PRAGMA cache_size=-2000000")  # 2 GB of pages for the indexes
    elif vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")

    now = timezone.now().replace(microsecond=0)
    users: dict[str, int] = dict(User.objects.values_list("username", "id"))

    def user_id(username: str) -> int | None:
        if not username:
            return None
        if username not in users:
            user = create_user(
                actor=system,
                username=username,
                password=None,
                data={"role": Role.SALESPERSON, "first_name": username.title()},
            )
            users[username] = user.pk
        return users[username]

    cpu_started = time.process_time()
    with stopwatch() as total:
        with transaction.atomic():
            if BENCH_USER not in users:
                bench = create_user(
                    actor=system,
                    username=BENCH_USER,
                    password=BENCH_PASSWORD,
                    data={"role": Role.MANAGER, "first_name": "Bench"},
                )
                users[BENCH_USER] = bench.pk

        # Companies: name → id for the people.
        company_ids: dict[str, int] = {}
        cid = next_id(connection, Company)
        stamp = writer.when(now)
        json_empty = "{}"
        for batch in chunks(read_csv(companies_csv), CHUNK):
            rows = []
            for row in batch:
                name = row["name"].strip()
                company_ids[name] = cid
                rows.append(
                    (
                        cid, name, name_key(name), normalize_domain(row["domain"]),
                        row["industry"].strip(), row["size"].strip(), row["country"].strip().upper(),
                        None, json_empty, stamp, stamp, None,
                    )
                )  # fmt: skip
                cid += 1
            with transaction.atomic():
                writer.write(companies, rows)
        log(f"  companies: {human(companies.rows)} in {companies.seconds:.1f} s")

        # People with their email, phone and "created" stage change, chunk by chunk.
        with people_csv.open("rb") as f:  # for the progress line and the created_at spread
            total_people = max(sum(1 for _ in f) - 1, 0)
        pid, eid, phid, sid = (
            next_id(connection, m) for m in (Person, PersonEmail, PersonPhone, StageChange)
        )
        first_created = now - SPREAD
        step = SPREAD / max(total_people, 1)
        yes = writer.flag(True)
        stages = sorted(Stage.values)
        done = 0
        for batch in chunks(read_csv(people_csv), CHUNK):
            person_rows, email_rows, phone_rows, change_rows = [], [], [], []
            for row in batch:
                created = writer.when(first_created + step * done)
                done += 1
                first, last = row["first_name"].strip(), row["last_name"].strip()
                typed = row["email"].strip()
                normalized = normalize_email(typed) if typed else ""
                phone = row["phone"].strip()
                stage = row["stage"].strip()
                if stage not in stages:
                    raise SystemExit(
                        f"people.csv row {done}: stage {stage!r} is not one of {stages}"
                    )
                person_rows.append(
                    (
                        pid, first, last, name_key(first), name_key(last), normalized, phone,
                        row["title"].strip(), company_ids.get(row["company"].strip()), "",
                        row["city"].strip(), row["postcode"].strip(), "",
                        row["country"].strip().upper(), user_id(row["owner"].strip()), stage,
                        created, "", json_empty, created, created, None,
                    )
                )  # fmt: skip
                if normalized:
                    email_rows.append((eid, pid, typed, normalized, yes, stamp))
                    eid += 1
                if phone:
                    phone_rows.append((phid, pid, phone, phone, "work", yes, stamp))
                    phid += 1
                change_rows.append((sid, pid, "", stage, created, None, "bench", "Created"))
                sid += 1
                pid += 1
            with transaction.atomic():
                writer.write(people, person_rows)
                writer.write(emails, email_rows)
                writer.write(phones, phone_rows)
                writer.write(changes, change_rows)
            log(f"  people: {human(done)} / {human(total_people)} ({rate(done, total())} overall)")
        loaded = total()
        cpu = time.process_time() - cpu_started

        # Ids were given here: move each sequence past them.
        from django.core.management.color import no_style

        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(
                no_style(), [t.model for t in tables]
            ):
                cursor.execute(statement)

    with stopwatch() as analysing, connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("PRAGMA analysis_limit=2000")
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            for t in tables:
                cursor.execute(f'VACUUM (ANALYZE) "{t.name}"')
    return {
        "database": database_label(),
        "tables": tables,
        "load_s": loaded,
        "cpu_s": cpu,
        "analyse_s": analysing(),
        "people": people.rows,
        "users": len(users),
    }


def report(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table as RichTable

    table = RichTable(title=f"bench load — {result['database']}")
    for header in ("table", "rows", "write s", "rows/s (write)"):
        table.add_column(header, justify="left" if header == "table" else "right")
    for t in result["tables"]:
        table.add_row(t.name, human(t.rows), f"{t.seconds:.1f}", rate(t.rows, t.seconds))
    all_rows = sum(t.rows for t in result["tables"])
    table.add_row(
        "all (wall clock, incl. CSV parsing)",
        human(all_rows),
        f"{result['load_s']:.1f}",
        rate(all_rows, result["load_s"]),
    )
    Console(width=120).print(table)
    cpu_note = (
        " (the PostgreSQL server's work is not in it)" if "PostgreSQL" in result["database"] else ""
    )
    print(
        f"{human(result['people'])} people in {result['load_s']:.1f} s = "
        f"{rate(result['people'], result['load_s'])} people (with their emails, phones "
        f"and stage rows); this process used {result['cpu_s']:.1f} s of CPU{cpu_note}; "
        f"statistics (ANALYZE) {result['analyse_s']:.1f} s; "
        f"{result['users']} users. Log in as {BENCH_USER} / {BENCH_PASSWORD}."
    )


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m bench load", description="Load bench CSVs into the configured database."
    )
    parser.add_argument("folder", type=Path, help="the folder python -m bench.generate wrote")
    args = parser.parse_args(argv)
    setup_django()
    report(load(args.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What the funnel's triggers on people_person cost a person write (ADR 0014).

    python -m bench.funnel_trigger --db sqlite|postgres [--people 20000]

Fills a scratch database (`tandem_funnel_trigger_bench` on PostgreSQL, dropped and made
again; a temporary folder on SQLite) with `--people` people (bench.funnel's fill), then
times, with the triggers and with them dropped: every person's stage changed by its own
UPDATE statement (one transaction, as a busy writer's statements), all of them by one
bulk UPDATE, and every person's title changed by its own UPDATE (a column the triggers
ignore). Median of 3 rounds each. The triggers are put back at the end.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time

from bench.common import database_label, machine_label, percentile, use_database

PG_NAME = "tandem_funnel_trigger_bench"
ROUNDS = 3


def _triggers(create: bool) -> None:
    from django.db import connection

    sql = importlib.import_module("tandem.reports.migrations.0002_funnel_rollup")
    vendor = connection.vendor
    statements = {
        (True, "sqlite"): sql.SQLITE_TRIGGERS,
        (False, "sqlite"): sql.SQLITE_DROP,
        (True, "postgresql"): sql.POSTGRES_TRIGGERS,
        (False, "postgresql"): sql.POSTGRES_DROP,
    }[create, vendor]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _time(label: str, run) -> tuple[float, int]:
    from django.db import connection, transaction

    times = []
    for round_ in range(ROUNDS):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM reports_funnelpersonchange")
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            run(cursor, round_)
        times.append(time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM reports_funnelpersonchange")
        queued = cursor.fetchone()[0]
    return percentile(times, 50), queued


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--people", type=int, default=20_000)
    args = parser.parse_args(argv)
    use_database(
        args.db,
        pg_name=PG_NAME,
        sqlite_folder=os.path.join(tempfile.gettempdir(), "tandem-funnel-trigger-bench"),
        keep=False,
    )
    from django.db import connection

    from bench.funnel import fill

    print(f"{database_label()} · {machine_label()} · load average {os.getloadavg()[0]:.2f}")
    fill(args.people)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM people_person ORDER BY id")
        ids = [row[0] for row in cursor.fetchall()]
    stages = ("recycled", "lead")

    def one_by_one(cursor, round_: int) -> None:
        for pk in ids:
            cursor.execute(
                "UPDATE people_person SET stage = %s WHERE id = %s", [stages[round_ % 2], pk]
            )

    def bulk(cursor, round_: int) -> None:
        cursor.execute("UPDATE people_person SET stage = %s", [stages[round_ % 2]])

    def titles(cursor, round_: int) -> None:
        for pk in ids:
            cursor.execute("UPDATE people_person SET title = %s WHERE id = %s", [f"t{round_}", pk])

    cases = (
        (f"{len(ids):,} stage updates, one statement each", one_by_one),
        (f"one UPDATE of {len(ids):,} people's stage", bulk),
        (f"{len(ids):,} title updates, one statement each", titles),
    )
    print(
        "\n| case | with triggers s | without s | per row with, µs | queued |\n|---|---:|---:|---:|---:|"
    )
    for label, run in cases:
        with_triggers, queued = _time(label, run)
        _triggers(False)
        without, _ = _time(label, run)
        _triggers(True)
        print(
            f"| {label} | {with_triggers:.3f} | {without:.3f} "
            f"| {(with_triggers - without) / len(ids) * 1e6:+.1f} | {queued:,} |"
        )
    print(f"\nload average now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

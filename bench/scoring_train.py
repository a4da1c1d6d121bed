"""How long `tandem scoring train` takes on 100k people (issue 19, point 10: at most 60 s).

    python -m bench.scoring_train --db sqlite|postgres [--people 100000] [--fields 100]
        [--reuse [--data-dir DIR]]

Sets up a fresh database (SQLite in a temporary TANDEM_DATA_DIR, or the
PostgreSQL database `tandem_scoring_train_bench`, dropped and created
again), writes a deterministic funnel history set-based
(tandem/scoring/tests/history.py: stage changes, touchpoints, activities, a
choice and `--fields` numeric custom fields per person), then times, in this
process:

- train: read the history, build the features, fit both families on held-out
  rows, keep the better, fit it on every row, store the version (what point 10
  measures);
- score: store every undecided person's likelihood and top factors with it.

The machine is shared: the load average before and after is printed beside the
figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.common import database_label, drop_pg_database, machine_label, use_database

PG_NAME = "tandem_scoring_train_bench"
TARGET_SECONDS = 60.0
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--fields", type=int, default=100, help="numeric custom fields")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database (SQLite: --data-dir) and its history between runs: "
        "writing 100k people takes minutes, training is what is timed",
    )
    parser.add_argument("--data-dir", help="SQLite folder (default: a new temporary one)")
    args = parser.parse_args(argv)
    scratch = Path(args.data_dir or tempfile.mkdtemp(prefix="tandem-scoring-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    os.environ["TANDEM_DATA_DIR"] = str(scratch)
    # SQLite: a new temporary folder, or --data-dir with whatever it holds.
    keep = args.reuse or args.db == "sqlite"
    use_database(args.db, pg_name=PG_NAME, sqlite_folder=str(scratch), keep=keep)
    from tandem.accounts.actor import Actor
    from tandem.people.models import Person
    from tandem.scoring.models import ModelVersion
    from tandem.scoring.predictive.services import score_people, train_model
    from tandem.scoring.tests.history import make_history

    print(f"{machine_label()}; {database_label()}")
    if Person.objects.exists():
        ModelVersion.objects.all().delete()
        print(f"history: {Person.objects.count()} people already there (--reuse)")
    else:
        started = time.perf_counter()
        history = make_history(people=args.people, numeric_fields=args.fields, now=NOW)
        written = time.perf_counter() - started
        print(
            f"history: {history.people} people, {args.fields} numeric custom fields, "
            f"written in {written:.1f} s"
        )
    load_before = os.getloadavg()

    started = time.perf_counter()
    cpu = time.process_time()
    version = train_model(actor=Actor.system("bench"), now=NOW)
    train_s, train_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    scored = score_people(version, now=NOW)
    score_s = time.perf_counter() - started
    load_after = os.getloadavg()
    ok = "met" if train_s <= TARGET_SECONDS else "NOT met"
    print(
        f"train: {train_s:.1f} s wall ({train_cpu:.1f} s CPU) for {version.positives} positive + "
        f"{version.negatives} negative outcomes, {len(version.features)} features; kept "
        f"{version.method} (held-out AUC {version.evaluation['family_auc']}, "
        f"{version.evaluation['split']} split); target <= {TARGET_SECONDS:.0f} s: {ok}"
    )
    print(f"score: {score_s:.1f} s for {scored} people (likelihood and top factors stored)")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    if args.db == "postgres" and not args.reuse:
        from django.db import connections

        connections.close_all()
        drop_pg_database(PG_NAME)
    return 0 if train_s <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

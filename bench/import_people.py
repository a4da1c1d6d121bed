"""Time an import of bench people through the real import path (J10, issue 4 item 18).

    python -m bench.import_people --rows 1000000 [--data DIR] [--policy skip] [--rerun] [--messy]

Makes the deterministic CSV with bench.generate (people.csv: names, email,
E.164 phone, title, company name, city, postcode, country, stage, owner) if
DIR does not hold it yet, then imports it into the configured database
(DATABASE_URL, or SQLite in TANDEM_DATA_DIR) exactly as `tandem import
people FILE --auto` does: file check, suggested mapping, then batches of
10,000 (SQLite) or 20,000 (PostgreSQL) rows written set-based. Companies
named in the file are created as it goes; the owners (sales01…sales40) are
made first. `--rerun` imports the same file a second time (every row an
existing person: all skipped with the skip policy). Prints wall-clock time,
rows/s, this process's peak memory, and the CPU time of this process and of
the reading process beside it.

`--messy` imports people-messy.csv instead (bench.generate --messy: issue
17's example, ~3% repeated emails, ~43% of phones in a national format the
import's region cannot read, a few bad titles, countries and stages). Every
row names its person, so the import must create one person per distinct
email and leave the bad values out; the table adds the values left out.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench.common import database_label, machine_label, migrate, setup_django

OWNERS = tuple(f"sales{n:02d}" for n in range(1, 41))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ensure_data(rows: int, folder: Path, *, messy: bool = False) -> Path:
    from bench import generate

    people = folder / "people.csv"
    marker = folder / f".rows-{rows}"
    if people.exists() and marker.exists():
        if messy:
            dirty = folder / "people-messy.csv"
            if not dirty.exists():
                generate.write_messy(people, dirty, seed=1)
            return dirty
        return people
    print(f"Generating {rows:,} people into {folder} …", flush=True)
    generate.generate(people=rows, companies=max(1, rows // 5), out=folder, seed=1)
    for old in folder.glob(".rows-*"):
        old.unlink()
    marker.touch()
    return ensure_data(rows, folder, messy=messy)


def ensure_owners() -> None:
    from tandem.accounts.actor import Actor
    from tandem.accounts.models import Role, User
    from tandem.accounts.services import create_user

    existing = set(User.objects.filter(username__in=OWNERS).values_list("username", flat=True))
    system = Actor.system("bench")
    for username in OWNERS:
        if username not in existing:
            create_user(
                actor=system,
                username=username,
                password=None,
                data={"role": Role.SALESPERSON, "first_name": username.title()},
            )


def children_cpu() -> float:
    """CPU seconds of the child processes that have ended (the import's reading process)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(path: Path, policy: str, label: str) -> dict[str, float | int | str]:
    from tandem.accounts.actor import Actor
    from tandem.imports import services

    actor = Actor.system("bench")
    cpu = time.process_time()
    reader_cpu = children_cpu()
    started = time.perf_counter()
    job = services.import_file(actor=actor, entity="people", path=path, policy=policy)
    checked = time.perf_counter()
    services.start_import(actor=actor, job=job, enqueue=False)
    last = [time.perf_counter()]

    def progress(j: object) -> None:
        now = time.perf_counter()
        if now - last[0] >= 5:
            last[0] = now
            done = getattr(j, "processed_rows", 0)
            print(f"  {label}: {done:,} rows, {now - started:.0f} s", flush=True)

    job = services.run_import(job_id=job.pk, actor=actor, on_batch=progress)
    finished = time.perf_counter()
    if job.error:
        raise SystemExit(f"import #{job.pk} failed: {job.error}")
    return {
        "label": label,
        "job": job.pk,
        "rows": job.processed_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "rejected": job.rejected_count,
        "left_out": job.left_out_count,
        "check_s": checked - started,
        "total_s": finished - started,
        "cpu_s": time.process_time() - cpu,
        "reader_cpu_s": children_cpu() - reader_cpu,
        "peak_mib": peak_mib(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.import_people",
        description="Time importing bench people through the import path.",
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder for the CSV (default: tandem-bench-import-N in the temp folder)",
    )
    parser.add_argument("--policy", default="skip", choices=["skip", "fill", "overwrite"])
    parser.add_argument("--rerun", action="store_true", help="import the same file a second time")
    parser.add_argument(
        "--messy", action="store_true", help="import people-messy.csv (see the docstring)"
    )
    args = parser.parse_args(argv)
    folder = args.data or Path(tempfile.gettempdir()) / f"tandem-bench-import-{args.rows}"
    path = ensure_data(args.rows, folder, messy=args.messy)
    setup_django()
    migrate()
    from tandem.people.models import Person

    ensure_owners()
    before = Person.objects.count()
    print(f"Database: {database_label()}; {before:,} people before. Machine: {machine_label()}")
    results = [run_once(path, args.policy, "import")]
    if args.rerun:
        results.append(run_once(path, args.policy, "re-run"))
    after = Person.objects.count()
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"bench import_people — {path.name}, {args.rows:,} rows, policy {args.policy}"
    )
    for name in (
        "run",
        "rows",
        "created",
        "updated",
        "skipped",
        "rejected",
        "values left out",
        "file check s",
        "total s",
        "rows/s",
        "CPU s (this process)",
        "CPU s (reader)",
        "peak MiB",
    ):
        table.add_column(name, justify="left" if name == "run" else "right")
    for r in results:
        table.add_row(
            f"{r['label']} (#{r['job']})",
            f"{r['rows']:,}",
            f"{r['created']:,}",
            f"{r['updated']:,}",
            f"{r['skipped']:,}",
            f"{r['rejected']:,}",
            f"{r['left_out']:,}",
            f"{r['check_s']:.1f}",
            f"{r['total_s']:.1f}",
            f"{int(r['rows']) / float(r['total_s']):,.0f}",
            f"{r['cpu_s']:.1f}",
            f"{r['reader_cpu_s']:.1f}",
            f"{r['peak_mib']:.0f}",
        )
    Console(width=160).print(table)
    print(f"People: {before:,} before, {after:,} after.")
    for r in results:  # one line per run, for docs/benchmarks.md
        print(
            f"| {database_label()} | {r['label']} | {r['rows']:,} | {r['total_s']:.1f} s | "
            f"{int(r['rows']) / float(r['total_s']):,.0f}/s | {r['cpu_s']:.1f} s | "
            f"{r['peak_mib']:.0f} MiB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

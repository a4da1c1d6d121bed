"""`tandem duplicates scan|export`: find duplicate people over the whole database, and export them."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from tandem.dedup.services import candidates_at_threshold, duplicate_threshold, scan_all


def _threshold(raw: float | None) -> float:
    if raw is None:
        return duplicate_threshold()
    if not 0 < raw <= 1:
        raise CommandError(f"--threshold {raw}: use a number above 0 and at most 1, e.g. 0.85.")
    return raw


class Command(BaseCommand):
    help = (
        "scan: compare every person with the people who share a phone, mailbox, company, "
        "postcode, town or street, score name and address with weights learned from this "
        "database (ADR 0006), and store the pairs scoring at the threshold as candidates. "
        "export: write those pairs as id_a,id_b,score."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="scan|export")
        scan = sub.add_parser("scan", help="Find duplicate candidates in the whole database.")
        scan.add_argument(
            "--threshold",
            type=float,
            help="Store pairs scoring at least this (0..1; default TANDEM_DUPLICATE_THRESHOLD).",
        )
        export = sub.add_parser("export", help="Write the open pairs at the threshold as CSV.")
        export.add_argument("--out", required=True, help="CSV file to write, or - for stdout.")
        export.add_argument("--threshold", type=float, help="Default: the configured threshold.")

    def handle(self, *args: Any, **options: Any) -> None:
        threshold = _threshold(options.get("threshold"))
        if options["action"] == "scan":
            self._scan(threshold)
        else:
            self._export(threshold, options["out"])

    def _scan(self, threshold: float) -> None:
        # The wrapped stream, not OutputWrapper: rich writes partial lines.
        console = Console(file=cast("IO[str]", self.stdout._out), highlight=False)
        with console.status("Scanning for duplicates…") as status:
            result = scan_all(
                threshold=threshold, progress=lambda name: status.update(f"Scanning: {name} done")
            )
        table = Table(title=f"Duplicate scan at threshold {threshold:.2f}", show_header=False)
        table.add_column("what")
        table.add_column("count", justify="right")
        table.add_row("people compared", f"{result.people:,}")
        table.add_row("pairs sharing a block", f"{result.pairs_compared:,}")
        table.add_row("pairs at the threshold", f"{result.found:,}")
        table.add_row("new candidates", f"{result.store.created:,}")
        table.add_row("open candidates rescored", f"{result.store.updated:,}")
        table.add_row("open candidates unchanged", f"{result.store.unchanged:,}")
        table.add_row("already merged or dismissed", f"{result.store.resolved:,}")
        console.print(table)
        phases = ", ".join(f"{name} {secs:.1f} s" for name, secs in result.phases.items())
        console.print(f"Done in {result.seconds:.1f} s ({phases}).")

    def _export(self, threshold: float, out: str) -> None:
        rows = candidates_at_threshold(threshold)
        if out == "-":
            count = self._write(sys.stdout, rows)
            self.stderr.write(f"{count:,} pairs at threshold {threshold:.2f}.")
            return
        path = Path(out)
        if path.parent and not path.parent.exists():
            raise CommandError(f"--out {out}: the folder {path.parent} does not exist.")
        try:
            with path.open("w", newline="", encoding="utf-8") as handle:
                count = self._write(handle, rows)
        except OSError as exc:
            raise CommandError(f"--out {out}: cannot write ({exc.strerror}).") from None
        self.stdout.write(f"Wrote {count:,} pairs at threshold {threshold:.2f} to {path}.")

    @staticmethod
    def _write(handle: Any, rows: Any) -> int:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id_a", "id_b", "score"])
        count = 0
        for id_a, id_b, score in rows.iterator(chunk_size=5000):
            writer.writerow([id_a, id_b, f"{score:.3f}"])
            count += 1
        return count

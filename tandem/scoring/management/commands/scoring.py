"""`tandem scoring rescore`: score every person with the active rules, with a progress bar."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tandem.scoring import engine


class Command(BaseCommand):
    help = (
        "rescore: score every person with the active rule set (decay brought up to date, "
        "expired overrides lapsed), set-based, a range of people at a time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="rescore")
        rescore = sub.add_parser("rescore", help="Rescore everyone with the active rules.")
        rescore.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rescore":
            self._rescore(quiet=options["quiet"])

    def _rescore(self, *, quiet: bool) -> None:
        started = time.perf_counter()
        if quiet:
            done = engine.rescore_everyone()
        else:
            with Progress(
                TextColumn("Scoring"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
            ) as bar:
                task = bar.add_task("rescore", total=None)

                def progress(done_ids: int, total_ids: int) -> None:
                    bar.update(task, completed=done_ids, total=total_ids)

                done = engine.rescore_everyone(progress=progress)
        seconds = time.perf_counter() - started
        self.stdout.write(f"Scored {done:,} people in {seconds:.1f} s.")

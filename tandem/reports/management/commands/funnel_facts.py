"""`tandem funnel_facts [--rebuild]`: bring the funnel's per-person facts up to date."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from tandem.reports import funnel_facts


class Command(BaseCommand):
    help = (
        "Fold the stage history of the people whose history changed since the last run into "
        "the funnel's facts (the report does this itself before every view; this does it "
        "ahead). --rebuild folds everyone again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="Fold everyone again.")

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        done = funnel_facts.rebuild() if options["rebuild"] else funnel_facts.refresh()
        what = "everyone" if done.full else "the people with new history"
        self.stdout.write(
            f"Folded {done.people:,} people ({what}) up to stage change "
            f"#{done.last_change_id:,} in {time.perf_counter() - started:.1f} s."
        )

"""`tandem attribution_refresh [--rebuild]`: bring the stored attribution credit up to date."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.attribution import store


class Command(BaseCommand):
    help = (
        "Work out the stored attribution credit of every deal that changed (reports do it"
        " for their period when asked; the worker every minute). --rebuild: every deal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="Drop and rebuild every row.")

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.perf_counter()
        deals = store.rebuild() if options["rebuild"] else store.refresh()
        self.stdout.write(f"{deals} deals worked out in {time.perf_counter() - began:.1f} s")

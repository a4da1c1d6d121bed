"""`tandem demo`: load the demo company once and print the logins."""

from __future__ import annotations

import time
from typing import IO, Any, cast

from django.conf import settings
from django.core.management.base import BaseCommand
from rich.console import Console
from rich.table import Table

from tandem.demo.data import DEMO_LOGINS, DEMO_PASSWORD, DEMO_SEED, demo_is_loaded, load_demo


class Command(BaseCommand):
    help = (
        "Load the demo company: a user per role, ~300 companies, ~3,000 people and "
        "18 months of history (stage changes, activities, campaigns and touchpoints, "
        "newsletter consents). Runs once; a second run changes nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--seed", type=int, default=DEMO_SEED, help="Another seed gives another company."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        console = Console(file=cast(IO[str], self.stdout), highlight=False, width=100)
        started = time.perf_counter()
        result = load_demo(seed=options["seed"])
        took = time.perf_counter() - started
        if result.loaded:
            summary = ", ".join(
                f"{n:,} {name.replace('_', ' ')}" for name, n in result.counts.items()
            )
            console.print(f"[green]{result.message}[/green] {summary} in {took:.1f} s.")
        else:
            console.print(result.message)
        if not (result.loaded or demo_is_loaded()):
            return
        table = Table(title=f"Demo logins — open {settings.TANDEM_BASE_URL}/")
        table.add_column("username")
        table.add_column("role")
        table.add_column("team")
        table.add_column("password")
        for login in DEMO_LOGINS:
            table.add_row(login.username, login.role, login.team, DEMO_PASSWORD)
        console.print(table)

"""`tandem worker`: runs background tasks from the configured queue."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

from tandem.core.collector import settle_startup
from tandem.core.worker_start import run_worker_start, worker_loops


class Command(BaseCommand):
    help = (
        "Run the background worker (database queue by default, RQ when TANDEM_TASKS=redis://...)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--burst", action="store_true", help="Run what is queued, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        backend = str(settings.TASKS["default"]["BACKEND"])
        # In debug mode the database worker reloads on code changes: this process then only
        # watches the files and runs the worker as a child, the same command again, which
        # does the work below. Done here too, every loop ran twice (two drains, two
        # scoring loops, ...).
        watcher = (
            backend.startswith("django_tasks_db")
            and settings.DEBUG
            and not options["burst"]
            and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        )
        # What the apps need done first: build the indexes a killed import left
        # dropped, drain the web-form posts that waited (core/worker_start.py).
        if not watcher:
            run_worker_start()
        # Loops the apps keep going beside the queue (capture's drain of web-form posts as
        # they arrive); not in a burst, which runs what is queued and exits.
        loops = not options["burst"] and not backend.endswith("ImmediateBackend") and not watcher
        if loops:  # a long run: URLs loaded before any task; short collector passes
            settle_startup()
        with worker_loops(enabled=loops):
            if backend.startswith("django_tasks_rq"):
                extra = {"burst": True} if options["burst"] else {}
                call_command("rqworker", "default", job_class="django_tasks_rq.Job", **extra)
            elif backend.startswith("django_tasks_db"):
                extra = {"batch": True} if options["burst"] else {}
                call_command("db_worker", **extra)
            else:
                self.stdout.write(f"Tasks run inline with {backend}; no worker is needed.")

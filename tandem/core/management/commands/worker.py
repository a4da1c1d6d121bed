"""`tandem worker`: runs background tasks from the configured queue."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the background worker (database queue by default, RQ when TANDEM_TASKS=redis://...)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--burst", action="store_true", help="Run what is queued, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        backend = str(settings.TASKS["default"]["BACKEND"])
        # An import killed half-way may have left the people tables without their
        # secondary indexes (imports/bulk/indexes.py): build them before anything else.
        from tandem.imports.bulk.indexes import restore_all_if_any

        restore_all_if_any()
        # Web-form posts accepted while no worker ran (or whose drain was lost in a
        # crash) wait in the capture inbox: start with them.
        from tandem.capture import inbox

        if inbox.waiting_count():
            from tandem.capture.tasks import drain_capture_inbox

            drain_capture_inbox.enqueue()
        stop = threading.Event()
        drainer = None
        if not options["burst"] and not backend.endswith("ImmediateBackend"):
            # Web-form posts are captured by this process's own loop as they arrive
            # (capture/inbox.py: drain_continuously), alongside the queue's tasks.
            drainer = threading.Thread(
                target=inbox.drain_continuously, args=(stop,), name="capture-drain", daemon=True
            )
            drainer.start()
        try:
            if backend.startswith("django_tasks_rq"):
                extra = {"burst": True} if options["burst"] else {}
                call_command("rqworker", "default", job_class="django_tasks_rq.Job", **extra)
            elif backend.startswith("django_tasks_db"):
                extra = {"batch": True} if options["burst"] else {}
                call_command("db_worker", **extra)
            else:
                self.stdout.write(f"Tasks run inline with {backend}; no worker is needed.")
        finally:
            stop.set()
            if drainer is not None:
                drainer.join(timeout=60)

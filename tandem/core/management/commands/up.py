"""`tandem up`: everything `make run` needs: migrate, demo data, worker, web server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Migrate, load the demo company, start the worker and the web server."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-demo", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_demo"]:
            call_command("demo")
        worker = subprocess.Popen([sys.executable, "-m", "tandem", "worker"], env=os.environ.copy())
        self.stdout.write(
            self.style.SUCCESS(f"\nTandem is running at http://{settings.TANDEM_BIND}/")
        )
        self.stdout.write(f"Database: {settings.DATABASES['default']['NAME']}")
        self.stdout.write("Stop with Ctrl-C.\n")
        try:
            call_command("serve")
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=20)

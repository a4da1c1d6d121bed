"""`tandem serve`: the production web server (granian, static files by whitenoise).

Why granian and not gunicorn (measured with `python -m bench.capture_load`,
2 web processes, 16 connections, 2026-12-03): gunicorn's gthread worker spent
1.59 ms of CPU per web-form post on PostgreSQL and reached 655 posts/s (435
with keep-alive, which pinned every connection to one process); granian,
whose HTTP layer is Rust, spent 0.94-1.09 ms and reached 1,077-1,114 posts/s
with keep-alive, both processes evenly busy (SQLite: 1,356 → 1,741 posts/s).
A second thread per process costs 5-15% (946-1,077 posts/s), about what a
third single-threaded process costs (923-1,043/s, and granian warns about more
processes than cores); two threads keep a process answering while one of them
runs a slow page, so the default is TANDEM_WEB_WORKERS = cores,
TANDEM_WEB_THREADS = 2.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.management.base import BaseCommand, CommandError

COLLECT = "run `tandem collectstatic --noinput`, then start again"


def split_bind(bind: str) -> tuple[str, int]:
    """ "127.0.0.1:8000" → ("127.0.0.1", 8000); "[::1]:8000" → ("::1", 8000)."""
    host, _, port = bind.rpartition(":")
    return host.strip("[]"), int(port)


def check_static_files() -> None:
    """Stop before serving when production's static files are not collected (or stale).

    In production the pages link the hashed names from the manifest that
    `collectstatic` writes into STATIC_ROOT; without it every page is a 500,
    and a file added since the last run is a 500 on each page that links it.
    """
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return  # debug mode: files come from the apps as they are
    content = staticfiles_storage.read_manifest()
    if content is None:
        raise CommandError(f"Static files are not collected in {settings.STATIC_ROOT}: {COLLECT}.")
    collected = set(json.loads(content).get("paths", {}))
    missing = sorted(
        path
        for finder in finders.get_finders()
        for path, _ in finder.list(["CVS", ".*", "*~"])
        if path not in collected
    )
    if missing:
        raise CommandError(
            f"Static files in {settings.STATIC_ROOT} are out of date ({len(missing)} missing, "
            f"e.g. {missing[0]}): {COLLECT}."
        )


class Command(BaseCommand):
    help = "Run the web server on TANDEM_BIND (default 127.0.0.1:8000) with granian."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=None, help="HOST:PORT (default: TANDEM_BIND)")
        parser.add_argument(
            "--workers", type=int, default=None, help="Processes (default: TANDEM_WEB_WORKERS)"
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="Threads per process running requests (default: TANDEM_WEB_THREADS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from granian import Granian
        from granian.constants import Interfaces
        from granian.log import LogLevels

        check_static_files()
        host, port = split_bind(options["bind"] or settings.TANDEM_BIND)
        self.stdout.write(f"Serving on http://{options['bind'] or settings.TANDEM_BIND}/")
        Granian(
            "tandem.wsgi:application",
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=options["workers"] or settings.TANDEM_WEB_WORKERS,
            blocking_threads=options["threads"] or settings.TANDEM_WEB_THREADS,
            websockets=False,
            log_level=LogLevels.info if settings.DEBUG else LogLevels.warning,
            log_access=settings.DEBUG,
            respawn_failed_workers=True,
            workers_kill_timeout=20,
        ).serve()

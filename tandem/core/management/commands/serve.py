"""`tandem serve`: the production web server (gunicorn, static files by whitenoise)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server on TANDEM_BIND (default 127.0.0.1:8000) with gunicorn."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=None, help="HOST:PORT (default: TANDEM_BIND)")
        parser.add_argument(
            "--workers", type=int, default=None, help="Processes (default: TANDEM_WEB_WORKERS)"
        )
        parser.add_argument(
            "--threads", type=int, default=None, help="Threads per process (default: 1)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        from tandem.wsgi import application

        config = {
            "bind": options["bind"] or settings.TANDEM_BIND,
            "workers": options["workers"] or settings.TANDEM_WEB_WORKERS,
            "worker_class": "gthread",
            # One thread per process: Python threads share one core (the GIL), and
            # switching between them cost a web-form burst 25-35% of its posts per
            # second here (issue 4, point 17). Scale with TANDEM_WEB_WORKERS instead.
            "threads": options["threads"] or 1,
            "timeout": 60,
            "graceful_timeout": 20,
            # No keep-alive: a kept connection stays with the process that accepted
            # it, and with one thread per process a burst on 16 kept connections ran
            # on one process while the other idled (435 posts/s on PostgreSQL); closed
            # after each answer, the next is taken by whichever process is free
            # (655/s, both processes 50%). A proxy in front keeps its clients' connections.
            "keepalive": 0,
            "accesslog": "-" if settings.DEBUG else None,
            "errorlog": "-",
            "forwarded_allow_ips": "*"
            if getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
            else "127.0.0.1",
        }

        class TandemServer(BaseApplication):
            def load_config(self) -> None:
                for key, value in config.items():
                    if value is not None:
                        self.cfg.set(key, value)

            def load(self) -> Any:
                return application

        TandemServer().run()

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tandem.settings")
django_application = get_wsgi_application()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Django's WSGI handler, with a whole (not streaming) response handed over as one
    bytes string in a list, and closed here (request_finished: connections, caches).

    Handed the response object, granian iterates it from Rust and closes it after,
    taking the GIL for each step; a list is sent in one call. Sampled with py-spy
    under `python -m bench.capture_e2e --db sqlite`, the web processes' time holding
    the GIL to send and close a response went from 20% to 14% (docs/benchmarks.md).
    Streaming responses (CSV exports, static files) are passed through as they are,
    and closed by the server once sent.
    """
    response = django_application(environ, start_response)
    if not isinstance(response, HttpResponse):
        return response
    try:
        return [response.content]
    finally:
        response.close()


def _settle() -> None:
    """Load the URLs (and with them every view module) now rather than on the first
    request, then keep start-up's objects out of the collector's passes (core/collector.py)."""
    from tandem.core.collector import settle_startup

    settle_startup()


_settle()

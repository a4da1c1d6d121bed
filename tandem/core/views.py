"""Pages every deployment answers, whatever the app: the icon and the not-found page."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found

FAVICON = Path(__file__).resolve().parent / "static" / "tandem" / "favicon.svg"


@lru_cache(maxsize=1)
def _favicon() -> bytes:
    return FAVICON.read_bytes()


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico: browsers ask for it on every page that does not link one (the API docs,
    a JSON answer opened in a tab); an SVG, which browsers read whatever the name says."""
    response = HttpResponse(_favicon(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The app's own 404 page (404.html), also in debug mode (core/middleware.py)."""
    return page_not_found(request, exception or Http404())

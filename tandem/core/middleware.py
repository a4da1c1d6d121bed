"""Debug mode shows the app's own 404 page too.

With DEBUG on, Django answers a missing page with its technical page (the URL
patterns, the settings hint), which a new user of `make run` takes for a crash.
Tracebacks of real errors stay Django's: only "not found" is replaced.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve

from tandem.core.views import not_found


class NotFoundPageMiddleware:
    """Listed after CommonMiddleware, so a path missing its slash is still redirected."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if settings.DEBUG:
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as exc:
                return not_found(request, exc)
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        if settings.DEBUG and isinstance(exception, Http404):
            return not_found(request, exception)
        return None

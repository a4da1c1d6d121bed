"""A short way through the middleware for the public capture endpoints.

The hosted form and its posts from any site, the double opt-in link and the
one-click unsubscribe need no session, no login, no CSRF token (their views are
exempt) and no messages. A post to a web form is the hottest request Tandem
serves (issue 4, point 17), and the middleware it does not need cost about a
sixth of its Python time. Requests under PUBLIC_PREFIXES are therefore
answered by their view with only CommonMiddleware and XFrameOptionsMiddleware
around it; SecurityMiddleware, earlier in MIDDLEWARE, still runs for them, and
every other request goes down the whole list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.http import HttpRequest, HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.urls import ResolverMatch, URLResolver, get_resolver

PUBLIC_PREFIXES = ("/f/", "/consent/confirm/", "/u/")

Handler = Callable[[HttpRequest], HttpResponseBase]


# Form paths resolved already, per URL resolver (a new one when the URLconf changes): a
# form's posts come to one path, and resolving it again walked the URL patterns each time.
# Bounded: cleared when full (any slug is a form's path to the resolver). The links with
# a token in them (one path each) are resolved each time.
_RESOLVED_KEEP = 512
_resolved: dict[tuple[URLResolver, str], ResolverMatch] = {}


def _resolve(path: str) -> ResolverMatch:
    resolver = get_resolver()
    match = _resolved.get((resolver, path))
    if match is None:
        match = resolver.resolve(path)
        if path.startswith("/f/"):
            if len(_resolved) >= _RESOLVED_KEEP:
                _resolved.clear()
            _resolved[resolver, path] = match
    return match


def _call_view(request: HttpRequest) -> HttpResponseBase:
    """What the handler does after the middleware, for these plain function views.

    A path that matches no view raises Resolver404: the handler's exception
    wrapper around this middleware answers it with the usual 404 page.
    """
    match = _resolve(request.path_info)
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)


class PublicCaptureMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.public = XFrameOptionsMiddleware(CommonMiddleware(_call_view))

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(PUBLIC_PREFIXES):
            return cast(HttpResponseBase, self.public(request))  # synchronous: WSGI
        return self.get_response(request)

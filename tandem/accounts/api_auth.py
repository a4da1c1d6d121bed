"""Who is calling the API: a bearer token, or a signed-in browser session.

Each request gets an `Actor` as `request.auth`; endpoints pass it to services,
which check permissions (accounts/permissions.py). Read-only tokens are stopped
there too, by `Actor.can_write`.

Sessions are accepted so the docs page's "try it out" works for a signed-in
user; unsafe methods on a session then need Django's CSRF token, or any page
could make a visitor's browser write through the API.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from tandem.accounts.actor import Actor
from tandem.accounts.services import authenticate_token
from tandem.core.api_errors import SAFE_METHODS


class BearerToken(HttpBearer):
    """`Authorization: Bearer tdm_…`; a wrong or revoked token is a 401, not a fallback."""

    def __call__(self, request: HttpRequest) -> Actor | None:
        header = request.headers.get(self.header, "").strip()
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise AuthenticationError(message="Use the header Authorization: Bearer <token>.")
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Actor:
        found = authenticate_token(token)
        if found is None:
            raise AuthenticationError(
                message="This token is unknown or revoked, or its user is deactivated."
            )
        return Actor.for_token(found)


class SignedInSession(APIKeyCookie):
    """The browser's session cookie, with the CSRF token on writes."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        # csrf=True makes ninja's docs page send the CSRF token with "try it out".
        super().__init__(csrf=True)

    def __call__(self, request: HttpRequest) -> Actor | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise HttpError(
                403,
                "CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken "
                "header, or use a bearer token.",
            )
        return self.authenticate(request, None)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor:
        return Actor.for_user(request.user)  # type: ignore[arg-type]


api_auth = [BearerToken(), SignedInSession()]

"""What the admin pages share: who acts for a signed-in request, and the admin layout."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tandem.accounts.actor import Actor
from tandem.accounts.models import User


def request_actor(request: HttpRequest) -> Actor:
    """The signed-in user of a page that requires log-in."""
    return Actor.for_user(cast(User, request.user))


def render_admin(
    request: HttpRequest, template: str, context: dict[str, Any], *, section: str, status: int = 200
) -> HttpResponse:
    """An admin page, with the admin menu's `section` marked."""
    return render(request, template, {**context, "admin_section": section}, status=status)

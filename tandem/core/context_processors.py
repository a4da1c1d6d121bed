from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tandem.core.permissions import can


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "nav_is_admin": bool(user and user.is_authenticated and can(user, "accounts.manage_users"))
    }

"""The bell in every signed-in page's header (core's base template includes it by name).

No query here: the count comes from the bell's own fragment, fetched by HTMX when the
page loads and every minute after (views.bell), so a page costs the same queries with
the bell as without (the hot pages' query counts are pinned by tests).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

POLL = "every 60s"


def bell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    return {
        "notification_bell": {
            "template": "notifications/_bell.html",
            "url": reverse("notifications:list"),
            "count_url": reverse("notifications:bell"),
            "trigger": "load, " + POLL,
            "count": None,
        }
    }

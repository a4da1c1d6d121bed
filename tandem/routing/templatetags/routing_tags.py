"""Template tags of routing's cards shown on people's pages."""

from __future__ import annotations

from typing import Any

from django import template

from tandem.accounts.permissions import can

register = template.Library()


@register.simple_tag(takes_context=True)
def may_respond(context: dict[str, Any], person: Any) -> bool:
    """Whether the viewer may accept or send back `person`'s hand-off.

    People's person page loads sections without the viewer (ADR 0005), so the card
    asks the one permission rule here rather than deciding in the template.
    """
    request = context.get("request")
    return bool(request is not None and can(request.user, "routing.respond", person))

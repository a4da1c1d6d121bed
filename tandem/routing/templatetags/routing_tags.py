"""Template tags of routing's cards shown on people's pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from tandem.routing import handoffs

register = template.Library()


@register.simple_tag(takes_context=True)
def may_respond(context: dict[str, Any], person: Any) -> bool:
    """Whether the viewer may accept or send back `person`'s hand-off (a team's queue
    lead: its team's salespeople and managers too, handoffs.may_respond).

    People's person page loads sections without the viewer (ADR 0005), so the card
    asks the one permission rule here rather than deciding in the template.
    """
    request = context.get("request")
    return bool(request is not None and handoffs.may_respond(request.user, person))


@register.filter
def when(value: Any, with_time: bool = True) -> str:
    """A date on a lead's card, "Thu 13 Aug, 08:00", with its year when not this year:
    a hand-off due last August reads as overdue by a year, not by days."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    fmt = "D j M" if local.year == timezone.localdate().year else "D j M Y"
    return date_format(local, f"{fmt}, H:i" if with_time else fmt)

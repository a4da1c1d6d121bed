"""`{% open_deal_url subject as url %}`: the "Open a deal" link on a person's or a company's
Deals card, or "" when the viewer may not open deals ("deals.create") or the record is
deleted. The card's data is loaded without the viewer (people's PersonSection), so the
permission is asked here, not in the template."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from tandem.accounts.permissions import can
from tandem.people.models import Company, Person

register = template.Library()


@register.simple_tag(takes_context=True)
def open_deal_url(context: template.Context, subject: Any) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(subject, Person | Company) or subject.deleted_at is not None:
        return ""
    if not can(user, "deals.create"):
        return ""
    param = "person" if isinstance(subject, Person) else "company"
    return reverse("deals:create") + f"?{param}={subject.pk}"

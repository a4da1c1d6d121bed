"""The send-back report page for marketers (`routing.view_send_backs`, issue 20 point 8)."""

from __future__ import annotations

from typing import cast

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from tandem.accounts.models import User
from tandem.accounts.permissions import can, page_requires
from tandem.routing import reports


@page_requires("routing.view_send_backs")
def send_back_report(request: HttpRequest) -> HttpResponse:
    """GET ?from=&to=&group_by=: counts of people sent back by reason × campaign, source or
    segment, each linking to those people; on to the scoring rules (J3)."""
    group_by = request.GET.get("group_by") or "campaign"
    errors: dict[str, str] = {}
    report = None
    try:
        p = reports.period(request.GET.get("from"), request.GET.get("to"))
        report = reports.send_back_report(group_by=group_by, p=p)
    except ValidationError as err:
        errors = {k: " ".join(v) for k, v in err.message_dict.items()}
    context = {
        "report": report,
        "errors": errors,
        "group_by": group_by,
        "groups": list(reports.GROUP_LABELS.items()),
        "date_from": request.GET.get("from") or (report.period.first.isoformat() if report else ""),
        "date_to": request.GET.get("to") or (report.period.last.isoformat() if report else ""),
        "scoring_url": reverse("scoring:rules"),
        "api_url": reverse("api:send_back_report"),
        "reasons_url": reverse("handoffs:reasons")
        if can(cast(User, request.user), "routing.manage_reasons")
        else "",
    }
    return render(request, "routing/send_back_report.html", context, status=400 if errors else 200)

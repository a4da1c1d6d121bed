"""Speed-to-lead pages: the untouched leads (/leads/untouched/) and the SLA report
(/reports/sla/, its CSV at /reports/sla/export.csv).

The untouched list is for everyone signed in: managers and admins see every
lead and filter by owner and team, anyone else their own and their team's queue
(untouched.py). The report needs "sla.view_report"; both checked on the server.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from tandem.accounts.models import Team, User
from tandem.accounts.permissions import page_requires
from tandem.core.spreadsheet import csv_response
from tandem.routing import sla_report, untouched


def _int(request: HttpRequest, name: str, errors: dict[str, str]) -> int | None:
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) < 2**63:
        errors[name] = "Choose from the list."
        return None
    return int(raw)


@page_requires(None)
def untouched_leads(request: HttpRequest) -> HttpResponse:
    """Routed leads nobody has contacted yet, oldest due first; overdue ones marked."""
    user: Any = request.user
    errors: dict[str, str] = {}
    sees_all = untouched.sees_all(user)
    owner, team = _int(request, "owner", errors), _int(request, "team", errors)
    if not sees_all:
        owner = team = None  # the page has no filters for them: their own leads
    cursor = request.GET.get("cursor") or None
    try:
        page = untouched.untouched_page(user, owner=owner, team=team, limit=100, cursor=cursor)
    except ValidationError as exc:
        errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
        page = untouched.untouched_page(user, limit=100)
    return render(
        request,
        "routing/untouched.html",
        {
            "page": page,
            "rows": [untouched.as_item(h, page.now) for h in page.items],
            "sees_all": sees_all,
            "owners": list(User.objects.filter(is_active=True)) if sees_all else [],
            "teams": list(Team.objects.all()) if sees_all else [],
            "owner": owner,
            "team": team,
            "errors": errors,
        },
    )


def _date(request: HttpRequest, name: str, errors: dict[str, str]) -> dt.date | None:
    raw = (request.GET.get(name) or "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Write a date as YYYY-MM-DD."
        return None


def _report(request: HttpRequest) -> tuple[sla_report.Report, dict[str, str]]:
    errors: dict[str, str] = {}
    start, end = _date(request, "from", errors), _date(request, "to", errors)
    group_by = request.GET.get("group_by") or "source"
    if group_by not in sla_report.GROUPS:
        errors["group_by"] = "Group by source, owner or team."
        group_by = "source"
    try:
        report = sla_report.build(request.user, group_by=group_by, start=start, end=end)
    except ValidationError as exc:
        errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
        report = sla_report.build(request.user, group_by=group_by)
    return report, errors


@page_requires("sla.view_report")
def sla_report_page(request: HttpRequest) -> HttpResponse:
    """Met, breached and pending hand-offs, and time to first contact, by group."""
    report, errors = _report(request)
    return render(
        request,
        "routing/sla_report.html",
        {"report": report, "errors": errors, "groups": sla_report.GROUPS},
    )


@page_requires("sla.view_report")
def sla_report_csv(request: HttpRequest) -> HttpResponseBase:
    report, errors = _report(request)
    if errors:
        return HttpResponse("; ".join(f"{k}: {v}" for k, v in errors.items()), status=400)
    name = f"sla-report-{report.group_by}-{report.start}-{report.end}.csv"
    return csv_response(sla_report.csv_rows(report), filename=name, bom=True)

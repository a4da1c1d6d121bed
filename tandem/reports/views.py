"""The funnel page (/funnel/): conversion by cohort, velocity, and where people are today.

Everyone signed in may read it ("reports.view"); the filters refresh the results
with HTMX and work as a plain GET form without JavaScript.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from tandem.accounts.models import User
from tandem.accounts.permissions import page_requires
from tandem.campaigns.models import Campaign
from tandem.people.models import FUNNEL_ORDER, Company, CompanySize
from tandem.people.views.common import hx_target, owner_options
from tandem.reports import funnel

RESULTS_ID = "funnel-results"
MAX_OPTIONS = 500  # industries and countries offered in the segment filters


def _stage_links(report: funnel.Funnel) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Today's count per stage, each linking to the people list at that stage (and owner)."""
    list_url = reverse("people:list")
    owner = report.filters.owner
    top = max(report.total.today.values(), default=0) or 1
    steps: list[dict[str, Any]] = []
    exits: list[dict[str, Any]] = []
    for stage in report.today_stages:
        count = report.total.today[str(stage)]
        query = {"stage": stage.value} | ({"owner": str(owner)} if owner is not None else {})
        row = {
            "stage": stage,
            "count": f"{count:,}",
            # A plain string: a localised "42,5" would break the CSS width.
            "percent": f"{count * 100 / top:.1f}",
            "url": f"{list_url}?{urlencode(query)}",
        }
        (steps if stage in FUNNEL_ORDER else exits).append(row)  # advocate: the funnel's end
    return steps, exits


def _matrix(report: funnel.Funnel) -> list[dict[str, Any]]:
    return [
        {
            "month": row.month,
            "entered": f"{row.entered:,}",
            "cells": [
                {
                    "label": stage.label,
                    "count": f"{n:,}",
                    "percent": "–" if p is None else f"{p:.1f}%",
                }
                for stage, n, p in zip(report.stages, row.reached, row.percents, strict=True)
            ],
        }
        for row in [*report.cohorts, report.total]
    ]


def _days(days: float | None) -> str:
    return "–" if days is None else f"{days:.1f}"


def _steps(report: funnel.Funnel) -> list[dict[str, str]]:
    return [
        {
            "from_label": step.from_stage.label,
            "to_label": step.to_stage.label,
            "reached_from": f"{step.reached_from:,}",
            "reached_to": f"{step.reached_to:,}",
            "percent": "–" if step.percent is None else f"{step.percent:.1f}%",
        }
        for step in report.steps
    ]


def _velocity(report: funnel.Funnel) -> list[dict[str, str]]:
    return [
        {
            "stage": v.stage.label,
            "next_stage": v.next_stage.label,
            "people": f"{v.people:,}",
            "median": _days(v.median_days),
            "p90": _days(v.p90_days),
        }
        for v in report.velocity
    ]


def _options(user: User) -> dict[str, Any]:
    industries = (
        Company.objects.live()
        .exclude(industry="")
        .order_by("industry")
        .values_list("industry", flat=True)
        .distinct()[:MAX_OPTIONS]
    )
    countries = (
        Company.objects.live()
        .exclude(country="")
        .order_by("country")
        .values_list("country", flat=True)
        .distinct()[:MAX_OPTIONS]
    )
    return {
        "owners": owner_options(user),
        "campaigns": list(Campaign.objects.order_by("name", "id").values_list("pk", "name")),
        "industries": list(industries),
        "sizes": CompanySize.choices,
        "countries": list(countries),
    }


@page_requires("reports.view")
def funnel_page(request: HttpRequest) -> HttpResponse:
    """How each month's new people moved through the funnel, and how long each stage took."""
    errors: dict[str, str] = {}
    params = {name: request.GET.get(name, "") for name in funnel.FILTER_FIELDS}
    filters = None
    while filters is None:  # a bad field is named and left out; the others still apply
        try:
            filters = funnel.parse_filters(params)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors[name] = " ".join(messages)
                params[name] = ""
            if not set(exc.message_dict) & set(params):
                filters = funnel.parse_filters({})
    report = funnel.build(filters)
    steps, exits = _stage_links(report)
    context: dict[str, Any] = {
        "report": report,
        "today_steps": steps,
        "today_exits": exits,
        "matrix": _matrix(report),
        "steps": _steps(report),
        "velocity": _velocity(report),
        "entered": f"{report.total.entered:,}",
        "errors": errors,
        "params": {name: request.GET.get(name, "") for name in funnel.FILTER_FIELDS},
        "results_id": RESULTS_ID,
        "api_url": reverse("api:reports_funnel") + "?" + urlencode(filters.as_params()),
        "list_url": reverse("people:list"),
        "time_zone": timezone.get_current_timezone_name(),
    }
    if hx_target(request) == RESULTS_ID:
        # 200 even with errors: HTMX swaps in only successful answers, and the fragment
        # names the filters it left out.
        return render(request, "reports/_funnel_results.html", context)
    status = 400 if errors else 200
    context |= _options(request.user)  # type: ignore[arg-type]
    return render(request, "reports/funnel.html", context, status=status)

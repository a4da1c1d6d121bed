"""The attribution page (/attribution/) and its CSV (/attribution/export.csv).

One model's table (revenue, pipeline, deals, cost, ROI per key) or the models side
by side (one revenue column per model) for a period; reports.view, checked on the
server. The same parameters as the API: model, from, to, group_by, half_life, and
`view=compare` for the side-by-side table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from tandem.accounts.permissions import page_requires
from tandem.attribution.engine import GROUPS, MODELS, Report, attribute, default_period
from tandem.core.spreadsheet import csv_response, safe_cell


@dataclass
class Asked:
    model: str = "linear"
    group_by: str = "campaign"
    start: dt.date | None = None
    end: dt.date | None = None
    half_life: float = 7.0
    compare: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    def query(self) -> str:
        parts = [
            f"model={self.model}",
            f"group_by={self.group_by}",
            f"from={self.start}",
            f"to={self.end}",
            f"half_life={self.half_life:g}",
        ]
        return "&".join(parts + (["view=compare"] if self.compare else []))


def _asked(request: HttpRequest) -> Asked:
    asked, errors = Asked(), {}
    model = request.GET.get("model") or "linear"
    if model in MODELS:
        asked.model = model
    else:
        errors["model"] = "Choose a model from the list."
    group_by = request.GET.get("group_by") or "campaign"
    if group_by in GROUPS:
        asked.group_by = group_by
    else:
        errors["group_by"] = "Group by campaign, channel, source or kind."
    dates: dict[str, dt.date | None] = {}
    for name in ("from", "to"):
        raw = (request.GET.get(name) or "").strip()
        dates[name] = None
        if raw:
            try:
                dates[name] = dt.date.fromisoformat(raw)
            except ValueError:
                errors[name] = "Write a date as YYYY-MM-DD."
    asked.start, asked.end = default_period(dates["from"], dates["to"])
    if asked.end < asked.start:
        errors["to"] = "The last day is before the first."
        asked.start, asked.end = default_period(None, asked.end)
    raw = (request.GET.get("half_life") or "").strip()
    if raw:
        try:
            asked.half_life = float(raw)
            if not 0 < asked.half_life <= 3650:
                raise ValueError
        except ValueError:
            errors["half_life"] = "A half-life in days, above 0 and at most 3650."
            asked.half_life = 7.0
    asked.compare = request.GET.get("view") == "compare"
    asked.errors = errors
    return asked


def _report(asked: Asked, model: str) -> Report:
    assert asked.start is not None and asked.end is not None
    try:
        return attribute(
            model=model,
            start=asked.start,
            end=asked.end,
            group_by=asked.group_by,
            half_life_days=asked.half_life,
        )
    except ValidationError as exc:  # checked above; kept so a bad value is never a 500
        asked.errors.update({k: " ".join(v) for k, v in exc.message_dict.items()})
        return attribute(model="linear", start=asked.start, end=asked.end)


@dataclass
class Compared:
    """The models side by side: one row per key, one revenue per model."""

    models: list[str]
    labels: list[str]
    rows: list[dict[str, Any]]
    totals: list[Decimal]


def compare(asked: Asked) -> Compared:
    reports = {model: _report(asked, model) for model in MODELS}
    rows: dict[str, dict[str, Any]] = {}
    for model, report in reports.items():
        for item in report.items:
            row = rows.setdefault(item.key, {"key": item.key, "label": item.label, "by": {}})
            row["by"][model] = item.revenue
    zero = Decimal("0.00")
    ordered = sorted(
        rows.values(),
        key=lambda r: (r["key"] == "unattributed", -max(r["by"].values(), default=zero)),
    )
    for row in ordered:
        row["values"] = [row["by"].get(m, zero) for m in MODELS]
    return Compared(
        models=list(MODELS),
        labels=list(MODELS.values()),
        rows=ordered,
        totals=[reports[m].total_revenue for m in MODELS],
    )


@page_requires("reports.view")
def report_page(request: HttpRequest) -> HttpResponse:
    """Revenue and pipeline credited by the chosen model, or all models side by side."""
    asked = _asked(request)
    context: dict[str, Any] = {
        "asked": asked,
        "errors": asked.errors,
        "models": MODELS,
        "groups": GROUPS,
        "group_label": GROUPS[asked.group_by],
        "model_label": MODELS[asked.model],
    }
    if asked.compare:
        context["compared"] = compare(asked)
    else:
        context["report"] = _report(asked, asked.model)
    return render(request, "attribution/report.html", context)


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _csv_rows(asked: Asked) -> Iterator[list[str]]:
    if asked.compare:
        compared = compare(asked)
        yield ["key", GROUPS[asked.group_by].lower(), *compared.models]
        for row in compared.rows:
            yield [safe_cell(row["key"]), safe_cell(row["label"]), *map(_money, row["values"])]
        yield ["", "Total", *map(_money, compared.totals)]
        return
    report = _report(asked, asked.model)
    yield [
        "key",
        GROUPS[asked.group_by].lower(),
        "revenue",
        "pipeline",
        "deals_won",
        "deals_open",
        "cost",
        "roi",
    ]
    for item in report.items:
        yield [
            safe_cell(item.key),  # channels and sources are text a visitor's link may set
            safe_cell(item.label),
            _money(item.revenue),
            _money(item.pipeline),
            f"{item.deals_won:g}",
            f"{item.deals_open:g}",
            _money(item.cost),
            "" if item.roi is None else f"{item.roi:g}",
        ]
    yield [
        "",
        "Total",
        _money(report.total_revenue),
        _money(report.total_pipeline),
        str(report.deals_won),
        str(report.deals_open),
        _money(report.total_cost),
        "",
    ]


@page_requires("reports.view")
def report_csv(request: HttpRequest) -> HttpResponseBase:
    asked = _asked(request)
    if asked.errors:
        return HttpResponse(
            "; ".join(f"{k}: {v}" for k, v in asked.errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    what = "models" if asked.compare else asked.model
    name = f"attribution-{what}-{asked.group_by}-{asked.start}-{asked.end}.csv"
    return csv_response(_csv_rows(asked), filename=name, bom=True)

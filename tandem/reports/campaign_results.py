"""A campaign's results on its page: MQLs, send-backs, pipeline, revenue, cost and ROI.

Campaigns sits below routing, deals and attribution, so this section lives here and
fills campaigns' `CampaignSection` slot (campaigns/extensions.py, ADR 0005). For the
period asked for (by default from the campaign's start, or its creation, to today):

- MQLs: people with a touchpoint of the campaign at or before they reached `mql`
  in the period (the stage history), each once;
- send-backs: routing's send-back report grouped by campaign (a hand-off is credited
  to the latest campaign before its routing), this campaign's row, with the links to
  the people it counts;
- pipeline: deals open today whose contacts touched the campaign before the deal was
  created (influenced pipeline, `amount_base`, base currency);
- revenue: what the attribution model picked credits the campaign for deals won in
  the period (attribution.engine), with the pipeline it credits;
- cost: the campaign's cost lines spent in the period; ROI = (revenue − cost) / cost.

Each figure is one set-based query (attribution one report).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Sum
from django.http import HttpRequest
from django.utils import timezone

from tandem.accounts.permissions import can
from tandem.attribution import engine as attribution
from tandem.campaigns.extensions import CampaignSection, register_campaign_section
from tandem.campaigns.models import Campaign, Touchpoint
from tandem.campaigns.queries import ZERO, cost_totals
from tandem.deals.models import Deal, DealContact, DealStatus
from tandem.people.models import Stage, StageChange
from tandem.routing.reports import Period, period, send_back_report

DEFAULT_MODEL = "linear"
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)  # no day arithmetic overflows


def attribution_models() -> dict[str, str]:
    """The attribution models offered (key → label)."""
    return dict(attribution.MODELS)


def results_period(campaign: Campaign, date_from: Any = None, date_to: Any = None) -> Period:
    """The period asked for; by default from the campaign's start (or creation) to today."""
    today = timezone.localdate()
    if date_from in (None, ""):
        date_from = campaign.starts_on or timezone.localtime(campaign.created_at).date()
        if date_from > today:
            date_from = today
    p = period(date_from, date_to or today)
    for name, day in (("from", p.first), ("to", p.last)):
        if not EARLIEST <= day <= LATEST:
            raise ValidationError({name: f"Give a date from {EARLIEST} to {LATEST}."})
    return p


def mql_count(campaign: Campaign, p: Period) -> int:
    """People who reached mql in the period, having touched the campaign at or before."""
    touched = Touchpoint.objects.filter(
        person_id=OuterRef("person_id"),
        campaign=campaign,
        occurred_at__lte=OuterRef("changed_at"),
    )
    return (
        StageChange.objects.filter(
            to_stage=Stage.MQL,
            changed_at__gte=p.start,
            changed_at__lt=p.end,
            person__deleted_at__isnull=True,
        )
        .filter(Exists(touched))
        .values("person_id")
        .distinct()
        .count()
    )


def send_backs(campaign: Campaign, p: Period) -> dict[str, Any]:
    """This campaign's row of the send-back report: total and counts by reason, with links."""
    report = send_back_report(group_by="campaign", p=p)
    row = next((r for r in report.rows if r.key == str(campaign.pk)), None)
    if row is None:
        return {"total": 0, "reasons": []}
    reasons = [
        {"key": key, "label": label, "count": cell.count, "url": cell.url}
        for (key, label), cell in zip(report.reasons, row.cells, strict=True)
        if cell is not None
    ]
    return {"total": row.total, "reasons": reasons}


def influenced_pipeline(campaign: Campaign) -> dict[str, Any]:
    """Open deals with a contact who touched the campaign before the deal was created."""
    touched = Touchpoint.objects.filter(
        person_id=OuterRef("person_id"),
        campaign=campaign,
        occurred_at__lte=OuterRef(OuterRef("created_at")),
    )
    contacts = DealContact.objects.filter(deal_id=OuterRef("pk")).filter(Exists(touched))
    totals = (
        Deal.objects.filter(status=DealStatus.OPEN)
        .filter(Exists(contacts))
        .aggregate(n=Count("id"), amount=Sum("amount_base"))
    )
    return {"deals": totals["n"] or 0, "amount": (totals["amount"] or ZERO).quantize(ZERO)}


def attributed(campaign: Campaign, p: Period, model: str) -> dict[str, Any]:
    """What the attribution model credits the campaign in the period, or why not."""
    try:
        report = attribution.attribute(model=model, start=p.first, end=p.last, group_by="campaign")
    except ValidationError as exc:
        return {"available": True, "error": " ".join(exc.messages)}
    item = next((i for i in report.items if str(i.key) == str(campaign.pk)), None)
    if item is None:
        return {"available": True, "revenue": ZERO, "pipeline": ZERO, "deals_won": 0}
    return {
        "available": True,
        "revenue": Decimal(item.revenue).quantize(ZERO),
        "pipeline": Decimal(item.pipeline).quantize(ZERO),
        "deals_won": item.deals_won,
    }


def roi(revenue: Decimal | None, cost: Decimal) -> Decimal | None:
    """(revenue − cost) / cost, to 4 places (shown as a percentage); None without a cost."""
    if revenue is None or cost <= 0:
        return None
    return ((revenue - cost) / cost).quantize(Decimal("0.0001"))


def campaign_results(
    campaign: Campaign,
    *,
    date_from: Any = None,
    date_to: Any = None,
    model: str = DEFAULT_MODEL,
) -> dict[str, Any]:
    """Every figure of the section, for a campaign and a period (errors name the field)."""
    p = results_period(campaign, date_from, date_to)
    models = attribution_models()
    if model not in models:
        raise ValidationError({"model": f"Use one of: {', '.join(models)}."})
    cost = cost_totals([campaign.pk], first=p.first, last=p.last).get(campaign.pk, ZERO)
    revenue = attributed(campaign, p, model)
    value = revenue.get("revenue") if revenue.get("available") else None
    result_roi = roi(value, cost)
    return {
        "period": p,
        "model": model,
        "models": models,
        "mqls": mql_count(campaign, p),
        "send_backs": send_backs(campaign, p),
        "pipeline": influenced_pipeline(campaign),
        "revenue": revenue,
        "cost": cost,
        "roi": result_roi,
        "roi_percent": None if result_roi is None else (result_roi * 100).quantize(Decimal("0.1")),
        "currency": settings.TANDEM_BASE_CURRENCY,
    }


def section_context(campaign: Campaign, request: HttpRequest) -> dict[str, Any]:
    """The section's data from the page's query (`from`, `to`, `model`); a bad value is
    shown next to its field and the default used instead."""
    if not can(request.user, "reports.view"):  # type: ignore[arg-type]
        return {"hidden": True}
    asked = {
        "date_from": request.GET.get("from", "").strip(),
        "date_to": request.GET.get("to", "").strip(),
        "model": request.GET.get("model", "").strip() or DEFAULT_MODEL,
    }
    errors: dict[str, str] = {}
    try:
        data = campaign_results(campaign, **asked)
    except ValidationError as exc:
        errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
        data = campaign_results(campaign)
    return data | {"errors": errors, "asked": asked}


def register() -> None:
    """Adds the campaign page's results section (campaigns' extension point)."""
    register_campaign_section(
        CampaignSection(
            key="results",
            title="Results",
            template="reports/campaign_results.html",
            context=section_context,
            order=10,
        )
    )

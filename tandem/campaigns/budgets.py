"""A campaign's actual cost lines: add, change, delete (base currency, Decimal, ≥ 0).

Each write is audited on the campaign, so its history shows who spent what and
when a line changed; the totals are read in campaigns/queries.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from tandem.accounts.actor import Actor
from tandem.accounts.permissions import require
from tandem.campaigns.models import Campaign, CampaignCost
from tandem.campaigns.money import clean_amount
from tandem.core.audit import record_audit

COST_FIELDS = ("spent_on", "amount", "note")
NOTE_MAX = 300


def _clean(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = set(data) - set(COST_FIELDS)
    if unknown:
        raise ValidationError({name: "Not a field of a cost line." for name in sorted(unknown)})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if "spent_on" in data or not partial:
        spent_on = data.get("spent_on")
        if isinstance(spent_on, str):
            try:
                spent_on = dt.date.fromisoformat(spent_on.strip())
            except ValueError:
                spent_on = None
        if isinstance(spent_on, dt.datetime) or not isinstance(spent_on, dt.date):
            errors["spent_on"] = "Give the day it was spent as YYYY-MM-DD."
        else:
            out["spent_on"] = spent_on
    if "amount" in data or not partial:
        try:
            out["amount"] = clean_amount(data.get("amount"), "amount")
        except ValidationError as exc:
            errors["amount"] = " ".join(exc.message_dict["amount"])
    if "note" in data:
        note = str(data.get("note") or "").strip()
        if len(note) > NOTE_MAX:
            errors["note"] = f"Keep the note to {NOTE_MAX} characters."
        out["note"] = note
    if errors:
        raise ValidationError(errors)
    return out


def _line(cost: CampaignCost) -> dict[str, Any]:
    return {"spent_on": cost.spent_on.isoformat(), "amount": str(cost.amount), "note": cost.note}


def add_campaign_cost(*, actor: Actor, campaign: Campaign, data: dict[str, Any]) -> CampaignCost:
    """Add a cost line: `spent_on` (date), `amount` (≥ 0, two decimals), `note`."""
    require(actor, "campaigns.manage")
    clean = _clean(data, partial=False)
    with transaction.atomic():
        cost = CampaignCost.objects.create(campaign=campaign, created_by=actor.user, **clean)
        record_audit(
            actor=actor,
            event="cost_added",
            target=campaign,
            changes={f"cost #{cost.pk}": [None, _line(cost)]},
        )
    return cost


def update_campaign_cost(*, actor: Actor, cost: CampaignCost, data: dict[str, Any]) -> CampaignCost:
    """Change the fields given of a cost line, all or nothing."""
    require(actor, "campaigns.manage")
    clean = _clean(data, partial=True)
    with transaction.atomic():
        cost = CampaignCost.objects.select_for_update().select_related("campaign").get(pk=cost.pk)
        before = _line(cost)
        for name, value in clean.items():
            setattr(cost, name, value)
        after = _line(cost)
        if after != before:
            cost.save(update_fields=list(clean))
            record_audit(
                actor=actor,
                event="cost_changed",
                target=cost.campaign,
                changes={f"cost #{cost.pk}": [before, after]},
            )
    return cost


def delete_campaign_cost(*, actor: Actor, cost: CampaignCost) -> None:
    require(actor, "campaigns.manage")
    with transaction.atomic():
        cost = CampaignCost.objects.select_for_update().select_related("campaign").get(pk=cost.pk)
        line, campaign, pk = _line(cost), cost.campaign, cost.pk
        cost.delete()
        record_audit(
            actor=actor,
            event="cost_deleted",
            target=campaign,
            changes={f"cost #{pk}": [line, None]},
        )

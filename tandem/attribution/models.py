"""Stored credit: each deal's share of every rule model, kept fresh by refresh-on-read.

A deal's path is fixed once the deal exists (its contacts' touches up to its creation,
or its close for full_path), so what each rule model gives each key of that path can
be worked out once and read by every report (ADR 0013). `DealCredit` holds it, one row
per deal and grouping; `CreditMark` is how far the sync has read the tables that can
change a stored path without touching the deal row (store.py).
"""

from __future__ import annotations

from django.db import models

from tandem.deals.models import Deal


class DealCredit(models.Model):
    """One deal's credit under every rule model for one grouping, and its Markov path.

    Rule columns hold JSON `[[key, cents, share], ...]` (keys in order of their first
    touch; cents split from the deal's amount by largest remainder; share the key's
    fraction of the deal); a deal without a touch has `[["unattributed", cents, 1.0]]`.
    `markov` holds the path's keys up to the deal's creation, repeats in a row merged.
    Lost deals keep `markov` only (the rule models credit won and open deals).
    """

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="+", db_index=False)
    group_by = models.CharField(max_length=10)
    # The deal's updated_at the row was worked out from: any change of the deal (close,
    # reopen, amount, contacts) bumps it, and the row is stale.
    deal_updated_at = models.DateTimeField()
    computed_at = models.DateTimeField()
    first_touch = models.TextField(blank=True)
    last_touch = models.TextField(blank=True)
    linear = models.TextField(blank=True)
    u_shaped = models.TextField(blank=True)
    w_shaped = models.TextField(blank=True)
    full_path = models.TextField(blank=True)
    time_decay = models.TextField(blank=True)
    markov = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deal", "group_by"], name="deal_credit_unique")
        ]


class CreditMark(models.Model):
    """The one row saying how far the sync has looked (ids seen, time of the last look)."""

    touchpoint_id = models.BigIntegerField(default=0)
    stage_change_id = models.BigIntegerField(default=0)
    synced_at = models.DateTimeField(null=True, blank=True)
    # Undone imports seen ("count:last undone_at"): an undo deletes touchpoints and people.
    imports_undone = models.CharField(max_length=60, blank=True)

"""What the reports keep between requests: the funnel's per-person facts (ADR 0014).

A person's stage history (people's StageChange, ~3 rows a person) is folded into one
row here: the furthest funnel step it reached and, per step, the whole hours from
first entering it to first reaching any later one. The funnel report then reads one
narrow row per person instead of grouping their history on every request.

The rows are derived data, kept by `funnel_facts.refresh()` (before each report, and in
the worker after big writes) and rebuilt by `tandem funnel_facts --rebuild`; nothing
else writes them, and losing them loses nothing.
"""

from __future__ import annotations

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from tandem.people.models import Person


class PersonKey(models.OneToOneField):
    """A person as this table's primary key; on SQLite the rowid itself (INTEGER PRIMARY
    KEY), so the funnel's join finds a row in one b-tree search instead of two (bigint
    makes SQLite keep a separate key index)."""

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)


class FunnelFact(models.Model):
    """One person's stage history, folded (funnel_facts.py says how)."""

    # No database constraint: the person may go by a raw bulk delete; a row without its
    # person is never read (the report starts from the people) and the next rebuild drops it.
    person = PersonKey(
        Person, primary_key=True, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    reached = models.PositiveSmallIntegerField(
        help_text="The furthest funnel step the history reached, 1 (subscriber) .. 6 (customer); 0 none."
    )
    hours_subscriber = models.IntegerField(null=True)
    hours_lead = models.IntegerField(null=True)
    hours_mql = models.IntegerField(null=True)
    hours_sal = models.IntegerField(null=True)
    hours_opportunity = models.IntegerField(null=True)


class FunnelFactState(models.Model):
    """How far the facts are: one row (pk 1)."""

    last_change_id = models.BigIntegerField(
        default=0, help_text="Every stage change up to this id is folded into the facts."
    )
    merges_seen_at = models.DateTimeField(
        null=True, help_text="Merges made or undone since (minus a margin) are folded again."
    )
    rebuilt_at = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)

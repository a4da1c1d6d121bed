"""What the reports keep between requests: the funnel's per-person facts (ADR 0014).

A person's stage history (people's StageChange, ~3 rows a person) is folded into one
row here: the furthest funnel step it reached and, per step, the whole hours from
first entering it to first reaching any later one. The funnel report then reads one
narrow row per person instead of grouping their history on every request.

Without a filter the funnel reads monthly rollups of those rows instead (FunnelCell,
FunnelHours), kept with them by deltas; triggers on people_person queue the people
whose stage, created_at or deletion changed (FunnelPersonChange).

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

    # No database constraint and no cascade: the row is the snapshot of what the person
    # adds to the rollups below, so it must outlive a deleted person until the refresh
    # (or the erasure step) takes that contribution out and drops the row.
    person = PersonKey(
        Person, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    reached = models.PositiveSmallIntegerField(
        help_text="The furthest funnel step the history reached, 1 (subscriber) .. 6 (customer); 0 none."
    )
    hours_subscriber = models.IntegerField(null=True)
    hours_lead = models.IntegerField(null=True)
    hours_mql = models.IntegerField(null=True)
    hours_sal = models.IntegerField(null=True)
    hours_opportunity = models.IntegerField(null=True)
    # What this row adds to FunnelCell / FunnelHours (when `live`), as last folded.
    cohort_month = models.IntegerField(
        default=0, help_text="yyyymm of created_at in FunnelFactState.zone."
    )
    stage_now = models.CharField(max_length=20, default="")
    live = models.BooleanField(default=False, help_text="Not deleted: counted in the rollups.")


class FunnelCell(models.Model):
    """The unfiltered funnel's people, summed: how many live people of a cohort month are
    at `stage_now` today having reached step `r` (max of their history and today)."""

    cohort_month = models.IntegerField()
    stage_now = models.CharField(max_length=20)
    r = models.PositiveSmallIntegerField()
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cohort_month", "stage_now", "r"], name="funnel_cell_key"
            )
        ]


class FunnelHours(models.Model):
    """The unfiltered funnel's velocity histogram: live people of a cohort month who spent
    `h` whole hours in step `k` (1 subscriber .. 5 opportunity) before moving on."""

    cohort_month = models.IntegerField()
    k = models.PositiveSmallIntegerField()
    h = models.IntegerField()
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cohort_month", "k", "h"], name="funnel_hours_key")
        ]


class FunnelPersonChange(models.Model):
    """Insert-only queue filled by database triggers on people_person (migration 0002):
    the id of a person whose stage, created_at or deleted_at changed, or who was deleted,
    by any writer. Read by id with a settled watermark (FunnelFactState.last_queue_id)."""

    person_id = models.BigIntegerField()


class FunnelDirty(models.Model):
    """Scratch: the people one refresh folds again (filled and emptied in its transaction)."""

    person_id = models.BigIntegerField(primary_key=True)


class FunnelFactState(models.Model):
    """How far the facts are: one row (pk 1)."""

    last_change_id = models.BigIntegerField(
        default=0, help_text="Every stage change up to this id is folded into the facts."
    )
    merges_seen_at = models.DateTimeField(
        null=True, help_text="Merges made or undone since (minus a margin) are folded again."
    )
    last_person_id = models.BigIntegerField(
        default=0,
        help_text="Every person up to this id has a fact row (people without history too).",
    )
    last_queue_id = models.BigIntegerField(
        default=0, help_text="Every FunnelPersonChange up to this id is folded."
    )
    zone = models.CharField(
        max_length=64,
        default="",
        help_text="The time zone of the cohort months (settings.TIME_ZONE).",
    )
    rebuilt_at = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)

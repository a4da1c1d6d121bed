"""Business hours (per team, in its time zone, skipping its country's public holidays and the
company's own closing days) and the SLA policies that say how soon a lead of a given source
or touchpoint kind is contacted."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Coalesce

from tandem.campaigns.models import TouchpointKind

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, 09:00 to 17:00."""
    return {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}


class BusinessCalendar(models.Model):
    """A team's working week; the one with no team is the company's default.

    `hours` maps a weekday ("mon" … "sun") to its open intervals, local "HH:MM" pairs in
    order ("24:00" closes at midnight); a day left out is closed. `closing_days` are the
    company's own days off on top of the public holidays: [{"date": "YYYY-MM-DD",
    "name": "…"}].
    """

    team = models.OneToOneField(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="business_calendar",
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    country = models.CharField(
        max_length=2, blank=True, help_text="Public holidays of this country."
    )
    subdivision = models.CharField(max_length=40, blank=True)
    hours = models.JSONField(default=default_hours)
    closing_days = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One calendar per team and one company default (the row with no team): NULLs
            # are distinct in a plain unique index, so the index is on COALESCE(team, 0).
            models.UniqueConstraint(
                Coalesce("team", models.Value(0)), name="sla_one_calendar_per_team"
            ),
        ]

    def __str__(self) -> str:
        return f"Business hours of {self.team or 'the company'}"


class SlaUnit(models.TextChoices):
    """How a policy's time is counted and shown. Minutes and hours are business minutes;
    days are business days: due at the same local clock time that many open days later."""

    MINUTES = "minutes", "business minutes"
    HOURS = "hours", "business hours"
    DAYS = "days", "business days"


# Minutes in one unit, as `SlaPolicy.minutes` stores it (a day is a calendar day's 1,440).
UNIT_MINUTES = {SlaUnit.MINUTES: 1, SlaUnit.HOURS: 60, SlaUnit.DAYS: 1440}


class SlaPolicy(models.Model):
    """How soon a lead must be contacted. The first active policy (by position) whose
    source and touchpoint kind match a lead applies; blank matches any.

    `minutes` is the amount in minutes of its unit (5 business days are stored as
    5 × 1,440, and counted as days, not as 7,200 business minutes): `amount` gives the
    number the user typed back.
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=100, blank=True)
    touchpoint_kind = models.CharField(max_length=20, blank=True, choices=TouchpointKind.choices)
    minutes = models.PositiveIntegerField(help_text="Time to the first contact, in minutes.")
    unit = models.CharField(max_length=10, choices=SlaUnit.choices, default=SlaUnit.MINUTES)
    remind_at_share = models.FloatField(
        default=0.5, help_text="Remind the owner when this share of the time has passed."
    )
    reassign_on_breach = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def amount(self) -> int:
        return self.minutes // UNIT_MINUTES[SlaUnit(self.unit)]

    @property
    def time_display(self) -> str:
        """ "15 business minutes", "1 business hour", "5 business days"."""
        unit = SlaUnit(self.unit).label
        if self.amount == 1:
            unit = unit.removesuffix("s")
        return f"{self.amount} {unit}"

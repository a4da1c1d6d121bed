"""Business hours (per team, in its time zone, skipping its country's public holidays) and
the SLA policies that say how soon a lead of a given source or touchpoint kind is contacted."""

from __future__ import annotations

from django.db import models


def default_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, 09:00 to 17:00."""
    return {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


class BusinessCalendar(models.Model):
    """A team's working week; the one with no team is the company's default."""

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
    subdivision = models.CharField(max_length=10, blank=True)
    hours = models.JSONField(default=default_hours)

    def __str__(self) -> str:
        return f"Business hours of {self.team or 'the company'}"


class SlaPolicy(models.Model):
    """How soon a lead must be contacted, in business minutes. The first policy (by
    position) whose source and touchpoint kind match a lead applies; blank matches any."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=100, blank=True)
    touchpoint_kind = models.CharField(max_length=20, blank=True)
    minutes = models.PositiveIntegerField(help_text="Business minutes to the first contact.")
    remind_at_share = models.FloatField(
        default=0.5, help_text="Remind the owner when this share of the time has passed."
    )
    reassign_on_breach = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

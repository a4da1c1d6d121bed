"""Campaigns and touchpoints: where each person came from and what they did."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class CampaignKind(models.TextChoices):
    CONTENT = "content", "Content / gated asset"
    WEBINAR = "webinar", "Webinar"
    EVENT = "event", "Event / workshop"
    TRADE_SHOW = "trade_show", "Trade show"
    EMAIL = "email", "Email"
    PAID = "paid", "Paid ads"
    SOCIAL = "social", "Social"
    REFERRAL = "referral", "Referral"
    STORE = "store", "Store / counter"
    OTHER = "other", "Other"


class Campaign(models.Model):
    """A campaign; `key` is what `utm_campaign` values map to."""

    name = models.CharField(max_length=200)
    key = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=20, choices=CampaignKind.choices, default=CampaignKind.OTHER)
    description = models.TextField(blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Budgets (issue 21): a campaign may sit under a parent (a programme); its planned
    # budget and its cost lines (CampaignCost) are in the base currency.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    planned_budget = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        # The list's keyset orders (campaigns/filters.py CAMPAIGN_SORTS).
        indexes = [
            models.Index(fields=["created_at", "id"], name="campaign_created_idx"),
            models.Index(fields=["name", "id"], name="campaign_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignCost(models.Model):
    """An actual cost of a campaign: what was spent, when, and on what (base currency)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="costs")
    spent_on = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-spent_on", "-id"]
        indexes = [models.Index(fields=["campaign", "spent_on"], name="campaign_cost_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="campaign_cost_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.spent_on}"


class CampaignUtm(models.Model):
    """A further UTM tag set that maps a touchpoint to this campaign, beside its `key`.

    Each tag is kept as capture compares it (`utm_campaign` as a lower-case slug,
    source and medium lower-case); a blank tag matches any value. The most specific
    mapping wins (campaigns/utm.py): one with `utm_campaign` over the campaign keys,
    and those over source/medium-only mappings.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="utm_mappings")
    utm_campaign = models.CharField(max_length=100, blank=True)
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["utm_campaign", "utm_source", "utm_medium", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["utm_campaign", "utm_source", "utm_medium"], name="campaign_utm_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(utm_campaign="", utm_source="", utm_medium=""),
                name="campaign_utm_not_empty",
            ),
        ]

    def __str__(self) -> str:
        tags = (
            ("campaign", self.utm_campaign),
            ("source", self.utm_source),
            ("medium", self.utm_medium),
        )
        return " ".join(f"utm_{k}={v}" for k, v in tags if v)


class TouchpointKind(models.TextChoices):
    FORM_FILL = "form_fill", "Form fill"
    PAGE_VISIT = "page_visit", "Page visit"
    EMAIL_CLICK = "email_click", "Email click"
    EMAIL_OPEN = "email_open", "Email open"
    EVENT_VISIT = "event_visit", "Event visit"
    BOOTH_SCAN = "booth_scan", "Booth scan"
    STORE_VISIT = "store_visit", "Store visit"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    IMPORT = "import", "Import"
    SALES_SOURCED = "sales_sourced", "Sales-sourced"
    REFERRAL = "referral", "Referral"
    API = "api", "API"


class Touchpoint(models.Model):
    """One interaction of a person, with its campaign, UTM tags and the way it came in."""

    # Not indexed alone: touchpoint_person_idx and touchpoint_campaign_idx lead with these.
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="touchpoints", db_index=False
    )
    kind = models.CharField(max_length=20, choices=TouchpointKind.choices)
    occurred_at = models.DateTimeField()
    channel = models.CharField(max_length=50, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="touchpoints",
        db_index=False,
    )
    utm_source = models.CharField(max_length=200, blank=True)
    utm_medium = models.CharField(max_length=200, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    referrer = models.URLField(max_length=2000, blank=True)
    page_url = models.URLField(max_length=2000, blank=True)
    form = models.ForeignKey(
        "capture.WebForm",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="touchpoints",
    )
    location = models.CharField(
        max_length=200, blank=True, help_text="Store or event, for quick capture."
    )
    credited_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="credited_touchpoints",
        help_text="The salesperson credited for a sales-sourced contact.",
    )
    note = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)
    client_uuid = models.UUIDField(
        null=True, blank=True, unique=True, help_text="Offline capture replays."
    )
    import_job_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # A person's timeline (newest first); the trailing columns make it cover what
            # engagement rules read (kind, campaign, form), so scoring's per-person
            # aggregates never visit the table (1M people: ~10 s less on SQLite).
            models.Index(
                fields=["person", "-occurred_at", "kind", "campaign", "form"],
                name="touchpoint_person_idx2",
            ),
            models.Index(fields=["campaign", "occurred_at"], name="touchpoint_campaign_idx"),
            models.Index(fields=["kind", "occurred_at"], name="touchpoint_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"

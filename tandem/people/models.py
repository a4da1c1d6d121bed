"""People, companies, lifecycle stages, activities and custom fields.

The knowledge is the company's (principle 1): every user sees every row; who
may change a row is decided in accounts/permissions.py, never here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Stage(models.TextChoices):
    """The funnel, in order, then the two side exits (PRODUCT.md principle 2)."""

    SUBSCRIBER = "subscriber", "Subscriber"
    LEAD = "lead", "Lead"
    MQL = "mql", "Marketing qualified"
    SAL = "sal", "Sales accepted"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    ADVOCATE = "advocate", "Client / advocate"
    DISQUALIFIED = "disqualified", "Disqualified"
    RECYCLED = "recycled", "Recycled"


FUNNEL_ORDER: dict[str, int] = {
    stage: rank
    for rank, stage in enumerate(
        [
            Stage.SUBSCRIBER,
            Stage.LEAD,
            Stage.MQL,
            Stage.SAL,
            Stage.OPPORTUNITY,
            Stage.CUSTOMER,
            Stage.ADVOCATE,
        ]
    )
}


def next_stage(current: str) -> str | None:
    """The forward move the stage picker offers first: one step on in the funnel.

    A recycled person comes back in as a lead; a disqualified one and an
    advocate (the funnel's end) have no obvious next stage.
    """
    if current == Stage.RECYCLED:
        return Stage.LEAD.value
    rank = FUNNEL_ORDER.get(current)
    if rank is None:
        return None
    return next((str(stage) for stage, r in FUNNEL_ORDER.items() if r == rank + 1), None)


class CompanySize(models.TextChoices):
    S1 = "1-10", "1–10"
    S11 = "11-50", "11–50"
    S51 = "51-200", "51–200"
    S201 = "201-1000", "201–1,000"
    S1001 = "1001+", "1,001+"


LIVE = models.Q(deleted_at__isnull=True)


class LiveQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)


class Company(models.Model):
    name = models.CharField(max_length=200)
    name_key = models.CharField(max_length=200, editable=False)  # company_name_idx leads with it
    domain = models.CharField(max_length=253, blank=True, db_index=True)
    industry = models.CharField(max_length=100, blank=True)
    size = models.CharField(max_length=10, choices=CompanySize.choices, blank=True)
    country = models.CharField(max_length=2, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_companies",
    )
    custom_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    import_job_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="The import that created it."
    )

    objects = LiveQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "companies"
        indexes = [models.Index(fields=["name_key", "id"], name="company_name_idx")]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    # Lower-cased copies for prefix search and sort (keyset pages use them with id).
    first_name_key = models.CharField(max_length=100, blank=True, editable=False)
    last_name_key = models.CharField(max_length=100, blank=True, editable=False)
    # The primary email's normalised form, copied here so lists need no join.
    email = models.CharField(max_length=254, blank=True, editable=False)
    phone = models.CharField(max_length=20, blank=True, editable=False)
    title = models.CharField(max_length=150, blank=True)
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_people",
    )
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.LEAD)
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=100, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set when this person was merged into another (kept for unmerge).",
    )
    import_job_id = models.BigIntegerField(
        null=True, blank=True, db_index=True, help_text="The import that created it."
    )

    objects = LiveQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "people"
        # Lists, searches and counts read only live people: partial indexes skip the
        # deleted ones, so a capped count is an index-only scan on PostgreSQL
        # (a 10,001-row count: 67 → 3 ms on a million people).
        indexes = [
            models.Index(
                fields=["last_name_key", "first_name_key", "id"],
                name="person_name_idx",
                condition=LIVE,
            ),
            models.Index(fields=["first_name_key", "id"], name="person_first_idx", condition=LIVE),
            models.Index(fields=["email", "id"], name="person_email_idx", condition=LIVE),
            models.Index(
                fields=["stage", "last_name_key", "first_name_key", "id"],
                name="person_stage_name_idx",
                condition=LIVE,
            ),
            models.Index(
                fields=["owner", "last_name_key", "first_name_key", "id"],
                name="person_owner_name_idx",
                condition=LIVE,
            ),
            models.Index(
                fields=["company", "last_name_key", "id"], name="person_company_idx", condition=LIVE
            ),
            models.Index(fields=["updated_at", "id"], name="person_updated_idx", condition=LIVE),
            models.Index(fields=["created_at", "id"], name="person_created_idx", condition=LIVE),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Person #{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PersonEmail(models.Model):
    """An address of a person; the normalised form is unique among all people (ADR 0003)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="emails")
    email = models.CharField(max_length=254, help_text="As typed, trimmed.")
    email_normalized = models.CharField(max_length=254, unique=True)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(is_primary=True), name="personemail_one_primary"
            )
        ]

    def __str__(self) -> str:
        return self.email


class PhoneKind(models.TextChoices):
    WORK = "work", "Work"
    MOBILE = "mobile", "Mobile"
    HOME = "home", "Home"
    OTHER = "other", "Other"


class PersonPhone(models.Model):
    # Not indexed alone: personphone_unique_per_person (person, number) leads with it.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="phones", db_index=False
    )
    number = models.CharField(max_length=20, db_index=True, help_text="E.164")
    original = models.CharField(max_length=50)
    kind = models.CharField(max_length=10, choices=PhoneKind.choices, default=PhoneKind.WORK)
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "number"], name="personphone_unique_per_person"
            ),
            models.UniqueConstraint(
                fields=["person"], condition=Q(is_primary=True), name="personphone_one_primary"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class StageChange(models.Model):
    """One move along the funnel: from, to, when, who and why."""

    # Not indexed alone: stagechange_person_idx (person, -changed_at) leads with it.
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, related_name="stage_changes", db_index=False
    )
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    changed_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["person", "-changed_at"], name="stagechange_person_idx"),
            # The funnel report (reports/funnel_sql.py) reads each person's first change to
            # every stage from this index alone, never the table (1M people: 30 → 5 s).
            models.Index(
                fields=["person", "to_stage", "changed_at"], name="stagechange_funnel_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_stage or '∅'} → {self.to_stage}"


class ActivityKind(models.TextChoices):
    NOTE = "note", "Note"
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    EMAIL = "email", "Email"


class Activity(models.Model):
    """A note, call, meeting or email logged on a person or a company."""

    kind = models.CharField(max_length=10, choices=ActivityKind.choices)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["person", "-occurred_at"], name="activity_person_idx"),
            models.Index(fields=["company", "-occurred_at"], name="activity_company_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False) | Q(company__isnull=False),
                name="activity_has_subject",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject}".strip()


class CustomFieldEntity(models.TextChoices):
    PERSON = "person", "Person"
    COMPANY = "company", "Company"


class CustomFieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    CHOICE = "choice", "Choice"
    BOOL = "bool", "Yes / no"


class CustomField(models.Model):
    """A field an admin adds to people or companies; values live in `custom_fields` JSON."""

    entity = models.CharField(max_length=10, choices=CustomFieldEntity.choices)
    key = models.SlugField(max_length=60)
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=10, choices=CustomFieldType.choices)
    required = models.BooleanField(default=False)
    choices = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="customfield_entity_key")
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.entity})"

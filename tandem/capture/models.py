"""Web forms, consent with proof, suppression, outbound email, idempotent and offline capture."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class WebForm(models.Model):
    """A form marketers build; visitors post to /f/<key> from any site.

    `fields` lists `{"name": ..., "label": ..., "required": bool}` where name is a
    standard person field (first_name, email, company, ...) or `custom:<key>`.
    """

    key = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="forms"
    )
    fields = models.JSONField(default=list)
    consent_texts = models.ManyToManyField("capture.ConsentText", blank=True, related_name="forms")
    thank_you_message = models.TextField(blank=True)
    redirect_url = models.URLField(max_length=2000, blank=True)
    # Hosts the form is embedded on: a posted retURL may lead back to them, nowhere else.
    sites = models.JSONField(default=list, blank=True)
    notify = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    double_opt_in = models.BooleanField(default=True)
    source = models.CharField(max_length=100, blank=True, help_text="Person source for new people.")
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConsentPurpose(models.Model):
    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=150)
    is_marketing = models.BooleanField(
        default=True, help_text="Needs confirmation before marketing email."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ConsentText(models.Model):
    """The exact words shown for a purpose; a changed text is a new version, never an edit."""

    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="texts")
    version = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["purpose", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "version"], name="consenttext_purpose_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.purpose.key} v{self.version}"


class ConsentStatus(models.TextChoices):
    PENDING = "pending", "Waiting for confirmation"
    GRANTED = "granted", "Granted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Consent(models.Model):
    """A person's current consent for one purpose; ConsentEvent keeps the proof of each step."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="consents")
    purpose = models.ForeignKey(ConsentPurpose, on_delete=models.PROTECT, related_name="consents")
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    text = models.ForeignKey(
        ConsentText, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "purpose"], name="consent_person_purpose")
        ]
        indexes = [
            # The people list's "may be emailed for" filter reads a purpose's granted
            # people from here (capture/queries.py).
            models.Index(fields=["purpose", "status", "person"], name="consent_purpose_status_idx")
        ]

    def __str__(self) -> str:
        return f"{self.purpose.key}: {self.status}"


class ConsentEvent(models.Model):
    """Proof: what text was shown, when, from which form and IP, and what happened."""

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)  # requested, confirmed, granted, withdrawn
    text = models.ForeignKey(
        ConsentText, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    form = models.ForeignKey(
        WebForm, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    method = models.CharField(max_length=20, blank=True)  # form, api, booth, import, email_link
    # How the person gave it, in the words of whoever vouches for it (the API's `how`),
    # and the user whose token or session recorded it: proof for consent not given here.
    how = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} at {self.at:%Y-%m-%d}"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"


class Suppression(models.Model):
    """An address no marketing email may go to, whoever it belongs to."""

    email_normalized = models.CharField(max_length=254, unique=True)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.email_normalized} ({self.reason})"


class OutboundEmail(models.Model):
    """Each email Tandem sends (double opt-in, notifications), with every attempt recorded."""

    kind = models.CharField(max_length=30)
    to = models.CharField(max_length=254)
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=250)
    status = models.CharField(max_length=12, default="queued")  # queued, sent, failed, suppressed
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=250, blank=True)
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"


class ConfirmationEmailSent(models.Model):
    """When a form last emailed a double opt-in confirmation to an address: at most one
    per address per form per TANDEM_CONFIRM_EMAIL_WINDOW_MINUTES (see
    email.claim_confirmation_emails). The address is kept as a hash: this table
    must not keep an erased person's email."""

    address_hash = models.CharField(max_length=64)
    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="+", db_index=False)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address_hash", "form"], name="confirmationemailsent_address_form"
            )
        ]

    def __str__(self) -> str:
        return f"confirmation for form {self.form_id} at {self.sent_at:%Y-%m-%d %H:%M}"


class IdempotencyRecord(models.Model):
    """A stored response for `Idempotency-Key`: the same key and body answer the same."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    scope = models.CharField(max_length=100)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scope", "key"], name="idempotency_user_scope_key"
            )
        ]

    def __str__(self) -> str:
        return self.key


class InboxSubmission(models.Model):
    """A web-form submission accepted and waiting to be captured: the capture inbox.

    The public POST checks a submission and stores it here in one INSERT, so
    a burst of visitors is answered at once; a background task captures each
    through `capture_person` and deletes the row in the same transaction, so
    every accepted submission is captured exactly once. `payload` holds the
    checked submission (person fields, tracking, ticked consents with the text
    versions shown, the visitor's IP and user agent as proof). A submission the
    capture refuses stays here with its error: nothing a visitor sent is dropped.
    """

    # No index on form: one less write per accepted post; only deleting a form reads by it.
    form = models.ForeignKey(WebForm, on_delete=models.PROTECT, related_name="+", db_index=False)
    received_at = models.DateTimeField()
    payload = models.JSONField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"submission {self.pk} to {self.form_id} at {self.received_at:%Y-%m-%d %H:%M:%S}"


class SpoolMark(models.Model):
    """How far the drain has moved a spool file's posts into the inbox (capture/spool.py).

    `spool` is the spool file's own identity (written in it when it is made), so a
    spool made anew starts from nothing moved."""

    spool = models.CharField(max_length=32, unique=True)
    moved_to = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"spool {self.spool} moved to {self.moved_to}"

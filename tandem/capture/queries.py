"""Reads of consent for staff: the person page's card, the person API's `consents`, the people
list's "may be emailed for" filter and the export's consent columns.

people shows these without importing capture: `CaptureConfig.ready()` registers
them in `tandem.people.extensions` (ADR 0005).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Collate

from tandem.capture.consent import _HARD_REASONS
from tandem.capture.models import Consent, ConsentEvent, ConsentPurpose, ConsentStatus, Suppression
from tandem.people.models import Person

NO_CONSENT = "none"
STATUS_LABELS = {
    ConsentStatus.GRANTED.value: "Granted",
    ConsentStatus.PENDING.value: "Waiting for confirmation",
    ConsentStatus.WITHDRAWN.value: "Withdrawn",
    NO_CONSENT: "No consent",
}
ACTION_LABELS = {
    "requested": "Asked to confirm",
    "confirmed": "Confirmed",
    "granted": "Granted",
    "withdrawn": "Withdrawn",
}
METHOD_LABELS = {
    "form": "web form",
    "api": "API",
    "booth": "quick capture",
    "import": "import",
    "email_link": "confirmation link in the email",
    "unsubscribe": "unsubscribe link",
    "staff": "staff",
}
# Up to this many granted consents a purpose is "rare" for the may_email filter (see there).
SPARSE_CONSENTS = 30_000
# The most proof steps one person's page and API answer carry (newest first).
MAX_EVENTS = 200


@dataclass(frozen=True)
class ConsentStep:
    """One step of a consent, as kept for proof: what happened, when, how, from where."""

    action: str
    action_label: str
    at: dt.datetime
    method: str
    method_label: str
    ip: str | None
    user_agent: str
    form: str | None
    text_version: int | None
    how: str = ""  # the proof an API caller gave ("Signed at the booth")
    recorded_by: str | None = None  # the user whose token recorded it


@dataclass(frozen=True)
class PurposeConsent:
    """A person's state for one purpose, with the proof of the step that set it."""

    purpose: str
    purpose_name: str
    status: str  # granted, pending, withdrawn, none
    status_label: str
    text_version: int | None = None
    text: str = ""
    at: dt.datetime | None = None
    method: str = ""
    method_label: str = ""
    ip: str | None = None
    form: str | None = None
    how: str = ""
    recorded_by: str | None = None
    events: list[ConsentStep] = field(default_factory=list)


def _step(event: ConsentEvent) -> ConsentStep:
    return ConsentStep(
        action=event.action,
        action_label=ACTION_LABELS.get(event.action, event.action),
        at=event.at,
        method=event.method,
        method_label=METHOD_LABELS.get(event.method, event.method),
        ip=event.ip,
        user_agent=event.user_agent,
        form=event.form.name if event.form is not None else None,
        text_version=event.text.version if event.text is not None else None,
        how=event.how,
        recorded_by=(
            (event.recorded_by.get_full_name() or event.recorded_by.username)
            if event.recorded_by is not None
            else None
        ),
    )


def person_consents(person: Person) -> list[PurposeConsent]:
    """Every purpose with the person's state for it ("none" when never asked), in three queries:
    the purposes, the person's consents with their texts, their events with form and text."""
    purposes = list(ConsentPurpose.objects.order_by("name", "id"))
    rows = {c.purpose_id: c for c in Consent.objects.filter(person=person).select_related("text")}
    steps: dict[int, list[ConsentStep]] = {}
    events = (
        ConsentEvent.objects.filter(consent__person=person)
        .select_related("form", "text", "recorded_by")
        .order_by("-at", "-id")[:MAX_EVENTS]
    )
    by_consent = {c.pk: c.purpose_id for c in rows.values()}
    for event in events:
        steps.setdefault(by_consent[event.consent_id], []).append(_step(event))
    out = []
    for purpose in purposes:
        row = rows.get(purpose.pk)
        if row is None:
            out.append(
                PurposeConsent(
                    purpose=purpose.key,
                    purpose_name=purpose.name,
                    status=NO_CONSENT,
                    status_label=STATUS_LABELS[NO_CONSENT],
                )
            )
            continue
        history = steps.get(purpose.pk, [])
        last = history[0] if history else None
        out.append(
            PurposeConsent(
                purpose=purpose.key,
                purpose_name=purpose.name,
                status=row.status,
                status_label=STATUS_LABELS.get(row.status, row.status),
                text_version=row.text.version if row.text is not None else None,
                text=row.text.text if row.text is not None else "",
                at=last.at if last else row.updated_at,
                method=last.method if last else "",
                method_label=last.method_label if last else "",
                ip=last.ip if last else None,
                form=last.form if last else None,
                how=last.how if last else "",
                recorded_by=last.recorded_by if last else None,
                events=history,
            )
        )
    return out


def purpose_choices() -> list[tuple[str, str]]:
    return list(ConsentPurpose.objects.order_by("name", "id").values_list("key", "name"))


def may_email_condition(purpose_key: str) -> Q:
    """People who may be emailed for the purpose: consent granted (after confirmation where
    double opt-in applies; pending and withdrawn do not count), a primary email, and that
    address not suppressed (any suppression stops marketing; a bounce or complaint stops all).

    Set-based, in one of two forms chosen by a capped count of the purpose's granted
    consents on their (purpose, status, person) index: a rare purpose is read from
    that index and its people fetched by id (`id IN (subquery)`); a common one is
    checked person by person as the list walks its sort index (EXISTS on the
    (person, purpose) unique index), which finds a page of 50 sooner than
    fetching and sorting every match. The suppression check is an EXISTS on the
    suppression's unique address. Figures: docs/benchmarks.md, `bench consent`.
    """
    key = (purpose_key or "").strip()
    purpose = ConsentPurpose.objects.filter(key=key).values_list("pk", "is_marketing").first()
    if purpose is None:
        raise ValidationError({"may_email": f"There is no consent purpose {key!r}."})
    purpose_id, is_marketing = purpose
    granted = Consent.objects.filter(purpose_id=purpose_id, status=ConsentStatus.GRANTED)
    if granted.order_by()[: SPARSE_CONSENTS + 1].count() <= SPARSE_CONSENTS:
        has_consent = Q(pk__in=granted.values("person_id"))
    else:
        has_consent = Q(Exists(granted.filter(person_id=OuterRef("pk"))))
    email: Any = OuterRef("email")
    if connection.vendor == "postgresql":
        # Person.email compares byte-wise ("C", people migration 0002); in the database's
        # own collation the suppression's unique index serves the lookup (else: a scan of
        # every suppressed address per person).
        email = Collate(email, "default")
    blocked = Suppression.objects.filter(email_normalized=email)
    if not is_marketing:
        blocked = blocked.filter(reason__in=list(_HARD_REASONS))
    return has_consent & ~Q(email="") & ~Q(Exists(blocked))


def consent_export_columns() -> list[tuple[str, Coalesce]]:
    """One column per purpose, `consent:<key>`, holding the state the API calls `status`
    (granted, pending, withdrawn or none); each a correlated subquery on the
    (person, purpose) unique index, so the export stays one query."""
    columns = []
    for pk, key in ConsentPurpose.objects.order_by("name", "id").values_list("pk", "key"):
        status = Consent.objects.filter(person_id=OuterRef("pk"), purpose_id=pk).values("status")
        columns.append((f"consent:{key}", Coalesce(Subquery(status[:1]), Value(NO_CONSENT))))
    return columns

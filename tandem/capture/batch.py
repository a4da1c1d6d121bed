"""Capturing inbox submissions a batch at a time, set-based (issue 17, point 1).

Why: one by one, each submission cost some twenty statements (find the
person, the company, create the person, email, stage change, audit, the
touchpoint, the consent and its event, the confirmation email), ~12 ms of
SQLite's write lock each; under a burst the drain held the lock for long
stretches and web posts queued behind it (375 accepted posts/s, p99 1.2-1.9 s,
against ~2,450 for the floor app).

Here a batch of submissions that make new people is written with one INSERT
per table: companies (found or made by name), people, their emails and
phones, stage changes, audit events, touchpoints, consents and their events,
and the queued emails, then the inbox rows are deleted, all in one short
transaction. The rules are the one-by-one path's: each person is checked by
`people.services.check_new_person` (what `create_person` runs), the
touchpoint, consent and emails are built by the same functions
`webforms.capture_submission` uses.

What is not a new person with a fresh email is left to the one-by-one path
(`capture_person`, the single definition of how a known person is filled):
a known email, a second submission of an email in the same batch (captured
after the first, as a second touchpoint), no email, a company given by id, and
anything the checks refuse (that path keeps the error on the row). If the
batch's transaction fails (say a concurrent capture took an email first on
PostgreSQL), nothing of it is written and every row goes one by one.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tandem.campaigns.models import Campaign
from tandem.campaigns.services import UTM_MAPPED, build_touchpoint, resolve_campaign
from tandem.capture import consent as consents
from tandem.capture import webforms
from tandem.capture.email import claim_confirmation_emails, queue_emails
from tandem.capture.models import Consent, ConsentStatus, ConsentText, InboxSubmission, WebForm
from tandem.capture.services import TouchpointIn
from tandem.core.bulk import insert_new
from tandem.people import extensions
from tandem.people.bulk import create_people_bulk, find_or_create_companies
from tandem.people.models import PersonEmail
from tandem.people.normalize import clean_email, clean_phone
from tandem.people.services import NewPerson, check_new_person

log = logging.getLogger(__name__)

CAPTURE_STAGE = "lead"  # capture_person's default: what a web form makes of a new person


class FormCache:
    """What a drain reads once per form (and campaign), not once per submission."""

    def __init__(self) -> None:
        self.forms: dict[int, WebForm] = {}
        self.fields: dict[int, list[webforms.FormField]] = {}
        self.texts: dict[tuple[int, ...], list[ConsentText]] = {}
        self.notify: dict[int, list[str]] = {}
        self.campaigns: dict[tuple[int | None, str, str, str], Campaign | None] = {}

    def form(self, form_id: int) -> WebForm:
        if form_id not in self.forms:
            self.forms[form_id] = WebForm.objects.select_related("campaign").get(pk=form_id)
        return self.forms[form_id]

    def form_fields(self, form: WebForm) -> list[webforms.FormField]:
        if form.pk not in self.fields:
            self.fields[form.pk] = webforms.form_fields(form)
        return self.fields[form.pk]

    def notify_addresses(self, form: WebForm) -> list[str]:
        if form.pk not in self.notify:
            self.notify[form.pk] = webforms.notify_addresses(form)
        return self.notify[form.pk]

    def consent_texts(self, ids: list[int]) -> list[ConsentText]:
        key = tuple(ids)
        if key not in self.texts:
            by_id = {
                t.pk: t for t in ConsentText.objects.filter(pk__in=ids).select_related("purpose")
            }
            self.texts[key] = [by_id[i] for i in ids if i in by_id]
        return self.texts[key]

    def campaign(self, form: WebForm, touchpoint: TouchpointIn) -> Campaign | None:
        """`resolve_campaign` as `capture_person` calls it, once per form and UTM tags."""
        tags = {name: touchpoint.utm.get(name, "") for name in UTM_MAPPED}
        key = (form.campaign_id, tags["utm_campaign"], tags["utm_source"], tags["utm_medium"])
        if key not in self.campaigns:
            self.campaigns[key] = resolve_campaign(touchpoint.campaign, **tags)
        return self.campaigns[key]


@functools.lru_cache(maxsize=4096)  # a burst comes from fewer addresses than posts
def _ip_or_none(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def submission_of(
    row: InboxSubmission, forms: FormCache
) -> tuple[WebForm, webforms.Submission, consents.Proof]:
    """The checked submission an inbox row holds, as the request had it."""
    p = row.payload
    form = forms.form(row.form_id)
    sub = webforms.Submission(
        person=dict(p["person"]),
        values=dict(p["values"]),
        tracking=dict(p["tracking"]),
        note_lines=list(p["note"]),
        extra=dict(p["extra"]),
        consent_texts=forms.consent_texts(p["texts"]),
        ticked=set(p["ticked"]),
        fields=forms.form_fields(form),
        contact_request=bool(p.get("contact_request")),
    )
    proof = consents.Proof(
        method="form",
        form=form,
        ip=_ip_or_none(p["ip"]),
        user_agent=p["ua"],
        at=row.received_at,
    )
    return form, sub, proof


@dataclass
class _NewOne:
    """A submission that makes a new person, checked and ready to write."""

    row: InboxSubmission
    form: WebForm
    sub: webforms.Submission
    proof: consents.Proof
    touchpoint: TouchpointIn
    campaign: Campaign | None
    new: NewPerson
    company_name: str
    normalized: str


@dataclass
class BatchResult:
    captured: list[int] = field(default_factory=list)  # inbox rows captured (and deleted)
    created: list[int] = field(default_factory=list)  # the people made
    left: list[int] = field(default_factory=list)  # inbox rows for the one-by-one path


def _normalized_email(row: InboxSubmission) -> str:
    raw = str((row.payload.get("person") or {}).get("email") or "")
    if not raw.strip():
        return ""
    try:
        return clean_email(raw)[1]
    except ValidationError:
        return ""


def _prepare(row: InboxSubmission, forms: FormCache, normalized: str) -> _NewOne | None:
    """The row as a new person, checked as `capture_person` checks it; None when it is
    not a plain new person (the one-by-one path then decides). Raises ValidationError."""
    form, sub, proof = submission_of(row, forms)
    if sub.errors:
        return None
    data = dict(sub.person)
    raw_email = str(data.pop("email", "") or "")
    raw_phone = str(data.pop("phone", "") or "")
    raw_company = data.pop("company", None)
    if raw_company not in (None, "") and not isinstance(raw_company, str):
        return None
    if raw_phone.strip():
        clean_phone(raw_phone, country=str(data.get("country") or ""))
    touchpoint = webforms.submission_touchpoint(form, sub, row.received_at)
    campaign = forms.campaign(form, touchpoint)
    fields = {k: v for k, v in data.items() if v not in (None, "")}
    new = check_new_person(data=fields, email=raw_email, phone=raw_phone, stage=CAPTURE_STAGE)
    if new.email is None or new.email[1] != normalized:
        return None
    return _NewOne(
        row, form, sub, proof, touchpoint, campaign, new, str(raw_company or ""), normalized
    )


def capture_batch(
    pks: list[int],
    forms: FormCache,
    *,
    max_attempts: int,
    writer_turn: Callable[[], AbstractContextManager[None]],
) -> BatchResult:
    """Capture the waiting submissions `pks` that make new people, set-based, in one
    transaction that also deletes their inbox rows; the rest is `left` for
    `inbox.capture_waiting`, in order. `writer_turn` is the inbox's turn-taking for
    SQLite's write lock, held for the transaction only (the checks run before it)."""
    result = BatchResult()
    rows = list(
        InboxSubmission.objects.filter(pk__in=pks, attempts__lt=max_attempts).order_by("pk")
    )
    ready: list[_NewOne] = []
    seen: set[str] = set()
    for row in rows:
        normalized = _normalized_email(row)
        if not normalized or normalized in seen:
            result.left.append(row.pk)
            continue
        seen.add(normalized)  # later rows of this email follow this one, whatever becomes of it
        try:
            one = _prepare(row, forms, normalized)
        except Exception:  # refused, or unexpected: the one-by-one path keeps the error
            one = None
        if one is None:
            result.left.append(row.pk)
        else:
            ready.append(one)
    if ready:
        try:
            with writer_turn(), transaction.atomic():
                written = BatchResult()
                _write(ready, forms, written)
        except Exception:
            log.exception("set-based capture of %s submissions failed: one by one", len(ready))
            result.left += [one.row.pk for one in ready]
        else:
            result.captured += written.captured
            result.created += written.created
            result.left += written.left
    result.left.sort()
    return result


def _write(ready: list[_NewOne], forms: FormCache, result: BatchResult) -> None:
    """Inside the transaction: lock the rows, leave out emails taken meanwhile, write."""
    locked = set(
        InboxSubmission.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=[one.row.pk for one in ready])
        .values_list("pk", flat=True)
    )
    ready = [one for one in ready if one.row.pk in locked]  # another drain has the rest
    taken = set(
        PersonEmail.objects.filter(
            email_normalized__in=[one.normalized for one in ready]
        ).values_list("email_normalized", flat=True)
    )
    result.left += [one.row.pk for one in ready if one.normalized in taken]
    ready = [one for one in ready if one.normalized not in taken]
    by_form: dict[int, list[_NewOne]] = {}
    for one in ready:
        by_form.setdefault(one.form.pk, []).append(one)
    now = timezone.now()
    written: list[_NewOne] = []
    for group in by_form.values():
        actor = webforms.submission_actor(group[0].form)
        companies = find_or_create_companies(
            actor=actor, names=[one.company_name for one in group if one.company_name]
        )
        kept = []
        for one in group:
            if one.company_name and one.company_name not in companies:
                result.left.append(one.row.pk)  # an id, or a name the service refuses
                continue
            if one.company_name:
                one.new.person.company = companies[one.company_name]
            kept.append(one)
        create_people_bulk(
            actor=actor,
            people=[one.new for one in kept],
            reason=f"Captured ({kept[0].touchpoint.kind})" if kept else "",
            now=now,
        )
        written += kept
    if not written:
        return
    insert_new(
        build_touchpoint(
            person_id=one.new.person.pk,
            kind=one.touchpoint.kind,
            occurred_at=one.touchpoint.occurred_at,
            campaign=one.campaign,
            channel=one.touchpoint.channel,
            utm=one.touchpoint.utm,
            referrer=one.touchpoint.referrer,
            page_url=one.touchpoint.page_url,
            form_id=one.touchpoint.form_id,
            note=one.touchpoint.note,
            detail=dict(one.touchpoint.detail),
        )
        for one in written
    )
    extensions.people_touched([one.new.person.pk for one in written], "capture")  # scored set-based
    given = [
        (one, text)
        for one in written
        for text in one.sub.consent_texts
        if text.purpose.key in one.sub.ticked
    ]
    rows = consents.record_first_consents(
        [(one.new.person, text, one.proof, one.form.double_opt_in) for one, text in given]
    )
    pending: dict[int, list[tuple[Consent, ConsentText]]] = {}
    for (one, text), consent in zip(given, rows, strict=True):
        if consent.status == ConsentStatus.PENDING:
            pending.setdefault(one.row.pk, []).append((consent, text))
    confirmations = {
        one.row.pk: webforms.confirmation_emails(
            one.form,
            one.new.person,
            one.sub,
            pending.get(one.row.pk, []),
            one.row.payload["base_url"],
        )
        for one in written
    }
    # At most one double opt-in email per address per form in the window: the batch's
    # claims are made in one statement, inside this transaction.
    claimed = claim_confirmation_emails(
        (conf[0]["to"], one.form.pk) for one in written if (conf := confirmations[one.row.pk])
    )
    emails = []
    for one in written:
        person, base_url = one.new.person, one.row.payload["base_url"]
        conf = confirmations[one.row.pk]
        if conf and (conf[0]["to"], one.form.pk) in claimed:
            emails += conf
        emails += webforms.notification_emails(
            one.form, person, True, one.sub, base_url, forms.notify_addresses(one.form)
        )
    queue_emails(emails)
    InboxSubmission.objects.filter(pk__in=[one.row.pk for one in written]).delete()
    result.captured += [one.row.pk for one in written]
    result.created += [one.new.person.pk for one in written]

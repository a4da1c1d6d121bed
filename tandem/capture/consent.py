"""Consent per purpose, with proof; suppression; one-click unsubscribe (RFC 8058).

Rules this module carries:
- Every step of a consent (requested, confirmed, granted, withdrawn) leaves a
  ConsentEvent naming the exact text version shown, when, from which form, IP
  and user agent, and how (form, api, booth, import, email_link, unsubscribe).
- With double opt-in a marketing consent stays *pending* until the person
  follows the signed link we email; until then `may_send_marketing` is False.
- An unsubscribed, bounced or complained address is in Suppression: no
  marketing email goes to it, whoever it belongs to. A bounced or complained
  address gets no email at all (see `blocks_all_email`).
- Links are signed with django.core.signing: a confirmation link expires (14
  days by default, TANDEM_CONSENT_CONFIRM_DAYS); an unsubscribe link does not,
  because an old newsletter must still unsubscribe in one click.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from tandem.accounts.models import User
from tandem.capture.models import (
    Consent,
    ConsentEvent,
    ConsentPurpose,
    ConsentStatus,
    ConsentText,
    Suppression,
    SuppressionReason,
    WebForm,
)
from tandem.core.bulk import build, insert_new
from tandem.people.models import Person, PersonEmail
from tandem.people.normalize import normalize_email

CONFIRM_SALT = "tandem.capture.consent-confirm"
UNSUBSCRIBE_SALT = "tandem.capture.unsubscribe"
# Suppressions that stop every email, not only marketing: the address is dead or hostile.
_HARD_REASONS = {SuppressionReason.BOUNCED, SuppressionReason.COMPLAINED}


@dataclass(frozen=True)
class Proof:
    """Where a consent step came from: the evidence kept on each ConsentEvent."""

    method: str  # form, api, booth, import, email_link, unsubscribe, staff
    form: WebForm | None = None
    ip: str | None = None
    user_agent: str = ""
    at: dt.datetime | None = None
    how: str = ""  # how the person gave it, when someone else vouches for it (the API)
    recorded_by: User | None = None


class ConsentLinkError(Exception):
    """A confirmation or unsubscribe link that is forged, damaged or expired."""


def _event(consent: Consent, action: str, text: ConsentText | None, proof: Proof) -> ConsentEvent:
    return ConsentEvent.objects.create(
        consent=consent,
        action=action,
        text=text,
        at=proof.at or timezone.now(),
        form=proof.form,
        ip=proof.ip or None,
        user_agent=(proof.user_agent or "")[:300],
        method=proof.method[:20],
        how=(proof.how or "")[:300],
        recorded_by=proof.recorded_by,
    )


def _locked_consent(
    person: Person, purpose: ConsentPurpose, *, status: str, text: ConsentText | None
) -> tuple[Consent, bool]:
    """The person's consent row for `purpose`, locked; created with `status` and `text`
    if missing (then the bool is True).

    The unique (person, purpose) constraint decides concurrent first consents.
    """
    row = Consent.objects.select_for_update().filter(person=person, purpose=purpose).first()
    if row is not None:
        return row, False
    try:
        with transaction.atomic():
            return (
                Consent.objects.create(person=person, purpose=purpose, status=status, text=text),
                True,
            )
    except IntegrityError:
        return Consent.objects.select_for_update().get(person=person, purpose=purpose), False


# --- purposes and texts -------------------------------------------------------------


def latest_text(purpose_key: str) -> ConsentText | None:
    """The newest version of a purpose's wording, or None if the purpose has no text."""
    return (
        ConsentText.objects.filter(purpose__key=purpose_key)
        .select_related("purpose")
        .order_by("-version")
        .first()
    )


def ensure_text(*, purpose: ConsentPurpose, text: str) -> ConsentText:
    """The current version of `purpose`'s text, or a new version if `text` differs.

    A shown text is evidence, so it is never edited in place: changed words
    make version n+1 and the old version stays for the consents given under it.
    """
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the consent text the visitor sees."})
    with transaction.atomic():
        ConsentPurpose.objects.select_for_update().get(pk=purpose.pk)
        current = ConsentText.objects.filter(purpose=purpose).order_by("-version").first()
        if current is not None and current.text == text:
            return current
        return ConsentText.objects.create(
            purpose=purpose, version=(current.version + 1) if current else 1, text=text
        )


# --- giving, confirming, withdrawing ------------------------------------------------------


def record_consent(
    *, person: Person, text: ConsentText, proof: Proof, double_opt_in: bool
) -> Consent:
    """The person ticked `text`'s box: grant, or ask for confirmation first.

    Double opt-in applies to marketing purposes only, and only while the
    consent is not already granted (a second sign-up re-affirms, it does not
    demote a confirmed subscriber to pending).
    """
    purpose = text.purpose
    confirm_first = double_opt_in and purpose.is_marketing
    # No savepoint: an error here fails the caller's whole capture, which nothing
    # catches half-way (a savepoint would cost two round trips per consent).
    with transaction.atomic(savepoint=False):
        consent, created = _locked_consent(
            person,
            purpose,
            status=ConsentStatus.PENDING if confirm_first else ConsentStatus.GRANTED,
            text=text,
        )
        needs_confirmation = confirm_first and consent.status != ConsentStatus.GRANTED
        if not created:
            consent.status = ConsentStatus.PENDING if needs_confirmation else ConsentStatus.GRANTED
            consent.text = text
            consent.save(update_fields=["status", "text", "updated_at"])
        _event(consent, "requested" if needs_confirmation else "granted", text, proof)
    return consent


def first_consent_status(text: ConsentText, *, double_opt_in: bool) -> str:
    """The status `record_consent` gives a person's first consent for `text`'s purpose."""
    confirm_first = double_opt_in and text.purpose.is_marketing
    return ConsentStatus.PENDING if confirm_first else ConsentStatus.GRANTED


def record_first_consents(given: list[tuple[Person, ConsentText, Proof, bool]]) -> list[Consent]:
    """`record_consent` for people who have no consent yet (just created): each
    (person, text, proof, double_opt_in) becomes its consent and its event, one INSERT
    for all the consents and one for all the events."""
    rows = [
        build(
            Consent,
            person=person,
            purpose=text.purpose,
            status=first_consent_status(text, double_opt_in=double_opt_in),
            text=text,
        )
        for person, text, _, double_opt_in in given
    ]
    with transaction.atomic(savepoint=False):
        insert_new(rows)
        insert_new(
            build(
                ConsentEvent,
                consent=consent,
                action="requested" if consent.status == ConsentStatus.PENDING else "granted",
                text=text,
                at=proof.at or timezone.now(),
                form=proof.form,
                ip=proof.ip or None,
                user_agent=(proof.user_agent or "")[:300],
                method=proof.method[:20],
            )
            for consent, (_, text, proof, _) in zip(rows, given, strict=True)
        )
    return rows


@dataclass(frozen=True)
class PastConsent:
    """A consent given in the past, with what became of it (for `record_past_consents`).

    `given` is the tick of the box (`record_consent`); with `double_opt_in` on a
    marketing purpose it waits for `confirmed` (the click on the emailed link,
    `confirm_consents`) and stays pending without it; `withdrawn` is the
    person's later word (`withdraw_consent`). Every proof carries its time.
    """

    person: Person
    text: ConsentText
    given: Proof
    double_opt_in: bool = False
    confirmed: Proof | None = None
    withdrawn: Proof | None = None

    def steps(self) -> list[tuple[str, Proof]]:
        first = first_consent_status(self.text, double_opt_in=self.double_opt_in)
        steps = [("requested" if first == ConsentStatus.PENDING else "granted", self.given)]
        if first == ConsentStatus.PENDING and self.confirmed is not None:
            steps.append(("confirmed", self.confirmed))
        if self.withdrawn is not None:
            steps.append(("withdrawn", self.withdrawn))
        return steps


_STATUS_AFTER = {
    "requested": ConsentStatus.PENDING,
    "granted": ConsentStatus.GRANTED,
    "confirmed": ConsentStatus.GRANTED,
    "withdrawn": ConsentStatus.WITHDRAWN,
}


def record_past_consents(items: list[PastConsent]) -> list[Consent]:
    """Write consents with their whole past, for people who have none for that purpose
    yet: what `record_consent`, `confirm_consents` and `withdraw_consent` would have
    written at each proof's time (each event dated then, the consent last changed at
    its last step). One INSERT for the consents and one for the events."""
    rows = []
    for item in items:
        times = [proof.at for _, proof in item.steps() if proof.at is not None]
        if len(times) < len(item.steps()):
            raise ValidationError({"at": "Give the time of each step of a past consent."})
        if times != sorted(times):
            raise ValidationError({"at": "The steps of a consent go forward in time."})
        steps = item.steps()
        rows.append(
            Consent(
                person=item.person,
                purpose=item.text.purpose,
                status=_STATUS_AFTER[steps[-1][0]],
                text=item.text,
                updated_at=times[-1],
            )
        )
    with transaction.atomic(savepoint=False):
        insert_new(rows, backdated=True)
        insert_new(
            build(
                ConsentEvent,
                consent=consent,
                action=action,
                text=item.text,
                at=proof.at or timezone.now(),  # given: checked above
                form=proof.form,
                ip=proof.ip or None,
                user_agent=(proof.user_agent or "")[:300],
                method=proof.method[:20],
                how=(proof.how or "")[:300],
                recorded_by=proof.recorded_by,
            )
            for consent, item in zip(rows, items, strict=True)
            for action, proof in item.steps()
        )
    return rows


def confirmation_token(person_id: int, consent_ids: Iterable[int]) -> str:
    """The signed double opt-in token of a person's consents, valid for
    `confirmation_max_age()` from now."""
    return signing.dumps({"p": person_id, "c": sorted(consent_ids)}, salt=CONFIRM_SALT)


def confirmation_max_age() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "TANDEM_CONSENT_CONFIRM_DAYS", 14)))


_CONFIRM_MARK = "TANDEMCONFIRMTOKEN"
_confirm_paths: dict[tuple[str, object], tuple[str, str]] = {}


def _confirm_path(token: str) -> str:
    """`reverse` of the confirmation page for `token`, the URL resolved once (per script
    prefix and URLconf) for all tokens: a batch of emails signs thousands of these links. A signed
    token's characters (URL-safe base64 and ":") come out of `reverse` unchanged."""
    key = (get_script_prefix(), get_urlconf())
    parts = _confirm_paths.get(key)
    if parts is None:
        head, _, tail = reverse("capture:consent_confirm", args=[_CONFIRM_MARK]).partition(
            _CONFIRM_MARK
        )
        parts = _confirm_paths[key] = (head, tail)
    return f"{parts[0]}{token}{parts[1]}"


def confirmation_url(person_id: int, consent_ids: Iterable[int], *, base_url: str = "") -> str:
    """The double opt-in link, signed now: the email's sending signs it (capture/email.py),
    so the link is valid for the whole `confirmation_max_age()` from the day it is sent."""
    return _absolute(_confirm_path(confirmation_token(person_id, consent_ids)), base_url)


def read_confirmation_token(token: str) -> tuple[int, list[int]]:
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=confirmation_max_age())
    except signing.SignatureExpired:
        raise ConsentLinkError(
            "This confirmation link has expired. Fill in the form again to get a new one."
        ) from None
    except signing.BadSignature:
        raise ConsentLinkError("This confirmation link is not valid.") from None
    if not isinstance(data, dict) or not isinstance(data.get("c"), list):
        raise ConsentLinkError("This confirmation link is not valid.")
    return int(data["p"]), [int(c) for c in data["c"]]


def confirm_consents(*, token: str, proof: Proof) -> list[Consent]:
    """Follow a double opt-in link: pending consents become granted, with an event each.

    Consents already granted stay as they are; withdrawn ones stay withdrawn
    (an unsubscribe after the sign-up is the person's later word). Confirming
    proves the person reads this mailbox, so an earlier *unsubscribe*
    suppression of the address is lifted; a bounce is not.
    """
    person_id, consent_ids = read_confirmation_token(token)
    confirmed: list[Consent] = []
    with transaction.atomic():
        consents = list(
            Consent.objects.select_for_update()
            .filter(pk__in=consent_ids, person_id=person_id)
            .select_related("purpose", "person")
        )
        if not consents:
            raise ConsentLinkError("This confirmation link is not valid any more.")
        for consent in consents:
            if consent.status == ConsentStatus.PENDING:
                consent.status = ConsentStatus.GRANTED
                consent.save(update_fields=["status", "updated_at"])
                _event(consent, "confirmed", consent.text, proof)
                confirmed.append(consent)
        if confirmed and consents[0].person.email:
            Suppression.objects.filter(
                email_normalized=consents[0].person.email, reason=SuppressionReason.UNSUBSCRIBED
            ).delete()
    return consents


def withdraw_consent(
    *, person: Person, proof: Proof, purpose: ConsentPurpose | None = None
) -> list[Consent]:
    """Withdraw one purpose, or every marketing purpose when `purpose` is None."""
    with transaction.atomic():
        rows = Consent.objects.select_for_update().filter(person=person)
        rows = rows.filter(purpose=purpose) if purpose else rows.filter(purpose__is_marketing=True)
        changed = []
        for consent in rows.exclude(status=ConsentStatus.WITHDRAWN):
            consent.status = ConsentStatus.WITHDRAWN
            consent.save(update_fields=["status", "updated_at"])
            _event(consent, "withdrawn", consent.text, proof)
            changed.append(consent)
    return changed


# --- consent vouched for by a program (POST /api/v1/capture) -----------------------------


@dataclass(frozen=True)
class VouchedConsent:
    """One consent a caller of the API says the person gave (or withdrew), with its proof."""

    purpose: str
    granted: bool
    text_version: int | None
    how: str


def check_vouched_consents(
    items: list[VouchedConsent], *, field: str = "consents"
) -> list[ConsentText | ConsentPurpose]:
    """The text each consent was given under, checked before anything is written.

    Granting needs the words the person saw (their version) and how they gave
    them: consent Tandem did not collect itself is only as good as its proof.
    A purpose without any text yet can still be withdrawn. Errors name the
    item's field (`consents.0.text_version`).
    """
    out: list[ConsentText | ConsentPurpose] = []
    for i, item in enumerate(items):
        where = f"{field}.{i}"
        purpose = ConsentPurpose.objects.filter(key=item.purpose.strip()).first()
        if purpose is None:
            raise ValidationError(
                {f"{where}.purpose": f"There is no consent purpose {item.purpose!r}."}
            )
        if not " ".join(item.how.split()):
            raise ValidationError(
                {f"{where}.how": "Say how the person gave or withdrew it (the proof kept)."}
            )
        texts = ConsentText.objects.filter(purpose=purpose).select_related("purpose")
        text: ConsentText | None = None
        if item.text_version is not None:
            text = texts.filter(version=item.text_version).first()
            if text is None:
                raise ValidationError(
                    {
                        f"{where}.text_version": (
                            f"{purpose.key} has no text version {item.text_version}."
                        )
                    }
                )
        elif item.granted:
            latest = texts.order_by("-version").first()
            raise ValidationError(
                {
                    f"{where}.text_version": (
                        f"Say which version of {purpose.key}'s text the person agreed to"
                        + (
                            f" (the latest is {latest.version})."
                            if latest
                            else "; it has none yet."
                        )
                    )
                }
            )
        out.append(text if text is not None else purpose)
    return out


def record_vouched_consents(
    *,
    person: Person,
    items: list[VouchedConsent],
    found: list[ConsentText | ConsentPurpose],
    proof: Proof,
) -> list[dict[str, Any]]:
    """Record what `check_vouched_consents` accepted: granted at once (the caller vouches
    for it, so no double opt-in) or withdrawn, each event with the caller's proof."""
    out: list[dict[str, Any]] = []
    for item, text in zip(items, found, strict=True):
        item_proof = Proof(
            method=proof.method,
            form=proof.form,
            ip=proof.ip,
            user_agent=proof.user_agent,
            at=proof.at,
            how=" ".join(item.how.split())[:300],
            recorded_by=proof.recorded_by,
        )
        version = text.version if isinstance(text, ConsentText) else None
        if item.granted:
            assert isinstance(text, ConsentText)
            row = record_consent(person=person, text=text, proof=item_proof, double_opt_in=False)
            status = row.status
            purpose = text.purpose
        else:
            purpose = text.purpose if isinstance(text, ConsentText) else text
            withdraw_consent(person=person, proof=item_proof, purpose=purpose)
            status = ConsentStatus.WITHDRAWN
        out.append(
            {
                "purpose": purpose.key,
                "status": str(status),
                "text_version": version,
                "method": item_proof.method,
                "how": item_proof.how,
            }
        )
    return out


# --- suppression ------------------------------------------------------------------------


def suppress(*, email: str, reason: str) -> Suppression:
    """Put an address on the suppression list (unsubscribed, bounced, complained).

    Idempotent. A hard reason (bounce, complaint) replaces a soft one, never
    the other way round.
    """
    if reason not in SuppressionReason.values:
        raise ValidationError({"reason": f"Use one of: {', '.join(SuppressionReason.values)}."})
    normalized = normalize_email(email or "")
    if not normalized:
        raise ValidationError({"email": "Give the address to suppress."})
    with transaction.atomic():
        row = Suppression.objects.select_for_update().filter(email_normalized=normalized).first()
        if row is None:
            try:
                with transaction.atomic():
                    return Suppression.objects.create(email_normalized=normalized, reason=reason)
            except IntegrityError:
                row = Suppression.objects.select_for_update().get(email_normalized=normalized)
        if row.reason != reason and row.reason not in _HARD_REASONS:
            row.reason = reason
            row.save(update_fields=["reason"])
    return row


def suppression_for(email: str) -> Suppression | None:
    normalized = normalize_email(email or "")
    if not normalized:
        return None
    return Suppression.objects.filter(email_normalized=normalized).first()


def suppressions_for(emails: Iterable[str]) -> dict[str, Suppression]:
    """`suppression_for` for many addresses at once (one query): by normalised address,
    only the suppressed ones."""
    wanted = {normalize_email(e or "") for e in emails} - {""}
    if not wanted:
        return {}
    return {s.email_normalized: s for s in Suppression.objects.filter(email_normalized__in=wanted)}


def blocks_all_email(suppression: Suppression | None) -> bool:
    """A bounced or complained address gets nothing; an unsubscribed one still gets
    the emails it asks for (a double opt-in confirmation), never marketing."""
    return suppression is not None and suppression.reason in _HARD_REASONS


def may_send_marketing(person: Person) -> bool:
    """Granted consent for a marketing purpose, and the primary email not suppressed."""
    if not person.email or person.deleted_at is not None:
        return False
    if Suppression.objects.filter(email_normalized=person.email).exists():
        return False
    return Consent.objects.filter(
        person=person, status=ConsentStatus.GRANTED, purpose__is_marketing=True
    ).exists()


# --- unsubscribe --------------------------------------------------------------------------


def unsubscribe_token(person: Person, email: str = "") -> str:
    return signing.dumps(
        {"p": person.pk, "e": normalize_email(email or person.email)}, salt=UNSUBSCRIBE_SALT
    )


def unsubscribe_url(person: Person, *, email: str = "", base_url: str = "") -> str:
    path = reverse("capture:unsubscribe", args=[unsubscribe_token(person, email)])
    return _absolute(path, base_url)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise ConsentLinkError("This unsubscribe link is not valid.") from None
    if not isinstance(data, dict) or not data.get("e"):
        raise ConsentLinkError("This unsubscribe link is not valid.")
    return int(data.get("p") or 0), str(data["e"])


def unsubscribe(*, token: str, proof: Proof) -> str:
    """Suppress the address the link was sent to and withdraw its person's marketing consents.

    Returns the address. Idempotent: a second click changes nothing. Works
    for an erased or merged person too: the address stays suppressed.
    """
    person_id, email = read_unsubscribe_token(token)
    with transaction.atomic():
        suppress(email=email, reason=SuppressionReason.UNSUBSCRIBED)
        person = Person.objects.filter(pk=person_id).first()
        owner_id = (
            PersonEmail.objects.filter(email_normalized=email)
            .values_list("person_id", flat=True)
            .first()
        )
        for pid in {p for p in (person.pk if person else None, owner_id) if p}:
            withdraw_consent(person=Person(pk=pid), proof=proof)
    return email


def marketing_headers(person: Person, *, base_url: str = "") -> dict[str, str]:
    """The headers every marketing email carries: RFC 2369 List-Unsubscribe and RFC 8058
    List-Unsubscribe-Post, so mail clients offer a one-click unsubscribe that POSTs to us."""
    links = [f"<{unsubscribe_url(person, base_url=base_url)}>"]
    mailbox = getattr(settings, "TANDEM_UNSUBSCRIBE_MAILTO", "")
    if mailbox:
        links.append(f"<mailto:{mailbox}?subject={quote('unsubscribe ' + person.email)}>")
    return {
        "List-Unsubscribe": ", ".join(links),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def consent_summary(person: Person) -> list[dict[str, Any]]:
    """Each purpose's status with its latest proof, for the person page and exports."""
    out = []
    for consent in Consent.objects.filter(person=person).select_related("purpose", "text"):
        last = consent.events.select_related("form", "text").first()
        out.append({"consent": consent, "last_event": last})
    return out


def _absolute(path: str, base_url: str) -> str:
    base = (base_url or getattr(settings, "TANDEM_BASE_URL", "") or "").rstrip("/")
    return f"{base}{path}"

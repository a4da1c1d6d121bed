"""Outbound email: queued in the request, sent by a task after the commit.

Each email is an OutboundEmail row; the task claims it, checks suppression at
send time (an address unsubscribed or bounced since it was queued gets
nothing), records every attempt, and retries later when the task backend can
defer (the database and RQ backends can). Marketing email also needs granted
marketing consent at send time, and carries the one-click unsubscribe headers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from email.utils import make_msgid
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, prefetch_related_objects
from django.template.loader import get_template
from django.utils import timezone

from tandem.capture import consent as consents
from tandem.capture.models import ConfirmationEmailSent, OutboundEmail
from tandem.core.bulk import build, insert_new
from tandem.core.write_turn import write_turn
from tandem.people.models import Person
from tandem.people.normalize import normalize_email

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
MARKETING_KINDS = {"marketing"}
TEMPLATES = {
    "consent_confirmation": "capture/email/consent_confirmation.txt",
    "form_notification": "capture/email/form_notification.txt",
    "marketing": "capture/email/marketing.txt",
}


class Status:
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"


def _one_line(text: str, limit: int) -> str:
    """Header-safe: no line breaks (they would be header injection), trimmed to `limit`."""
    return " ".join(str(text or "").split())[:limit]


def queue_email(
    *,
    kind: str,
    to: str,
    subject: str,
    context: dict[str, Any],
    person: Person | None = None,
) -> OutboundEmail:
    """Record an email and send it from a task once the current transaction commits."""
    if kind not in TEMPLATES:
        raise ValueError(f"unknown email kind {kind!r}")
    row = OutboundEmail.objects.create(
        kind=kind,
        to=_one_line(to, 254),
        person=person,
        subject=_one_line(subject, 250),
        context=context,
    )
    transaction.on_commit(partial(_enqueue, row.pk))
    return row


def confirmation_window() -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, "TANDEM_CONFIRM_EMAIL_WINDOW_MINUTES", 60)))


def _address_hash(address: str) -> str:
    return hashlib.sha256(normalize_email(address).encode()).hexdigest()


def claim_confirmation_emails(
    pairs: Iterable[tuple[str, int]], *, now: dt.datetime | None = None
) -> set[tuple[str, int]]:
    """Which (address, form id) pairs may be sent a double opt-in confirmation now.

    At most one per address per form in `confirmation_window()`: five posts
    with a stranger's address send the stranger one email, not five (the
    later submissions are still captured, with their touchpoints; the first
    link confirms their consents too). The pairs returned are claimed in the
    same statement that decides (INSERT ... ON CONFLICT DO UPDATE ... WHERE
    the last one is older than the window, RETURNING), so concurrent captures
    and drains never both send; the claim is part of the caller's transaction
    and is undone with it. Give a whole batch at once: one statement for all.
    Addresses are compared normalised; the pairs come back as given.
    """
    by_key: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for address, form_id in pairs:
        if normalize_email(address or ""):
            by_key.setdefault((_address_hash(address), int(form_id)), []).append((address, form_id))
    if not by_key:
        return set()
    now = now or timezone.now()
    cutoff = now - confirmation_window()
    table = connection.ops.quote_name(ConfirmationEmailSent._meta.db_table)
    prep = ConfirmationEmailSent._meta.get_field("sent_at")
    at, before = (prep.get_db_prep_value(v, connection) for v in (now, cutoff))
    claimed: set[tuple[str, int]] = set()
    keys = list(by_key)
    for start in range(0, len(keys), 300):  # SQLite's variable limit: 3 per row
        chunk = keys[start : start + 300]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        params: list[Any] = [v for key in chunk for v in (*key, at)]
        with connection.cursor() as cursor:
            cursor.execute(
                # The table name from the model, values as parameters.
                f'INSERT INTO {table} ("address_hash", "form_id", "sent_at") '  # noqa: S608
                f"VALUES {values} "
                'ON CONFLICT ("address_hash", "form_id") DO UPDATE SET "sent_at" = '
                f'excluded."sent_at" WHERE {table}."sent_at" <= %s '
                'RETURNING "address_hash", "form_id"',
                [*params, before],
            )
            claimed.update((h, int(f)) for h, f in cursor.fetchall())
    _maybe_prune_confirmations(cutoff)
    return {pair for key in claimed for pair in by_key.get(key, [])[:1]}


_next_prune = [0.0]


def _maybe_prune_confirmations(cutoff: dt.datetime) -> None:
    """Rows older than the window decide nothing: drop them (at most once a minute per
    process), so no address hash outlives its window by much."""
    now = time.monotonic()
    if now < _next_prune[0]:
        return
    _next_prune[0] = now + 60
    ConfirmationEmailSent.objects.filter(sent_at__lt=cutoff).delete()


def queue_emails(emails: list[dict[str, Any]]) -> list[OutboundEmail]:
    """`queue_email` for many at once (each dict its keyword arguments): one INSERT."""
    rows = []
    for e in emails:
        if e["kind"] not in TEMPLATES:
            raise ValueError(f"unknown email kind {e['kind']!r}")
        rows.append(
            build(
                OutboundEmail,
                kind=e["kind"],
                to=_one_line(e["to"], 254),
                person=e.get("person"),
                subject=_one_line(e["subject"], 250),
                context=e["context"],
            )
        )
    if not rows:
        return []
    insert_new(rows)
    for row in rows:
        transaction.on_commit(partial(_enqueue, row.pk))
    return rows


_batch: ContextVar[list[int] | None] = ContextVar("tandem_email_batch", default=None)


def _enqueue(outbound_id: int, run_after: dt.datetime | None = None) -> None:
    from tandem.capture.tasks import send_email

    batch = _batch.get()
    if batch is not None and run_after is None:
        batch.append(outbound_id)
        return
    task = send_email.using(run_after=run_after) if run_after else send_email
    task.enqueue(outbound_id)


@contextmanager
def sent_together(
    turn: Callable[[], AbstractContextManager[None]] | None = None,
    *,
    into: list[int] | None = None,
) -> Iterator[None]:
    """Emails queued (and committed) inside go out from one task when it ends, not a
    task each: the capture inbox drains hundreds of submissions at a time, and a
    task row per confirmation email slowed the queue itself (measured on PostgreSQL:
    some 20 tasks/s with 18,000 waiting, each pick skipping the rows done before).

    With `into`, their ids are added to that list instead, for the caller to hand to
    `send_queued` later (the worker's drain loop gathers a second's worth).
    """
    ids: list[int] = [] if into is None else into
    token = _batch.set(ids)
    try:
        yield
    finally:
        _batch.reset(token)
        if into is None:
            send_queued(ids, turn)


def send_queued(
    ids: list[int], turn: Callable[[], AbstractContextManager[None]] | None = None
) -> None:
    """Enqueue one task sending these queued (committed) emails."""
    from tandem.capture.tasks import send_emails

    if ids:
        with turn() if turn is not None else nullcontext():
            send_emails.enqueue(list(ids))


SEND_LEFT_CHUNK = 1000  # ids per send_emails task of send_left_queued


def send_left_queued() -> int:
    """Enqueue the sending of every email queued and never tried; returns how many.

    A worker's drain loop holds the ids of the confirmation emails it queued for up to
    half a minute in a burst (capture/inbox.py, FollowUps) and enqueues their sending
    after: a worker killed meanwhile left them queued with no task to send them. A
    starting worker runs this (capture/apps.py). Safe with other workers running: each
    row is claimed before it is sent, so none goes twice. A queued email that was tried
    waits for its retry's own task (its back-off), so it is left alone.
    """
    ids = list(
        OutboundEmail.objects.filter(status=Status.QUEUED, attempts=0)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for start in range(0, len(ids), SEND_LEFT_CHUNK):
        send_queued(ids[start : start + SEND_LEFT_CHUNK])
    return len(ids)


def send_marketing_email(
    *, person: Person, subject: str, body: str, base_url: str = ""
) -> OutboundEmail:
    """Queue a marketing email to the person's primary address.

    Whether it may go is decided when it is sent (consent granted, address not
    suppressed), so a later unsubscribe still stops it.
    """
    return queue_email(
        kind="marketing",
        to=person.email,
        subject=subject,
        context={"body": body, "base_url": base_url},
        person=person,
    )


def _from_domain() -> str:
    sender = str(settings.DEFAULT_FROM_EMAIL)
    address = sender.rsplit("<", 1)[-1].rstrip(">")
    return address.rsplit("@", 1)[-1] or "localhost"


_NOT_LOOKED_UP: Any = object()


def _blocked_reason(row: OutboundEmail, suppression: Any = _NOT_LOOKED_UP) -> str:
    """Why `row` may not go out ("" when it may); `suppression` when the caller has
    looked the address up already (None: not suppressed)."""
    if suppression is _NOT_LOOKED_UP:
        suppression = consents.suppression_for(row.to)
    if row.kind in MARKETING_KINDS:
        if suppression is not None:
            return f"Address suppressed ({suppression.reason})."
        if row.person is None or not consents.may_send_marketing(row.person):
            return "No granted marketing consent."
        return ""
    if consents.blocks_all_email(suppression):
        assert suppression is not None
        return f"Address suppressed ({suppression.reason})."
    return ""


def confirmation_link(context: dict[str, Any]) -> str:
    """The double opt-in link of a queued confirmation email, signed as it is sent.

    (An email queued before the link was signed at sending has it in its
    context already, as `confirm_url`, and keeps it.)
    """
    confirm = context["confirm"]
    return consents.confirmation_url(
        int(confirm["person"]),
        [int(pk) for pk in confirm["consents"]],
        base_url=context.get("base_url", ""),
    )


def _message(
    row: OutboundEmail,
    message_id: str,
    mailer: Any = None,
    templates: dict[str, Any] | None = None,
) -> EmailMessage:
    """The email of a row; `mailer` the connection to send it on, `templates` those of
    a batch looked up so far (kept for the batch only: a changed file is read again)."""
    context = dict(row.context or {})
    headers = {"Message-ID": message_id}
    if row.kind in MARKETING_KINDS and row.person is not None:
        marketing = consents.marketing_headers(row.person, base_url=context.get("base_url", ""))
        headers.update(marketing)
        context["unsubscribe_url"] = marketing["List-Unsubscribe"].split(">", 1)[0].lstrip("<")
    if row.kind == "consent_confirmation" and "confirm_url" not in context:
        context["confirm_url"] = confirmation_link(context)
        # The days the link works from now, as its age is checked: the setting of today,
        # not of the day the email was queued.
        context["expires_days"] = consents.confirmation_max_age().days
    templates = {} if templates is None else templates
    if row.kind not in templates:
        templates[row.kind] = get_template(TEMPLATES[row.kind])
    body = templates[row.kind].render(context)  # as render_to_string does
    return EmailMessage(
        subject=row.subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to],
        headers=headers,
        connection=mailer if mailer is not None else get_connection(fail_silently=False),
    )


def deliver(outbound_id: int) -> str:
    """Send one queued email; returns its status.

    Claimed with a conditional UPDATE, so two workers never send the same row;
    a row already sent or suppressed is left alone.
    """
    claimed = OutboundEmail.objects.filter(
        pk=outbound_id, status__in=[Status.QUEUED, Status.FAILED]
    ).update(status=Status.SENDING)
    row = OutboundEmail.objects.select_related("person").filter(pk=outbound_id).first()
    if row is None:
        return "missing"
    if not claimed:
        return row.status
    reason = _blocked_reason(row)
    if reason:
        row.status, row.last_error = Status.SUPPRESSED, reason
        row.save(update_fields=["status", "last_error"])
        return row.status
    message_id = make_msgid(domain=_from_domain())
    # Counted before the send, so a crash during it still counts. The row is ours
    # (status "sending"), so the count read above is the current one.
    OutboundEmail.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
    row.attempts += 1
    try:
        _message(row, message_id).send()
    except Exception as exc:  # SMTP, DNS, socket, template: all recorded on the row
        log.warning("email %s to %s failed (attempt %s): %s", row.pk, row.to, row.attempts, exc)
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        retry = row.attempts < MAX_ATTEMPTS and _can_defer()
        row.status = Status.QUEUED if retry else Status.FAILED
        row.save(update_fields=["status", "last_error"])
        if retry:
            delay = dt.timedelta(minutes=2**row.attempts)
            transaction.on_commit(partial(_enqueue, row.pk, timezone.now() + delay))
        return row.status
    row.status, row.sent_at, row.message_id = Status.SENT, timezone.now(), message_id
    row.last_error = ""
    row.save(update_fields=["status", "sent_at", "message_id", "last_error"])
    return row.status


def deliver_many(outbound_ids: list[int]) -> dict[str, int]:
    """`deliver` for many queued emails (a drained batch's confirmations): the same
    claim, checks, attempt counts and records, with the writes made together.

    One by one, each email cost three writes of its own (claim, attempt, result); a
    burst's thousands of them then kept SQLite's write lock from the posts and the
    drain. Here: one claim, one attempt count, one write of the results, each in the
    write turn (core/write_turn.py). Counts by status, as `send_emails` returns them.
    """
    ids = sorted({int(i) for i in outbound_ids})
    counts: dict[str, int] = {}
    with write_turn(), transaction.atomic():
        claimable = list(
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk__in=ids, status__in=[Status.QUEUED, Status.FAILED])
            .values_list("pk", flat=True)
        )
        OutboundEmail.objects.filter(pk__in=claimable).update(status=Status.SENDING)
    claimed = set(claimable)
    for status in OutboundEmail.objects.filter(pk__in=set(ids) - claimed).values_list(
        "status", flat=True
    ):
        counts[status] = counts.get(status, 0) + 1
    counts["missing"] = len(ids) - len(claimed) - sum(counts.values())
    if not counts["missing"]:
        del counts["missing"]
    rows = list(OutboundEmail.objects.filter(pk__in=claimed))
    # Only marketing emails read their person (consent, unsubscribe headers): a batch of
    # confirmations builds no person (a sixth of send_emails' CPU in a capture burst).
    prefetch_related_objects([row for row in rows if row.kind in MARKETING_KINDS], "person")
    suppressed = consents.suppressions_for(row.to for row in rows)  # one query, not one each
    blocked, to_send = [], []
    for row in rows:
        reason = _blocked_reason(row, suppressed.get(normalize_email(row.to)))
        if reason:
            row.status, row.last_error = Status.SUPPRESSED, reason
            blocked.append(row)
        else:
            to_send.append(row)
    with write_turn(), transaction.atomic():
        OutboundEmail.objects.bulk_update(blocked, ["status", "last_error"])
        # Counted before the send, so a crash during it still counts.
        OutboundEmail.objects.filter(pk__in=[r.pk for r in to_send]).update(
            attempts=F("attempts") + 1
        )
    done, retries = [], []
    mailer = _Mailer()
    templates: dict[str, Any] = {}
    try:
        domain = _from_domain()
        for row in to_send:
            row.attempts += 1
            message_id = make_msgid(domain=domain)
            try:
                mailer.send(partial(_message, row, message_id, templates=templates))
            except Exception as exc:  # SMTP, DNS, socket, template: all recorded on the row
                log.warning(
                    "email %s to %s failed (attempt %s): %s", row.pk, row.to, row.attempts, exc
                )
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                retry = row.attempts < MAX_ATTEMPTS and _can_defer()
                row.status = Status.QUEUED if retry else Status.FAILED
                if retry:
                    retries.append(row)
            else:
                row.status, row.sent_at, row.message_id = Status.SENT, timezone.now(), message_id
                row.last_error = ""
            done.append(row)
    finally:
        mailer.close()
    with write_turn(), transaction.atomic():
        _write_results(done)
        for row in retries:
            delay = dt.timedelta(minutes=2**row.attempts)
            transaction.on_commit(partial(_enqueue, row.pk, timezone.now() + delay))
    for row in [*blocked, *done]:
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


# Failures of a message on a connection that carried others already, after which it is
# sent once more on a new connection: the server may limit messages per connection, or
# have dropped one kept open (nothing of the message was taken yet, or it could not say).
_RECONNECT_ON = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPRecipientsRefused,
    ConnectionError,
)


class _Mailer:
    """One connection to the mail server for a batch's emails, opened at the first and
    closed at the end (`deliver_many`): a connection each (TCP, greeting, EHLO, QUIT)
    cost more than building and sending the message. A failed send closes it, so the
    next email starts on a new one, as each did before."""

    def __init__(self) -> None:
        self.connection: Any = None
        self.carried = 0  # messages sent on the open connection

    def send(self, build: Callable[[Any], EmailMessage]) -> None:
        if self.connection is None:
            opening = get_connection(fail_silently=False)
            opening.open()
            self.connection, self.carried = opening, 0
        try:
            self.connection.send_messages([build(self.connection)])
        except _RECONNECT_ON:
            if not self.carried:
                self.close()
                raise
            self.close()
            self.send(build)
            return
        except Exception:
            self.close()
            raise
        self.carried += 1

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # a connection already broken: nothing left to close
                log.debug("closing the mail connection failed", exc_info=True)


def _write_results(rows: list[OutboundEmail]) -> None:
    """Each row's status, sent_at, message_id and last_error: one UPDATE statement run
    for all the rows (`bulk_update` builds a CASE per column and row, which cost more
    than the sending itself on a burst's confirmations)."""
    if not rows:
        return
    meta = OutboundEmail._meta
    q = connection.ops.quote_name
    sent_at = meta.get_field("sent_at")
    sql = (
        f"UPDATE {q(meta.db_table)} SET {q('status')} = %s, {q('sent_at')} = %s, "  # noqa: S608
        f"{q('message_id')} = %s, {q('last_error')} = %s WHERE {q('id')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (
                    row.status,
                    sent_at.get_db_prep_save(row.sent_at, connection),
                    row.message_id,
                    row.last_error,
                    row.pk,
                )
                for row in rows
            ],
        )


def _can_defer() -> bool:
    from tandem.capture.tasks import send_email

    return bool(send_email.get_backend().supports_defer)

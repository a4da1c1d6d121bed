"""Email through a real SMTP server (aiosmtpd): sent by a task after the commit, every
attempt recorded, suppressed addresses skipped, marketing email with one-click unsubscribe."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from tandem.capture import consent as consents
from tandem.capture import webforms
from tandem.capture.demo import ensure_demo_guide_form
from tandem.capture.email import (
    confirmation_link,
    deliver_many,
    queue_emails,
    send_marketing_email,
)
from tandem.capture.models import Consent, ConsentStatus, OutboundEmail, WebForm
from tandem.people.models import Person
from tests.mailbox import free_port, plain_body, smtp_server

T0 = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def smtp(settings):
    with smtp_server(settings) as inbox:
        yield inbox


@pytest.fixture
def guide(system, marketer) -> WebForm:
    form = ensure_demo_guide_form(system)
    marketer.email = "mia@example.com"
    marketer.save()
    webforms.update_form(actor=system, form=form, data={"notify": [marketer]})
    return form


@pytest.fixture
def public() -> Client:
    return Client(enforce_csrf_checks=True)


def sign_up(client, form, email_address="ada@example.com"):
    return client.post(
        f"/f/{form.key}",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": email_address,
            "consent_newsletter": "yes",
        },
    )


def test_the_confirmation_email_arrives_after_the_commit_and_its_link_grants_consent(
    smtp, public, guide, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert sign_up(public, guide).status_code == 303
    assert smtp.messages == []  # nothing is sent inside the request
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"queued"}
    for callback in callbacks:
        callback()

    [confirmation] = smtp.to("ada@example.com")
    assert "Please confirm" in confirmation["Subject"]
    link = re.search(r"https?://\S+/consent/confirm/\S+", plain_body(confirmation))
    assert link is not None
    row = OutboundEmail.objects.get(kind="consent_confirmation")
    assert (row.status, row.attempts) == ("sent", 1)
    assert row.sent_at is not None and row.message_id == confirmation["Message-ID"]

    path = link.group(0).split("testserver", 1)[1]
    assert public.post(path).status_code == 200
    assert Consent.objects.get().status == ConsentStatus.GRANTED


def test_a_confirmation_email_sent_late_carries_a_link_valid_for_its_days_from_the_sending(
    smtp, public, guide, django_capture_on_commit_callbacks, time_machine
):
    # Queued at sign-up, sent ten days later (a worker or a mail server down that long):
    # the link is signed as it goes out, so the person has the days the email promises.
    sent_at = T0 + dt.timedelta(days=10)
    time_machine.move_to(T0, tick=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert sign_up(public, guide).status_code == 303
    row = OutboundEmail.objects.get(kind="consent_confirmation")
    assert "confirm_url" not in row.context  # nothing signed while the lead was captured
    time_machine.move_to(sent_at, tick=False)
    for callback in callbacks:
        callback()
    [confirmation] = smtp.to("ada@example.com")
    days = consents.confirmation_max_age().days
    assert f"{days} days" in plain_body(confirmation)
    path = re.search(r"/consent/confirm/\S+", plain_body(confirmation)).group(0)

    time_machine.move_to(sent_at + dt.timedelta(days=days, hours=1), tick=False)
    expired = public.post(path)
    assert expired.status_code == 400 and b"expired" in expired.content
    assert Consent.objects.get().status == ConsentStatus.PENDING

    time_machine.move_to(sent_at + dt.timedelta(days=days - 1), tick=False)
    assert public.post(path).status_code == 200
    assert Consent.objects.get().status == ConsentStatus.GRANTED


def test_a_confirmation_email_states_the_days_its_link_works_as_sent(
    smtp, public, guide, settings, django_capture_on_commit_callbacks
):
    # Queued while links lasted 14 days, sent after the admin made it 7: the email says 7,
    # as the link is checked against 7 days from its sending.
    settings.TANDEM_CONSENT_CONFIRM_DAYS = 14
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sign_up(public, guide)
    settings.TANDEM_CONSENT_CONFIRM_DAYS = 7
    for callback in callbacks:
        callback()
    text = plain_body(smtp.to("ada@example.com")[0])
    assert "The link works for 7 days" in text


def test_an_email_queued_with_its_link_signed_already_keeps_that_link(
    smtp, public, guide, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        sign_up(public, guide)
    row = OutboundEmail.objects.get(kind="consent_confirmation")
    signed = confirmation_link(row.context)
    row.context = {k: v for k, v in row.context.items() if k != "confirm"}
    row.context["confirm_url"] = signed  # as rows queued before the sending signed it
    row.save(update_fields=["context"])
    deliver_many([row.pk])
    assert signed in plain_body(smtp.to("ada@example.com")[0])


def test_the_form_notifies_its_people_on_each_submission(
    smtp, public, guide, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(public, guide)
    [note] = smtp.to("mia@example.com")
    assert "Ada Lovelace" in note["Subject"]
    text = plain_body(note)
    assert "ada@example.com" in text and f"/people/{Person.objects.get().pk}/" in text


def test_a_marketing_email_carries_one_click_unsubscribe_headers_that_work(
    smtp, public, guide, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(public, guide)
    link = re.search(r"/consent/confirm/\S+", plain_body(smtp.to("ada@example.com")[0])).group(0)
    public.post(link)
    person = Person.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        send_marketing_email(
            person=person,
            subject="March news",
            body="Our new guide is out.",
            base_url="https://crm.example.com",
        )
    news = smtp.to("ada@example.com")[-1]
    assert news["Subject"] == "March news"
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.match(r"<(https://crm\.example\.com(/u/\S+))>", news["List-Unsubscribe"].strip())
    assert url is not None
    assert url.group(1) in plain_body(news)

    # The mail provider's one-click POST: no cookie, no CSRF token.
    response = public.post(
        url.group(2), "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert not consents.may_send_marketing(person)


def test_a_batch_sends_marketing_only_with_consent_and_with_its_unsubscribe_headers(
    smtp, public, guide, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(public, guide)
        sign_up(public, guide, "bob@example.com")
    link = re.search(r"/consent/confirm/\S+", plain_body(smtp.to("ada@example.com")[0])).group(0)
    public.post(link)  # Ada confirms; Bob does not
    people = {p.email: p for p in Person.objects.all()}
    with django_capture_on_commit_callbacks(execute=False):  # sent below, as one batch
        rows = [
            send_marketing_email(person=people[address], subject="April news", body="Out now.")
            for address in ("ada@example.com", "bob@example.com")
        ]

    assert deliver_many([row.pk for row in rows]) == {"sent": 1, "suppressed": 1}
    [news] = [m for m in smtp.to("ada@example.com") if m["Subject"] == "April news"]
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert [m for m in smtp.to("bob@example.com") if m["Subject"] == "April news"] == []
    assert OutboundEmail.objects.get(pk=rows[1].pk).last_error == "No granted marketing consent."


def test_marketing_email_waits_for_confirmed_consent(
    smtp, public, guide, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(public, guide)
        person = Person.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        row = send_marketing_email(person=person, subject="Too early", body="...")
    row.refresh_from_db()
    assert row.status == "suppressed" and row.attempts == 0
    assert [m["Subject"] for m in smtp.to("ada@example.com") if m["Subject"] == "Too early"] == []


def test_a_bounced_address_gets_no_email_at_all(
    smtp, public, guide, django_capture_on_commit_callbacks
):
    consents.suppress(email="ada@example.com", reason="bounced")
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(public, guide)
    row = OutboundEmail.objects.get(kind="consent_confirmation")
    assert row.status == "suppressed" and "bounced" in row.last_error
    assert smtp.to("ada@example.com") == []
    assert len(smtp.to("mia@example.com")) == 1  # the team is still told


def test_a_failed_send_is_recorded_with_its_error(
    settings, public, guide, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.EMAIL_TIMEOUT = 5
    with django_capture_on_commit_callbacks(execute=True):
        assert sign_up(public, guide).status_code == 303  # the visitor is not affected
    row = OutboundEmail.objects.get(kind="consent_confirmation")
    assert row.status == "failed" and row.attempts == 1
    assert "Connection" in row.last_error or "refused" in row.last_error.lower()
    assert Person.objects.count() == 1


def notifications(count: int) -> list[OutboundEmail]:
    return queue_emails(
        [
            {
                "kind": "form_notification",
                "to": f"team{n}@example.com",
                "subject": f"New submission {n}",
                "context": {"form_name": "Guide", "person_name": f"Person {n}", "fields": []},
            }
            for n in range(count)
        ]
    )


def test_a_batch_reaches_a_server_that_takes_few_messages_per_connection_each_once(
    db, smtp, django_capture_on_commit_callbacks
):
    smtp.per_connection = 2  # then "421": a new connection goes on with the rest
    with django_capture_on_commit_callbacks(execute=False):
        rows = notifications(5)

    assert deliver_many([row.pk for row in rows]) == {"sent": 5}
    for n in range(5):
        [message] = smtp.to(f"team{n}@example.com")
        assert message["Subject"] == f"New submission {n}"
        assert f"Person {n}" in plain_body(message)
    assert {(r.status, r.attempts) for r in OutboundEmail.objects.all()} == {("sent", 1)}


def test_a_batch_refused_by_the_server_records_each_email_as_failed_once(
    db, smtp, django_capture_on_commit_callbacks
):
    smtp.refuse = True
    with django_capture_on_commit_callbacks(execute=False):
        rows = notifications(3)

    assert deliver_many([row.pk for row in rows]) == {"failed": 3}  # no deferral: failed
    assert smtp.messages == []
    for row in OutboundEmail.objects.all():
        assert (row.status, row.attempts) == ("failed", 1)
        assert "451" in row.last_error

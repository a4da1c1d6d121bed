"""Double opt-in emails: one per address per form in a window, and a link that only
confirms when the person presses the button (mail scanners fetch links; they do not post)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client

from tandem.campaigns.models import Touchpoint
from tandem.capture import email as emails
from tandem.capture import webforms
from tandem.capture.models import (
    Consent,
    ConsentEvent,
    ConsentStatus,
    OutboundEmail,
)
from tandem.people.models import Person

LINK = re.compile(r"/consent/confirm/[^\s]+")
T0 = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def memory_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TANDEM_CONFIRM_EMAIL_WINDOW_MINUTES = 60


@pytest.fixture
def public() -> Client:
    return Client(enforce_csrf_checks=True)


def sign_up(client, form, email="stranger@example.com", ip="203.0.113.7"):
    data = {"first_name": "Ada", "last_name": "L", "email": email, "consent_newsletter": "yes"}
    return client.post(f"/f/{form.key}", data, REMOTE_ADDR=ip)


def confirmations_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address] and "Please confirm" in m.subject]


def test_five_sign_ups_with_a_strangers_address_send_one_email_and_keep_five_touchpoints(
    public, guide, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(T0, tick=False)
    for i in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            assert sign_up(public, guide, ip=f"203.0.113.{i}").status_code == 303
        time_machine.shift(dt.timedelta(minutes=5))

    assert len(confirmations_to("stranger@example.com")) == 1
    assert OutboundEmail.objects.filter(kind="consent_confirmation").count() == 1
    person = Person.objects.get()
    assert Touchpoint.objects.filter(person=person).count() == 5
    assert ConsentEvent.objects.filter(action="requested").count() == 5


def test_the_address_is_compared_normalised_and_per_form(
    public, guide, system, django_capture_on_commit_callbacks
):
    other = webforms.create_form(
        actor=system,
        data={
            "name": "Webinar",
            "key": "webinar",
            "consents": [{"purpose": "newsletter", "text": "Send me the newsletter."}],
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(public, guide, email="Stranger@Example.com")
        sign_up(public, guide, email="stranger@example.com ")
        sign_up(public, other, email="stranger@example.com")

    assert OutboundEmail.objects.filter(kind="consent_confirmation").count() == 2


def test_after_the_window_a_new_sign_up_gets_a_new_email(
    public, guide, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(T0, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(public, guide)
    time_machine.shift(dt.timedelta(minutes=61))
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(public, guide)

    assert len(confirmations_to("stranger@example.com")) == 2


def test_a_batch_is_decided_in_one_call_one_email_per_address_and_form(guide, db):
    pairs = [("a@example.com", guide.pk), ("A@example.com", guide.pk), ("b@example.com", guide.pk)]

    first = emails.claim_confirmation_emails(pairs, now=T0)
    again = emails.claim_confirmation_emails(pairs, now=T0 + dt.timedelta(minutes=30))
    later = emails.claim_confirmation_emails(pairs, now=T0 + dt.timedelta(minutes=61))

    assert len(first) == 2 and {a.lower() for a, _ in first} == {"a@example.com", "b@example.com"}
    assert again == set()
    assert len(later) == 2


def test_following_the_link_shows_a_button_and_confirms_nothing(
    public, guide, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(public, guide)
    path = LINK.search(mail.outbox[-1].body).group(0)

    scanner = Client()
    for _ in range(3):  # what a mail scanner does: fetch the link, maybe more than once
        page = scanner.get(path)
        assert page.status_code == 200
        assert re.search(r'<form method="post"', page.text)
        assert "you are confirmed" not in page.text
    assert scanner.head(path).status_code == 200

    consent = Consent.objects.get()
    assert consent.status == ConsentStatus.PENDING
    assert not ConsentEvent.objects.filter(action="confirmed").exists()

    done = public.post(path)
    assert done.status_code == 200 and "you are confirmed" in done.text
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.GRANTED


def test_the_inbox_drain_sends_one_email_for_five_waiting_sign_ups(
    public, guide, settings, django_capture_on_commit_callbacks
):
    """With a worker (not inline capture) the five wait in the inbox and are drained together."""
    from tandem.capture import inbox

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    for i in range(5):
        assert sign_up(public, guide, ip=f"203.0.113.{i}").status_code == 303
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        assert inbox.drain().captured == 5

    assert OutboundEmail.objects.filter(kind="consent_confirmation").count() == 1
    assert Touchpoint.objects.count() == 5

"""Consent per purpose with proof, double opt-in links, suppression and one-click unsubscribe."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client

from tandem.capture import consent as consents
from tandem.capture import webforms
from tandem.capture.models import (
    Consent,
    ConsentEvent,
    ConsentStatus,
    ConsentText,
    OutboundEmail,
    Suppression,
)
from tandem.people.models import Person

LINK = re.compile(r"/consent/confirm/[^\s]+")


@pytest.fixture(autouse=True)
def memory_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def public() -> Client:
    return Client(enforce_csrf_checks=True)


def sign_up(client, form, email="ada@example.com", **extra):
    data = {"first_name": "Ada", "last_name": "L", "email": email, "consent_newsletter": "yes"}
    return client.post(
        f"/f/{form.key}",
        {**data, **extra},
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="Firefox/140",
    )


def confirm_path(django_capture_on_commit_callbacks, client, form, **kw) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        assert sign_up(client, form, **kw).status_code == 303
    return LINK.search(mail.outbox[-1].body).group(0)


def test_double_opt_in_keeps_consent_pending_with_proof_until_the_link_is_followed(
    public, guide, django_capture_on_commit_callbacks
):
    path = confirm_path(django_capture_on_commit_callbacks, public, guide)
    person = Person.objects.get()
    consent = Consent.objects.get(person=person)
    assert consent.status == ConsentStatus.PENDING
    requested = consent.events.get()
    assert requested.action == "requested"
    assert requested.text == guide.consent_texts.get()
    assert (requested.form, requested.ip, requested.user_agent, requested.method) == (
        guide,
        "203.0.113.7",
        "Firefox/140",
        "form",
    )
    assert not consents.may_send_marketing(person)

    page = public.post(path, REMOTE_ADDR="198.51.100.1")
    assert page.status_code == 200 and "you are confirmed" in page.text
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.GRANTED
    confirmed = consent.events.first()
    assert (confirmed.action, confirmed.method, confirmed.ip) == (
        "confirmed",
        "email_link",
        "198.51.100.1",
    )
    assert consents.may_send_marketing(person)


def test_following_the_link_twice_changes_nothing_more(
    public, guide, django_capture_on_commit_callbacks
):
    path = confirm_path(django_capture_on_commit_callbacks, public, guide)
    public.post(path)
    public.post(path)
    assert ConsentEvent.objects.filter(action="confirmed").count() == 1


def test_without_double_opt_in_consent_is_granted_at_once(public, guide, system):
    webforms.update_form(actor=system, form=guide, data={"double_opt_in": False})
    sign_up(public, guide)
    consent = Consent.objects.get()
    assert consent.status == ConsentStatus.GRANTED
    assert consent.events.get().action == "granted"
    assert OutboundEmail.objects.filter(kind="consent_confirmation").count() == 0


def test_an_expired_confirmation_link_says_so_and_grants_nothing(
    public, guide, django_capture_on_commit_callbacks, time_machine
):
    time_machine.move_to(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), tick=False)
    path = confirm_path(django_capture_on_commit_callbacks, public, guide)
    time_machine.move_to(dt.datetime(2026, 1, 16, tzinfo=dt.UTC), tick=False)
    page = public.get(path)
    assert page.status_code == 400 and "expired" in page.text
    assert Consent.objects.get().status == ConsentStatus.PENDING


def test_a_tampered_confirmation_link_grants_nothing(
    public, guide, django_capture_on_commit_callbacks
):
    path = confirm_path(django_capture_on_commit_callbacks, public, guide)
    page = public.get(path[:-3] + "abc")
    assert page.status_code == 400
    assert Consent.objects.get().status == ConsentStatus.PENDING


def test_a_changed_consent_text_is_a_new_version_and_old_proof_keeps_the_old_words(
    public, guide, system
):
    sign_up(public, guide, email="first@example.com")
    old = guide.consent_texts.get()
    webforms.update_form(
        actor=system,
        form=guide,
        data={"consents": [{"purpose": "newsletter", "text": "New words for the newsletter."}]},
    )
    new = guide.consent_texts.get()
    assert (old.version, new.version) == (1, 2)
    assert ConsentText.objects.get(pk=old.pk).text == old.text  # never edited in place
    sign_up(public, guide, email="second@example.com")
    texts = dict(ConsentEvent.objects.values_list("consent__person__email", "text__version"))
    assert texts == {"first@example.com": 1, "second@example.com": 2}


def test_signing_up_again_does_not_demote_a_confirmed_subscriber(
    public, guide, django_capture_on_commit_callbacks
):
    path = confirm_path(django_capture_on_commit_callbacks, public, guide)
    public.post(path)
    sign_up(public, guide)
    consent = Consent.objects.get()
    assert consent.status == ConsentStatus.GRANTED
    assert consent.events.first().action == "granted"


# --- unsubscribe -----------------------------------------------------------------------------


@pytest.fixture
def subscriber(public, guide, django_capture_on_commit_callbacks) -> Person:
    public.post(confirm_path(django_capture_on_commit_callbacks, public, guide))
    return Person.objects.get()


def test_the_unsubscribe_link_asks_first_so_link_scanners_unsubscribe_nobody(public, subscriber):
    path = consents.unsubscribe_url(subscriber, base_url="")
    page = public.get(path)
    assert page.status_code == 200
    assert 'method="post"' in page.text and "ada@example.com" in page.text
    assert consents.may_send_marketing(subscriber)


def test_one_click_unsubscribe_works_without_login_or_csrf_token(public, subscriber):
    path = consents.unsubscribe_url(subscriber)
    path = path[path.index("/u/") :]
    response = public.post(
        path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert Suppression.objects.get().reason == "unsubscribed"
    consent = Consent.objects.get()
    assert consent.status == ConsentStatus.WITHDRAWN
    assert consent.events.first().method == "unsubscribe"
    assert not consents.may_send_marketing(subscriber)
    assert public.post(path).status_code == 200  # twice is fine
    assert Suppression.objects.count() == 1


def test_a_forged_unsubscribe_link_is_refused(public, subscriber):
    assert public.post("/u/not-a-token").status_code == 400
    assert Suppression.objects.count() == 0


def test_marketing_headers_offer_one_click_unsubscribe(subscriber, settings):
    settings.TANDEM_BASE_URL = "https://crm.example.com"
    settings.TANDEM_UNSUBSCRIBE_MAILTO = "unsubscribe@example.com"
    headers = consents.marketing_headers(subscriber)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = headers["List-Unsubscribe"].split(", ")
    assert https.startswith("<https://crm.example.com/u/") and https.endswith(">")
    assert mailto.startswith("<mailto:unsubscribe@example.com?subject=")


# --- suppression ------------------------------------------------------------------------------


def test_a_bounced_address_is_suppressed_and_gets_no_marketing(subscriber):
    consents.suppress(email=" ADA@example.com ", reason="bounced")
    assert not consents.may_send_marketing(subscriber)
    assert Suppression.objects.get().email_normalized == "ada@example.com"


def test_suppress_is_idempotent_and_a_bounce_is_not_softened_by_an_unsubscribe(db):
    consents.suppress(email="x@example.com", reason="bounced")
    consents.suppress(email="x@example.com", reason="unsubscribed")
    assert list(Suppression.objects.values_list("reason", flat=True)) == ["bounced"]


def test_suppress_names_a_bad_reason(db):
    with pytest.raises(Exception, match="reason"):
        consents.suppress(email="x@example.com", reason="bored")


def test_confirming_a_new_sign_up_lifts_an_earlier_unsubscribe(
    public, guide, subscriber, django_capture_on_commit_callbacks
):
    path = consents.unsubscribe_url(subscriber)
    public.post(path[path.index("/u/") :])
    assert not consents.may_send_marketing(subscriber)
    public.post(confirm_path(django_capture_on_commit_callbacks, public, guide))
    assert Suppression.objects.count() == 0
    assert consents.may_send_marketing(subscriber)

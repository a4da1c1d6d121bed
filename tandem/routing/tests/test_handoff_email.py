"""A send-back reaches marketing by email too (issue 20 point 9), over a real SMTP server."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.notifications.tests.conftest import plain_body, smtp  # noqa: F401 (the fixture)
from tandem.routing import handoffs
from tandem.routing.tests.handoff_factories import campaign, routed_lead, touch

pytestmark = pytest.mark.django_db


def test_the_campaign_owner_gets_an_email_after_the_send_back_commits(
    smtp,  # noqa: F811
    salesperson,
    marketer,
    django_capture_on_commit_callbacks,
):
    marketer.email = "mia@example.com"
    marketer.save()
    now = timezone.now()
    guide = campaign("Pricing guide", owner=marketer)
    person, _ = routed_lead(salesperson, last_name="Lovelace", routed_at=now)
    touch(person, guide, now - dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        handoffs.send_back_handoff(
            actor=Actor.for_user(salesperson),
            person=person,
            reason="not_decision_maker",
            note="The CFO signs.",
        )
    [message] = smtp.to("mia@example.com")
    assert message["Subject"] == "[Tandem] Lovelace sent back: Not the decision maker"
    text = plain_body(message)
    assert "Sam Sales sent Lovelace back: Not the decision maker." in text
    assert "The CFO signs." in text

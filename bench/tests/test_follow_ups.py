"""bench.follow_ups captures new leads holding their follow-ups, then runs the duplicate
check and the sending on them in slices, as the worker's tasks do."""

from __future__ import annotations

import pytest

from bench.follow_ups import captured_follow_ups, time_follow_ups
from tandem.capture.models import OutboundEmail
from tandem.people.models import Person
from tests.mailbox import smtp_server


@pytest.mark.django_db(transaction=True)
def test_the_leads_follow_ups_are_held_then_run_in_slices(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # an inbox
    with smtp_server(settings) as inbox:
        people, emails = captured_follow_ups(12)
        assert sorted(people) == sorted(Person.objects.values_list("id", flat=True))
        assert len(emails) == 12 and inbox.messages == []  # held, not sent

        check, sending = time_follow_ups(people, emails, batch=5)

    assert (check.people, check.tasks) == (12, 3)
    assert (sending.people, sending.tasks, sending.result) == (12, 3, {"sent": 12})
    assert len(inbox.messages) == 12
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}

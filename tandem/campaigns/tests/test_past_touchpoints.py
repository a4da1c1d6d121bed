"""`record_past_touchpoints`: many touchpoints from the past, in one INSERT, dated then."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tandem.campaigns.models import Touchpoint
from tandem.campaigns.services import build_touchpoint, create_campaign, record_past_touchpoints
from tandem.people.services import create_person

pytestmark = pytest.mark.django_db


def test_past_touchpoints_are_written_at_once_and_dated_when_they_occurred(system):
    ada = create_person(actor=system, data={"last_name": "Lovelace"})
    webinar = create_campaign(actor=system, name="Spring webinar", kind="webinar")
    when = [dt.datetime(2025, 4, d, 15, tzinfo=dt.UTC) for d in range(1, 21)]
    built = [
        build_touchpoint(person_id=ada.pk, kind="event_visit", occurred_at=at, campaign=webinar)
        for at in when
    ]
    with CaptureQueriesContext(connection) as one:
        record_past_touchpoints(built[:1])
    with CaptureQueriesContext(connection) as many:
        record_past_touchpoints(built[1:])
    # As many statements for 19 as for 1 (on PostgreSQL the multi-row INSERT goes
    # through the driver's own cursor, which Django's query log does not see).
    assert len(many.captured_queries) <= len(one.captured_queries) <= 2
    rows = Touchpoint.objects.filter(person=ada).order_by("occurred_at")
    assert [(t.occurred_at, t.created_at, t.campaign_id) for t in rows] == [
        (at, at, webinar.pk) for at in when
    ]

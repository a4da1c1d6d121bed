"""The inbox is a hot page: its queries do not grow with its leads (STYLE.md, Reads)."""

from __future__ import annotations

import datetime as dt

import pytest

from tandem.people import services as people
from tandem.routing.tests.handoff_factories import SYSTEM, campaign, routed_lead, touch
from tandem.scoring.tests.factories import active_rules, fit

# session, the signed-in user
AUTH = 2
# + the counts of waiting and overdue leads (one aggregate, over every page),
#   the open hand-offs joined to their people, companies and stored scores, the latest
#   touchpoints per person (one window query, with their campaigns), the latest
#   activities per person (one window query), the send-back reasons (read once for every
#   card's form); a salesperson has no inbox switch, so no users are read for it
INBOX = AUTH + 5


@pytest.mark.parametrize("rows", [1, 25])
def test_my_leads_queries_do_not_grow_with_leads(
    client, salesperson, rows, django_assert_num_queries, django_capture_on_commit_callbacks
):
    active_rules([fit("title", "contains", "Head", 10)])
    guide = campaign("Guide download")
    for i in range(rows):
        person, h = routed_lead(salesperson, last_name=f"Lead{i:02d}")
        with django_capture_on_commit_callbacks(execute=True):  # scored
            people.update_person(actor=SYSTEM, person=person, data={"title": "Head of IT"})
        touch(person, guide, h.routed_at - dt.timedelta(days=1))
        people.log_activity(actor=SYSTEM, kind="call", person=person, body="Voicemail.")
    client.force_login(salesperson)
    with django_assert_num_queries(INBOX):
        response = client.get("/leads/")
    html = response.content.decode()
    assert html.count('class="card lead') == rows
    assert html.count("Guide download") == rows and html.count("Voicemail.") == rows
    assert html.count('<span class="score-total">10</span>') == rows

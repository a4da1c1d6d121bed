"""The revenue bench data: its SQL still fits the models, and the data keeps its promises."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.db.models import Max, Min

from bench.revenue_data import MANAGER, PASSWORD, _fill_rows
from tandem.accounts.models import User
from tandem.campaigns.models import Campaign, CampaignCost, Touchpoint
from tandem.deals.models import Deal, DealContact, DealStageChange
from tandem.people.models import Person, StageChange

pytestmark = pytest.mark.django_db

PEOPLE, TOUCHES, DEALS = 1200, 6000, 100


@pytest.fixture
def filled():
    _fill_rows(PEOPLE, TOUCHES, DEALS, verbose=False)


def test_counts_and_the_manager_signs_in(filled):
    assert Person.objects.count() == PEOPLE and Touchpoint.objects.count() == TOUCHES
    assert Deal.objects.count() == DEALS and Campaign.objects.count() == 198
    assert CampaignCost.objects.count() == 180 * 6
    assert 2.5 <= StageChange.objects.count() / PEOPLE <= 4
    assert User.objects.get(username=MANAGER).check_password(PASSWORD)
    statuses = Counter(Deal.objects.values_list("status", flat=True))
    assert set(statuses) == {"open", "won", "lost"}
    kinds = set(Touchpoint.objects.values_list("kind", flat=True))
    assert {"booth_scan", "event_visit", "call", "meeting", "sales_sourced"} <= kinds
    assert {"form_fill", "page_visit", "email_click"} <= kinds


def test_deals_come_after_their_contacts_touches_and_people_end_where_their_history_does(
    filled,
):
    for deal in Deal.objects.prefetch_related("contacts__person"):
        people = [c.person for c in deal.contacts.all()]
        assert 1 <= len(people) <= 3
        assert {p.company_id for p in people} == {deal.company_id}
        last = Touchpoint.objects.filter(person__in=people).aggregate(m=Max("occurred_at"))["m"]
        assert last is None or last < deal.created_at
        if deal.closed_at:
            assert deal.closed_at > deal.created_at
        if deal.status == "won":
            assert {p.stage for p in people} == {"customer"}
    assert DealContact.objects.filter(is_primary=True).count() == DEALS
    closes = DealStageChange.objects.exclude(to_status="open").count()
    assert closes == Deal.objects.exclude(status="open").count()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT COUNT(*) FROM people_person p WHERE p.stage <> (SELECT s.to_stage
               FROM people_stagechange s WHERE s.person_id = p.id
               ORDER BY s.changed_at DESC, s.id DESC LIMIT 1)"""
        )
        assert cursor.fetchone()[0] == 0
    first = Touchpoint.objects.values("person_id").annotate(first=Min("occurred_at"))
    created = dict(Person.objects.values_list("pk", "created_at"))
    assert all(row["first"] >= created[row["person_id"]] for row in first)

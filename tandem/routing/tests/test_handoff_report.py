"""The send-back report (issue 20 point 8, J3): counts by reason × campaign, source and
segment for a period, each linking to exactly those people on the people list."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.people import services as people
from tandem.routing import handoffs
from tandem.routing.tests.handoff_factories import SYSTEM, campaign, routed_lead, touch

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def sent_back(salesperson):
    """Six people sent back in November, one in August, from two campaigns and none."""
    guide, webinar = campaign("Guide download"), campaign("Q4 webinar")
    acme = people.create_company(
        actor=SYSTEM, data={"name": "Acme", "industry": "Software", "size": "51-200"}
    )
    sam = Actor.for_user(salesperson)
    made = {}

    def one(name, reason, camp, *, source="web", company=None, when=NOW, later_campaign=None):
        with time_machine.travel(when - dt.timedelta(days=1), tick=False):
            person, _ = routed_lead(salesperson, last_name=name, source=source)
            if company is not None:
                people.update_person(actor=SYSTEM, person=person, data={"company": company})
            if camp is not None:
                touch(person, camp, when - dt.timedelta(days=3))
        if later_campaign is not None:  # after the routing: does not move the credit
            touch(person, later_campaign, when)
        with time_machine.travel(when, tick=False):
            handoffs.send_back_handoff(actor=sam, person=person, reason=reason)
        made[name] = person

    one("Ada", "not_decision_maker", guide, company=acme)
    one("Bea", "not_decision_maker", guide, company=acme, later_campaign=webinar)
    one("Cem", "not_decision_maker", webinar, source="trade show")
    one("Dov", "no_budget", guide)
    one("Eli", "no_budget", None, source="")
    one("Fay", "spam", webinar, source="trade show")
    one("Old", "not_decision_maker", guide, when=NOW - dt.timedelta(days=100))
    return {"people": made, "guide": guide, "webinar": webinar}


def _rows(body):
    return {row["label"]: {c["reason"]: c["count"] for c in row["counts"]} for row in body["rows"]}


def test_counts_by_campaign_in_the_period(client, marketer, sent_back):
    client.force_login(marketer)
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/reports/send-backs?from=2026-11-01&to=2026-11-30").json()
    assert (body["group_by"], body["from"], body["to"]) == ("campaign", "2026-11-01", "2026-11-30")
    assert _rows(body) == {
        "Guide download": {"not_decision_maker": 2, "no_budget": 1},
        "Q4 webinar": {"not_decision_maker": 1, "spam": 1},
        "No campaign": {"no_budget": 1},
    }
    assert body["total"] == 6
    assert {c["reason"]: c["count"] for c in body["totals"]} == {
        "not_decision_maker": 3,
        "no_budget": 2,
        "spam": 1,
    }
    assert [r["key"] for r in body["reasons"]][:2] == ["not_decision_maker", "no_budget"]


def test_the_default_period_is_the_last_90_days(client, marketer, sent_back):
    client.force_login(marketer)
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/reports/send-backs").json()
    assert body["total"] == 6  # "Old" was 100 days ago
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/reports/send-backs?from=2026-08-01").json()
    assert body["total"] == 7


def test_counts_by_source_and_by_segment(client, marketer, sent_back):
    client.force_login(marketer)
    with time_machine.travel(NOW, tick=False):
        source = client.get("/api/v1/reports/send-backs?group_by=source").json()
        segment = client.get("/api/v1/reports/send-backs?group_by=segment").json()
    assert _rows(source) == {
        "web": {"not_decision_maker": 2, "no_budget": 1},
        "trade show": {"not_decision_maker": 1, "spam": 1},
        "No source": {"no_budget": 1},
    }
    assert _rows(segment) == {
        "Software · 51–200": {"not_decision_maker": 2},
        "No industry · size unknown": {"not_decision_maker": 1, "no_budget": 2, "spam": 1},
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("group_by=owner", "group_by"),
        ("from=yesterday", "from"),
        ("from=2026-12-01&to=2026-11-01", "from"),
    ],
)
def test_a_bad_report_query_names_the_parameter(client, marketer, query, field):
    client.force_login(marketer)
    response = client.get(f"/api/v1/reports/send-backs?{query}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == field


def _names_at(client, url: str) -> set[str]:
    """The people the people API lists for the report link's filter."""
    query = parse_qs(urlsplit(url).query)
    response = client.get("/api/v1/people", {"sent_back_reason": query["sent_back_reason"][0]})
    assert response.status_code == 200, response.content
    return {p["last_name"] for p in response.json()["items"]}


def test_each_count_links_to_exactly_those_people(client, marketer, sent_back):
    client.force_login(marketer)
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/reports/send-backs?from=2026-11-01&to=2026-11-30").json()
        by_label = {row["label"]: row for row in body["rows"]}
        guide = {c["reason"]: c for c in by_label["Guide download"]["counts"]}
        assert _names_at(client, guide["not_decision_maker"]["people_url"]) == {"Ada", "Bea"}
        none = {c["reason"]: c for c in by_label["No campaign"]["counts"]}
        assert _names_at(client, none["no_budget"]["people_url"]) == {"Eli"}
        totals = {c["reason"]: c for c in body["totals"]}
        assert _names_at(client, totals["not_decision_maker"]["people_url"]) == {
            "Ada",
            "Bea",
            "Cem",
        }  # not "Old": outside the period
        segment = client.get("/api/v1/reports/send-backs?group_by=segment").json()
        soft = next(r for r in segment["rows"] if r["label"].startswith("Software"))
        assert _names_at(client, soft["counts"][0]["people_url"]) == {"Ada", "Bea"}
        source = client.get("/api/v1/reports/send-backs?group_by=source").json()
        show = next(r for r in source["rows"] if r["label"] == "trade show")
        spam = next(c for c in show["counts"] if c["reason"] == "spam")
        assert _names_at(client, spam["people_url"]) == {"Fay"}
    # A plain reason key filters too, over any time; an unknown one is refused by name.
    assert (
        client.get("/api/v1/people?sent_back_reason=spam").json()["items"][0]["last_name"] == "Fay"
    )
    refused = client.get("/api/v1/people?sent_back_reason=bored")
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"][-1] == "sent_back_reason"


def test_the_report_page_links_counts_and_goes_on_to_the_scoring_rules(client, marketer, sent_back):
    client.force_login(marketer)
    with time_machine.travel(NOW, tick=False):
        page = client.get("/reports/send-backs/?from=2026-11-01&to=2026-11-30")
        assert page.status_code == 200
        html = page.content.decode()
        assert "6 people sent back" in html
        assert "Guide download" in html and "Not the decision maker" in html
        assert 'href="/scoring/"' in html
        link = next(
            part.split('"')[0]
            for part in html.split('href="')[1:]
            if part.startswith("/people/?sent_back_reason=")
        )
        listed = client.get(link.replace("&amp;", "&"))
        assert listed.status_code == 200
    bad = client.get("/reports/send-backs/?from=nope")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.content.decode()


def test_a_read_only_token_of_a_marketer_reads_the_report(client, system, marketer):
    _, raw = create_token(actor=system, user=marketer, name="bi", scope=TokenScope.READ)
    response = client.get("/api/v1/reports/send-backs", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200 and response.json()["total"] == 0
    assert timezone.now()

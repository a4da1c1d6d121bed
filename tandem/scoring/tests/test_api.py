"""The scoring API and the person API's score fields, over real HTTP through the test client."""

from __future__ import annotations

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.campaigns.services import record_touchpoint
from tandem.people import services as people
from tandem.scoring.models import RuleSet
from tandem.scoring.tests.factories import active_rules, engagement, fit


@pytest.fixture
def api(client, system, marketer):
    _, raw = create_token(actor=system, user=marketer, name="t", scope=TokenScope.READ_WRITE)

    def call(method: str, path: str, body=None):
        return getattr(client, method)(
            "/api/v1" + path,
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}"},
        )

    return call


def test_person_api_returns_score_and_explanation(api, system, django_capture_on_commit_callbacks):
    active_rules(
        [fit("title", "contains", "Head of", 20), engagement(15, touchpoint_kind="form_fill")]
    )
    person = people.create_person(actor=system, data={"last_name": "L", "title": "Head of IT"})
    with django_capture_on_commit_callbacks(execute=True):
        record_touchpoint(person_id=person.pk, kind="form_fill")
    body = api("get", f"/people/{person.pk}").json()
    assert (body["score"], body["fit_score"], body["engagement_score"]) == (35, 20, 15)
    assert {"rule": "Title contains 'Head of'", "points": 20, "detail": ""} in body[
        "score_explanation"
    ]


def test_people_list_filters_by_score(api, system):
    active_rules([fit("title", "contains", "Head of", 20)])
    hot = people.create_person(actor=system, data={"last_name": "Hot", "title": "Head of IT"})
    people.create_person(actor=system, data={"last_name": "Cold", "title": "Intern"})
    from tandem.scoring import engine

    engine.rescore_everyone()
    items = api("get", "/people?min_score=10").json()["items"]
    assert [p["id"] for p in items] == [hot.pk]
    assert api("get", "/people?min_fit_score=abc").status_code == 422


def test_rules_are_written_in_a_draft_and_activated(api, django_capture_on_commit_callbacks):
    draft = api("post", "/scoring/rule-sets", {"name": "Q3", "mql_threshold": 40}).json()
    assert draft["status"] == "draft"
    rule = api(
        "post",
        f"/scoring/rule-sets/{draft['id']}/rules",
        {
            "kind": "fit",
            "field": "company.industry",
            "operator": "in",
            "value": ["Software"],
            "points": 10,
        },
    )
    assert rule.status_code == 201, rule.content
    assert rule.json()["words"] == "Industry is one of 'Software'"
    bad = api(
        "post",
        f"/scoring/rule-sets/{draft['id']}/rules",
        {"kind": "fit", "field": "shoe_size", "operator": "equals", "value": "9", "points": 1},
    )
    assert bad.status_code == 422 and "field" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        active = api("post", f"/scoring/rule-sets/{draft['id']}/activate", {"reason": "go"})
    assert active.json()["status"] == "active"
    again = api("patch", f"/scoring/rule-sets/{draft['id']}", {"name": "late"})
    assert again.status_code == 422
    assert RuleSet.objects.get(pk=draft["id"]).status == "active"


def test_override_over_the_api(api, system):
    active_rules([fit("title", "contains", "Head of", 20)])
    person = people.create_person(actor=system, data={"last_name": "L", "title": "Head of IT"})
    response = api(
        "post",
        f"/scoring/people/{person.pk}/override",
        {
            "kind": "score",
            "score": 70,
            "reason": "Budget confirmed",
            "expires_at": "2099-01-01T00:00:00",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["score"] == 70 and body["override"]["created_by"] == "Mia Marketer (API token “t”)"
    assert (
        api(
            "post", f"/scoring/people/{person.pk}/override", {"kind": "score", "score": 1}
        ).status_code
        == 422
    )

"""The rules pages and the override page, as a marketer and a salesperson use them."""

from __future__ import annotations

import pytest

from tandem.people import services as people
from tandem.scoring.models import PersonScore, RuleSet, ScoreOverride
from tandem.scoring.tests.factories import active_rules, fit

pytestmark = pytest.mark.django_db


def test_a_marketer_writes_a_draft_and_activates_it(
    client, marketer, system, django_capture_on_commit_callbacks
):
    lead = people.create_person(actor=system, data={"last_name": "L", "title": "VP Sales"})
    client.force_login(marketer)
    response = client.post("/scoring/sets/new/")
    draft = RuleSet.objects.get()
    assert response.status_code == 302 and draft.status == "draft"
    response = client.post(
        f"/scoring/sets/{draft.pk}/rules/new/",
        {"kind": "fit", "points": "15", "field": "title", "operator": "contains", "value": "VP"},
    )
    assert response.status_code == 302, response.content.decode()
    bad = client.post(
        f"/scoring/sets/{draft.pk}/rules/new/",
        {"kind": "fit", "points": "5", "field": "title", "operator": "between", "value": "x"},
    )
    assert bad.status_code == 400 and "Give two numbers" in bad.content.decode()
    page = client.get(f"/scoring/sets/{draft.pk}/").content.decode()
    assert "Title contains &#x27;VP&#x27;" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/scoring/sets/{draft.pk}/activate/", {"reason": "First rules"})
    assert RuleSet.objects.get().status == "active"
    assert PersonScore.objects.get(person=lead).score == 15
    person_page = client.get(f"/people/{lead.pk}/").content.decode()
    assert "+15 Title contains &#x27;VP&#x27;" in person_page
    # The history says what happened in words, not event codes.
    history = client.get(f"/scoring/sets/{draft.pk}/").content.decode()
    assert "Added a rule" in history and "Activated it" in history
    assert "rule_added" not in history


def test_the_owner_overrides_with_a_reason_on_the_page(client, salesperson, system):
    active_rules([fit("title", "contains", "VP", 15)])
    lead = people.create_person(
        actor=system, data={"last_name": "L", "title": "VP Sales", "owner": salesperson}
    )
    client.force_login(salesperson)
    missing = client.post(f"/people/{lead.pk}/score/override/", {"kind": "score", "score": "5"})
    assert missing.status_code == 400
    response = client.post(
        f"/people/{lead.pk}/score/override/",
        {"kind": "not_a_lead", "reason": "Works for a competitor"},
    )
    assert response.status_code == 302
    assert ScoreOverride.objects.get(person=lead).created_by == salesperson
    page = client.get(f"/people/{lead.pk}/").content.decode()
    assert "Override: Marked not a lead, by Sam Sales: Works for a competitor" in page

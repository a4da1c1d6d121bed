"""The backtest: a rule set replayed over the last N months of outcomes, beside the
active set, with nothing written (issue 19, point 5)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tandem.accounts.actor import Actor
from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.campaigns.models import Touchpoint
from tandem.people import services as people
from tandem.people.models import Person, Stage, StageChange
from tandem.scoring import backtest, services
from tandem.scoring.tests.factories import active_rules, engagement, fit

pytestmark = pytest.mark.django_db(transaction=False)
NOW = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
LONG_AGO = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
FORM_FILL = engagement(60, source="touchpoint", touchpoint_kind="form_fill")


def _at(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 9, 0, tzinfo=dt.UTC)


def _person(name: str, title: str = "", *, created: dt.datetime = LONG_AGO) -> Person:
    person = people.create_person(
        actor=Actor.system("test"), data={"last_name": name, "title": title}
    )
    Person.objects.filter(pk=person.pk).update(created_at=created)
    return person


def _form_fill(person: Person, when: dt.datetime) -> None:
    Touchpoint.objects.create(person=person, kind="form_fill", occurred_at=when)


def _moves(person: Person, *moves: tuple[str, dt.datetime]) -> None:
    """The person's stage history (lead first), and their stage now."""
    before = Stage.LEAD
    for stage, when in moves:
        StageChange.objects.create(
            person=person, from_stage=before, to_stage=stage, changed_at=when, actor_label="test"
        )
        before = stage
    Person.objects.filter(pk=person.pk).update(stage=before, stage_changed_at=moves[-1][1])


@pytest.fixture
def funnel(db):
    """Four leads over a window of 3 months (2026-04-01 to 07-01), built so the figures are
    known: the draft (a form fill is worth 60, MQL at 50) flags P1 and P2 in the week from
    04-08, P3 in the week from 04-15; P1 and P2 then reach opportunity, P3 goes nowhere.
    P4 (an analyst, no form) becomes an opportunity the draft never saw coming. P5 fills
    the form after being disqualified: not an MQL."""
    p1, p2, p3 = _person("P1"), _person("P2"), _person("P3")
    p4, p5 = _person("P4", "Analyst"), _person("P5")
    _form_fill(p1, _at(4, 10))
    _form_fill(p2, _at(4, 11))
    _form_fill(p3, _at(4, 20))
    _form_fill(p5, _at(5, 5))
    _moves(p1, (Stage.OPPORTUNITY, _at(5, 1)))
    _moves(p2, (Stage.OPPORTUNITY, _at(5, 10)), (Stage.CUSTOMER, _at(5, 20)))
    _moves(p4, (Stage.OPPORTUNITY, _at(6, 1)))
    _moves(p5, (Stage.DISQUALIFIED, _at(5, 1)))
    # The active set: analysts are worth 60 (P4 is above the threshold all along).
    active = active_rules([fit("title", "contains", "Analyst", 60)], threshold=50)
    draft = services.create_rule_set(actor=Actor.system("test"), mql_threshold=50)
    services.add_rule(actor=Actor.system("test"), rule_set=draft, data=FORM_FILL)
    return {"active": active, "draft": draft, "people": (p1, p2, p3, p4, p5)}


def test_precision_recall_and_weekly_volume_are_the_known_ones(funnel):
    result = backtest.backtest_rule_set(funnel["draft"], months=3, now=NOW)
    draft, current = result.draft, result.current
    assert (result.starts, result.ends) == (dt.datetime(2026, 4, 1, 12, tzinfo=dt.UTC), NOW)
    assert (draft.mql, draft.mql_before, draft.converted) == (3, 0, 2)
    assert draft.precision == pytest.approx(2 / 3, abs=1e-4)
    assert (draft.positives, draft.caught) == (3, 2)
    assert draft.recall == pytest.approx(2 / 3, abs=1e-4)
    weeks = {str(w.starts): w.mql for w in draft.weeks}
    assert len(weeks) == 13 and sum(weeks.values()) == 3
    assert weeks["2026-04-08"] == 2 and weeks["2026-04-15"] == 1
    # The active set beside it, over the same weeks: P4 was flagged before the window.
    assert current is not None and current.label == "v1 (active)"
    assert (current.mql, current.mql_before, current.caught, current.positives) == (0, 1, 1, 3)
    assert current.precision is None and current.recall == pytest.approx(1 / 3, abs=1e-4)
    assert [w.starts for w in current.weeks] == [w.starts for w in draft.weeks]


def test_a_rule_matching_exactly_the_future_customers_has_recall_one(funnel):
    p1, p2, _, p4, _ = funnel["people"]
    Person.objects.filter(pk__in=[p1.pk, p2.pk, p4.pk]).update(title="Chief Buyer")
    plan, threshold = backtest.plan_from_data(
        {"mql_threshold": 10, "rules": [fit("title", "contains", "Buyer", 10)]}
    )
    result = backtest.run(plan, threshold, months=3, now=NOW)
    assert result.draft.recall == 1.0 and result.draft.caught == 3
    assert result.draft.label == "File" and result.draft.version is None


def test_a_lead_created_inside_the_window_counts_from_its_first_week(funnel):
    late = _person("Late", "Chief Buyer", created=_at(6, 2))
    plan, threshold = backtest.plan_from_data(
        {"mql_threshold": 10, "rules": [fit("title", "contains", "Buyer", 10)]}
    )
    result = backtest.run(plan, threshold, months=3, now=NOW)
    assert result.draft.mql == 1 and result.draft.converted == 0
    assert {str(w.starts): w.mql for w in result.draft.weeks}["2026-05-27"] == 1
    assert late.pk  # created after the window opened: not "already MQL"
    assert result.draft.mql_before == 0


def test_the_last_n_months_follow_the_clock(funnel):
    # Three months later the window (04-01 to 07-01) has moved on: nothing happened in it.
    with time_machine.travel(dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        later = backtest.backtest_rule_set(funnel["draft"], months=3)
        wider = backtest.backtest_rule_set(funnel["draft"], months=6)
    assert later.starts == NOW
    # Only P3 is still open and above the threshold when it opens (P1, P2 moved on).
    assert (later.draft.mql, later.draft.positives, later.draft.mql_before) == (0, 0, 1)
    assert wider.draft.mql == 3 and wider.draft.positives == 3
    assert len(wider.draft.weeks) == 27  # 183 days: 26 weeks and a day


def test_a_backtest_writes_nothing(funnel):
    with CaptureQueriesContext(connection) as queries:
        backtest.backtest_rule_set(funnel["draft"], months=3, now=NOW)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE", "CREATE"))
    ]
    assert writes == []


def test_months_out_of_range_is_refused_naming_the_field(funnel):
    with pytest.raises(backtest.ValidationError) as refused:
        backtest.backtest_rule_set(funnel["draft"], months=0, now=NOW)
    assert "months" in refused.value.message_dict


def test_the_api_returns_both_sets_and_refuses_those_who_cannot_manage_rules(
    client, system, funnel, marketer, salesperson
):
    _, raw = create_token(actor=system, user=marketer, name="bt", scope=TokenScope.READ_WRITE)
    url = f"/api/v1/scoring/rule-sets/{funnel['draft'].pk}/backtest"
    with time_machine.travel(NOW, tick=False):
        response = client.get(url, {"months": 3}, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["months"] == 3 and body["draft"]["mql"] == 3
    assert body["current"]["version"] == funnel["active"].version
    assert body["draft"]["weeks"][1] == {"starts": "2026-04-08", "mql": 2}
    bad = client.get(url, {"months": 99}, headers={"Authorization": f"Bearer {raw}"})
    assert bad.status_code == 422 and "months" in json.dumps(bad.json())
    _, sales = create_token(actor=system, user=salesperson, name="s", scope=TokenScope.READ_WRITE)
    refused = client.get(url, headers={"Authorization": f"Bearer {sales}"})
    assert refused.status_code == 403


def test_the_rule_set_page_shows_the_backtest_before_the_activate_button(
    client, funnel, marketer, salesperson
):
    client.force_login(marketer)
    url = f"/scoring/sets/{funnel['draft'].pk}/"
    with time_machine.travel(NOW, tick=False):
        page = client.get(url, {"months": 3}).content.decode()
    assert "Backtest" in page and "v1 (active)" in page
    assert page.index("Backtest") < page.index("Activate v2")
    assert "67%" in page  # the draft's precision and recall
    assert client.get(url, {"months": "many"}).status_code == 400
    client.force_login(salesperson)
    seen = client.get(url, {"months": 3})
    assert seen.status_code == 200 and "Run the backtest" not in seen.content.decode()


def test_the_cli_prints_the_figures_and_json(funnel, capsys, tmp_path):
    call_command(
        "scoring", "backtest", "--rules", str(funnel["draft"].pk), "--months", "3",
        "--now", NOW.isoformat(), "--json",
    )  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["draft"]["precision"] == pytest.approx(0.6667) and out["current"]["mql_before"] == 1
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"mql_threshold": 50, "rules": [FORM_FILL]}))
    call_command(
        "scoring", "backtest", "--rules", str(rules), "--months", "3", "--now", NOW.isoformat()
    )
    text = capsys.readouterr().out
    assert "Precision" in text and "66.7%" in text and "MQLs per week" in text


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("{not json", "not a JSON file"),
        ('{"rules": []}', "rules: Give a non-empty list"),
        ('{"rules": [{"kind": "fit", "points": "lots"}]}', "rules[0].points"),
        ('{"rules": [{"kind": "fit", "points": 5, "field": "shoe_size"}]}', "rules[0].field"),
        ('{"mql_threshold": -1, "rules": []}', "mql_threshold"),
        ('{"rules": [{"kind": "engagement", "points": 5, "campaign": 999}]}', "rules[0].campaign"),
    ],
)
def test_the_cli_refuses_a_bad_file_naming_the_field(funnel, tmp_path, content, named):
    rules = tmp_path / "rules.json"
    rules.write_text(content)
    with pytest.raises(CommandError, match=named.replace("[", r"\[").replace("]", r"\]")):
        call_command("scoring", "backtest", "--rules", str(rules))


def test_a_set_as_the_api_returns_it_can_be_backtested_from_a_file(
    client, system, funnel, marketer, capsys, tmp_path
):
    _, raw = create_token(actor=system, user=marketer, name="bt", scope=TokenScope.READ_WRITE)
    headers = {"Authorization": f"Bearer {raw}"}
    saved = client.get(f"/api/v1/scoring/rule-sets/{funnel['active'].pk}", headers=headers)
    rules = tmp_path / "active.json"
    rules.write_text(saved.content.decode())
    call_command(
        "scoring", "backtest", "--rules", str(rules), "--months", "3",
        "--now", NOW.isoformat(), "--json",
    )  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["draft"]["mql_before"] == out["current"]["mql_before"] == 1


def test_the_cli_refuses_an_unknown_id(funnel):
    with pytest.raises(CommandError, match="no rule set with this id"):
        call_command("scoring", "backtest", "--rules", "999")

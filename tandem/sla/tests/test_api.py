"""The SLA API as an integrator uses it: policies in order with units of business time,
business hours per team and the company default, and every bad value named by its field."""

from __future__ import annotations

import pytest

from tandem.accounts.models import Team, TokenScope
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.sla.models import SlaPolicy
from tandem.sla.tests.factories import calendar, policy


@pytest.fixture
def api(client, system, manager):
    _, raw = create_token(actor=system, user=manager, name="tests", scope=TokenScope.READ_WRITE)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def send(api, method, path, body=None):
    return getattr(api, method)("/api/v1" + path, body, content_type="application/json")


def errors(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {".".join(map(str, e["loc"][2:])): e["msg"] for e in response.json()["detail"]}


def test_policies_are_created_listed_moved_changed_and_deleted(api):
    demo = send(
        api,
        "post",
        "/sla-policies",
        {
            "name": "Demo requests",
            "amount": 15,
            "touchpoint_kind": "form_fill",
            "reassign_on_breach": True,
        },
    )
    assert demo.status_code == 201, demo.content
    show = send(
        api,
        "post",
        "/sla-policies",
        {
            "name": "Trade show",
            "amount": 5,
            "unit": "days",
            "touchpoint_kind": "booth_scan",
        },
    ).json()
    assert show["minutes"] == 7200 and show["time_display"] == "5 business days"
    assert show["position"] == 2
    moved = send(api, "patch", f"/sla-policies/{show['id']}", {"position": 1})
    assert moved.json()["position"] == 1
    listed = send(api, "get", "/sla-policies").json()
    assert [p["name"] for p in listed["items"]] == ["Trade show", "Demo requests"]
    assert listed["count"] == 2
    changed = send(api, "patch", f"/sla-policies/{show['id']}", {"amount": 3}).json()
    assert (changed["unit"], changed["amount"], changed["minutes"]) == ("days", 3, 4320)
    hours = send(api, "patch", f"/sla-policies/{show['id']}", {"unit": "hours"}).json()
    assert (hours["amount"], hours["minutes"], hours["time_display"]) == (
        3,
        180,
        "3 business hours",
    )
    assert send(api, "delete", f"/sla-policies/{show['id']}").status_code == 204
    assert send(api, "get", f"/sla-policies/{show['id']}").status_code == 404
    assert list(
        AuditEvent.objects.filter(target_type="sla.slapolicy")
        .values_list("event", flat=True)
        .order_by("id")
    ) == [
        "sla_policy_created",
        "sla_policy_created",
        "sla_policy_changed",
        "sla_policy_changed",
        "sla_policy_changed",
        "sla_policy_deleted",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "amount": 15, "touchpoint_kind": "carrier_pigeon"}, "touchpoint_kind"),
        ({"name": "X", "amount": 0}, "amount"),
        ({"name": "X", "amount": 15, "unit": "weeks"}, "unit"),
        ({"name": "X", "amount": 400, "unit": "days"}, "amount"),
        ({"name": "X", "amount": 15, "remind_at_share": 1.5}, "remind_at_share"),
        ({"name": " ", "amount": 15}, "name"),
        ({"amount": 15}, "name"),
        ({"name": "X", "amount": 15, "colour": "red"}, "colour"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(api, body, field):
    assert field in errors(send(api, "post", "/sla-policies", body))
    assert not SlaPolicy.objects.exists()
    assert not AuditEvent.objects.filter(target_type="sla.slapolicy").exists()


def test_business_hours_default_to_the_built_in_week(api, settings):
    default = send(api, "get", "/business-hours/default").json()
    assert default["uses"] == "built_in"
    assert default["hours"]["mon"] == [["09:00", "17:00"]] and "sat" not in default["hours"]
    assert default["time_zone"] == settings.TIME_ZONE
    assert default["open_minutes_per_week"] == 5 * 8 * 60


def test_business_hours_per_team_and_the_company_default(api):
    team = Team.objects.create(name="Vienna")
    body = {
        "time_zone": "Europe/Vienna",
        "country": "at",
        "subdivision": "9",
        "hours": {"mon": [["13:00", "17:00"], ["08:00", "12:00"]], "fri": [["08:00", "12:00"]]},
        "closing_days": [{"date": "2026-12-31", "name": "New Year's Eve"}],
    }
    company = send(
        api, "put", "/business-hours/default", {**body, "country": "DE", "subdivision": ""}
    )
    assert company.json()["uses"] == "company"
    assert send(api, "get", f"/business-hours/{team.pk}").json()["uses"] == "company"
    saved = send(api, "put", f"/business-hours/{team.pk}", body)
    assert saved.status_code == 200, saved.content
    out = saved.json()
    assert out["uses"] == "team" and out["team"] == {"id": team.pk, "name": "Vienna"}
    assert (out["country"], out["subdivision"]) == ("AT", "9")
    assert out["hours"] == {
        "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
        "fri": [["08:00", "12:00"]],
    }
    assert out["open_minutes_per_week"] == 12 * 60
    listed = send(api, "get", "/business-hours").json()
    assert [(i["team"] and i["team"]["name"], i["uses"]) for i in listed["items"]] == [
        (None, "company"),
        ("Vienna", "team"),
    ]
    reset = send(api, "delete", f"/business-hours/{team.pk}").json()
    assert (reset["uses"], reset["country"]) == ("company", "DE")
    events = AuditEvent.objects.filter(target_type="sla.businesscalendar").order_by("id")
    assert list(events.values_list("event", flat=True)) == [
        "business_hours_set",
        "business_hours_set",
        "business_hours_reset",
    ]


GOOD = {"time_zone": "Europe/Berlin", "hours": {"mon": [["09:00", "17:00"]]}}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a time zone"),
        ({"country": "XX"}, "country", "not a country with known public holidays"),
        ({"country": "DE", "subdivision": "CA"}, "subdivision", "DE has no subdivision"),
        ({"subdivision": "BY"}, "subdivision", "country first"),
        ({"hours": {"mon": [["17:00", "09:00"]]}}, "hours.mon", "ends before"),
        ({"hours": {"tue": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "hours.tue", "overlaps"),
        ({"hours": {"mon": [["9", "17:00"]]}}, "hours.mon.0.0", "should match pattern"),
        ({"hours": {"mon": [["09:00", "25:00"]]}}, "hours.mon.0.1", "should match pattern"),
        ({"hours": {"funday": [["09:00", "17:00"]]}}, "hours.funday", "Extra inputs"),
        ({"hours": {}}, "hours", "at least one"),
        ({"closing_days": [{"date": "24.12.2026"}]}, "closing_days.0.date", "valid date"),
        (
            {"closing_days": [{"date": "2026-12-24"}, {"date": "2026-12-24"}]},
            "closing_days",
            "twice",
        ),
    ],
)
def test_bad_business_hours_are_refused_naming_the_field(api, change, field, words):
    team = Team.objects.create(name="Branch")
    calendar(team, country="DE")
    before = AuditEvent.objects.count()
    found = errors(send(api, "put", f"/business-hours/{team.pk}", {**GOOD, **change}))
    assert words in found[field], found
    assert send(api, "get", f"/business-hours/{team.pk}").json()["country"] == "DE"
    assert AuditEvent.objects.count() == before


def test_several_problems_are_named_at_once(api):
    found = errors(
        send(
            api,
            "put",
            "/business-hours/default",
            {
                "time_zone": "Europe/Berlin",
                "country": "DE",
                "subdivision": "Texas",
                "hours": {"wed": [["10:00", "09:00"]], "thu": [["08:00", "09:00"]] * 2},
                "closing_days": [{"date": "2026-01-01"}] * 2,
            },
        )
    )
    assert set(found) == {"subdivision", "hours.wed", "hours.thu", "closing_days"}


def test_unknown_team_is_404(api):
    assert send(api, "get", "/business-hours/999999").status_code == 404
    assert send(api, "put", "/business-hours/999999", GOOD).status_code == 404


def test_the_policies_list_pages(api, system):
    for i in range(5):
        policy(f"P{i}", i + 1)
    page = send(api, "get", "/sla-policies?limit=2&offset=2").json()
    assert [p["name"] for p in page["items"]] == ["P2", "P3"]
    assert (page["count"], page["limit"], page["offset"]) == (5, 2, 2)


@pytest.mark.parametrize("n", [1, 50])
def test_list_queries_do_not_grow_with_rows(api, n, django_assert_num_queries):
    api.get("/api/v1/me")  # notes the token's last use now, so the lists don't write it
    for i in range(n):
        policy(f"P{i}", i + 1)
        team = Team.objects.create(name=f"Team {i:02d}")
        if i % 2:
            calendar(team)
    # 1 token with its user, 2 the page of policies, 3 their count
    with django_assert_num_queries(3):
        assert len(api.get("/api/v1/sla-policies", {"limit": 50}).json()["items"]) == n
    # 1 token with its user, 2 every calendar, 3 every team
    with django_assert_num_queries(3):
        assert api.get("/api/v1/business-hours").json()["count"] == n + 1

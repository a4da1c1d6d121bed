"""Assignment: every rule kind, round-robin fairness with capacity and out-of-office, the
fallback, the hand-off's record, the owner, the SLA clock, the notice and the booth task."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import time_machine

from tandem.core.models import AuditEvent
from tandem.followups.models import Task
from tandem.notifications.models import Notification
from tandem.people import services as people
from tandem.people.models import Person
from tandem.routing import services_rules
from tandem.routing.engine import NO_RULE, postcode_in, route_people
from tandem.routing.models import Handoff
from tandem.routing.tests.factories import SYSTEM, person, rule, seller, team, touch
from tandem.sla.models import SlaPolicy

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday


def route(*people_, reasons=None, execute=True, capture=None):
    ids = [p.pk for p in people_]
    return route_people(
        actor=SYSTEM, person_ids=ids, reasons=reasons or dict.fromkeys(ids, "test"), now=NOW
    )


def current(p: Person) -> Handoff:
    return Handoff.objects.get(person=p, is_current=True)


def test_territory_by_country_region_and_postcode_range():
    north, south = seller("nora"), seller("sven")
    rule(
        "Berlin", "territory", countries=["DE"], postcode_ranges=[["10000", "14999"]], user=north.pk
    )
    rule("Bavaria", "territory", countries=["de"], regions=["Bayern"], user=south.pk)
    berlin = person("Berlin", country="DE", postcode="10115")
    munich = person("Munich", country="DE", region="bayern", postcode="80331")
    paris = person("Paris", country="FR", postcode="75001")
    route(berlin, munich, paris)
    assert current(berlin).owner == north and current(berlin).routed_by == "Berlin"
    assert current(munich).owner == south and current(munich).routed_by == "Bavaria"
    assert current(paris).owner is None and current(paris).routed_by == NO_RULE
    assert Person.objects.get(pk=berlin.pk).owner == north


def test_postcode_ranges_compare_as_text_and_prefixes():
    assert postcode_in("10115", [["10000", "19999"]])
    assert not postcode_in("20095", [["10000", "19999"]])
    assert postcode_in("SW1A 1AA", [["SW1", "SW9"]])
    assert not postcode_in("", [["0", "9"]])


def test_segment_by_industry_size_and_custom_field():
    from tandem.people.models import CustomField

    CustomField.objects.create(entity="person", key="product", label="Product", field_type="text")
    a, b, c = seller("ann"), seller("ben"), seller("cat")
    rule(
        "Factories", "segment", industries=["Manufacturing"], company_sizes=["201-1000"], user=a.pk
    )
    rule("Cloud buyers", "segment", custom_field="product", custom_values=["Cloud"], user=b.pk)
    rule("Rest", "fallback", user=c.pk)
    big = people.create_company(
        actor=SYSTEM, data={"name": "Big", "industry": "manufacturing", "size": "201-1000"}
    )
    small = people.create_company(
        actor=SYSTEM, data={"name": "Small", "industry": "Manufacturing", "size": "1-10"}
    )
    p1 = person("Big", company=big)
    p2 = person("Small", company=small, custom_fields={"product": "cloud"})
    p3 = person("Small2", company=small)
    route(p1, p2, p3)
    assert [current(p).owner for p in (p1, p2, p3)] == [a, b, c]
    assert current(p3).routed_by == "Rest"


def test_named_account_goes_to_the_company_owner_unless_away():
    owner, other = seller("olga"), seller("otto")
    acme = people.create_company(actor=SYSTEM, data={"name": "Acme", "owner": owner})
    rule("Named accounts", "named_accounts")
    rule("Everyone else", "fallback", user=other.pk)
    at_acme, elsewhere = person("A", company=acme), person("B")
    route(at_acme, elsewhere)
    assert current(at_acme).owner == owner and current(at_acme).routed_by == "Named accounts"
    assert current(elsewhere).owner == other
    services_rules.add_out_of_office(
        actor=SYSTEM, user=owner, starts_on=NOW.date(), ends_on=NOW.date()
    )
    again = person("C", company=acme)
    route(again)
    assert current(again).owner == other


def test_round_robin_is_fair_and_respects_capacity_and_out_of_office():
    sales = team("Inside sales")
    _ann, _ben, cat, dan = (seller(n, sales) for n in ("ann", "ben", "cat", "dan"))
    seller("eve")  # not in the team
    rule("Inside sales in turn", "round_robin", team=sales.pk)
    services_rules.set_capacity(actor=SYSTEM, user=cat, max_open_handoffs=1)
    services_rules.add_out_of_office(
        actor=SYSTEM, user=dan, starts_on=NOW.date() - dt.timedelta(days=1), ends_on=NOW.date()
    )
    leads = [person(f"L{i}") for i in range(9)]
    route(*leads)
    counts = Counter(current(p).owner.username for p in leads)
    assert counts == {"ann": 4, "ben": 4, "cat": 1}  # cat full after one, dan away
    # The next batch goes on where the last one stopped: no one is favoured.
    more = [person(f"M{i}") for i in range(2)]
    route(*more)
    assert sorted(current(p).owner.username for p in more) == ["ann", "ben"]
    assert all(current(p).team == sales for p in leads + more)


def test_round_robin_with_nobody_available_falls_through_to_the_queue():
    sales, queue = team("Field"), team("Queue")
    ann = seller("ann", sales)
    services_rules.set_capacity(actor=SYSTEM, user=ann, max_open_handoffs=0)
    rule("Field in turn", "round_robin", team=sales.pk)
    rule("Queue", "fallback", team=queue.pk)
    p = person("Waiting")
    route(p)
    handoff = current(p)
    assert handoff.owner is None and handoff.team == queue and handoff.routed_by == "Queue"


def test_inactive_rules_are_skipped_and_order_decides():
    a, b = seller("ann"), seller("ben")
    first = rule("First", "territory", countries=["DE"], user=a.pk)
    rule("Second", "territory", countries=["DE"], user=b.pk)
    services_rules.update_rule(actor=SYSTEM, rule=first, data={"is_active": False})
    p = person("P", country="DE")
    route(p)
    assert current(p).owner == b


def test_assignment_records_rule_sla_audit_notice_and_booth_task(
    django_capture_on_commit_callbacks,
):
    sales = team("Booth")
    ann = seller("ann", sales)
    fair = rule("Fair leads", "round_robin", team=sales.pk)
    SlaPolicy.objects.create(name="Trade show", touchpoint_kind="booth_scan", minutes=5 * 8 * 60)
    booth = person("Booth", source="Fair")
    touch(booth, "booth_scan")
    web = person("Web")
    touch(web, "form_fill")
    with django_capture_on_commit_callbacks(execute=True):
        route(booth, web, reasons={booth.pk: "Score 70 reached 60", web.pk: "Asked"})
    handoff = current(booth)
    assert handoff.rule_id == fair.pk and handoff.routed_by == "Fair leads"
    assert handoff.routed_at == NOW and handoff.reason == "Score 70 reached 60"
    # Five business days of the default calendar (Monday to Friday, 09:00-17:00).
    assert handoff.sla_name == "Trade show" and handoff.due_at == dt.datetime(
        2026, 3, 9, 10, 0, tzinfo=dt.UTC
    )
    assert current(web).due_at is None  # no SLA for a form fill here
    routed = AuditEvent.objects.get(event="routed", target_id=booth.pk)
    assert routed.changes["routed_by"] == [None, "Fair leads"]
    assert routed.changes["owner"] == [None, ann.pk]
    owner_change = AuditEvent.objects.get(event="changed", target_id=booth.pk)
    assert owner_change.changes == {"owner": [None, ann.pk]}
    notes = Notification.objects.filter(user=ann, kind="handoff").order_by("key")
    assert [n.key for n in notes] == [f"handoff:{current(booth).pk}", f"handoff:{current(web).pk}"]
    assert notes[0].url == f"/people/{booth.pk}/"
    assert notes[0].title == "New lead: Booth, due 09 Mar 10:00 UTC"  # the zone is named
    task = Task.objects.get()
    assert task.person_id == booth.pk and task.owner == ann and task.kind == "call"
    assert task.due_at == handoff.due_at and task.key == f"handoff-task:{handoff.pk}"


def test_routing_again_keeps_history_and_one_current_handoff():
    a, b = seller("ann"), seller("ben")
    r = rule("DE", "territory", countries=["DE"], user=a.pk)
    p = person("P", country="DE")
    route(p)
    services_rules.update_rule(actor=SYSTEM, rule=r, data={"user": b.pk})
    with time_machine.travel(NOW + dt.timedelta(hours=1)):
        route(p)
    handoffs = list(Handoff.objects.filter(person=p).order_by("id"))
    assert [h.is_current for h in handoffs] == [False, True]
    assert handoffs[0].status == "reassigned"
    assert handoffs[1].owner == b


def test_deleted_people_are_not_routed():
    seller_ = seller("ann")
    rule("All", "fallback", user=seller_.pk)
    p = person("Gone")
    people.delete_person(actor=SYSTEM, person=p)
    assert route(p).count == 0
    assert not Handoff.objects.exists()


def test_a_rules_user_away_passes_the_lead_to_its_team_in_turn():
    sales = team("Key accounts")
    lead_seller, ben = seller("lea", sales), seller("ben", sales)
    rule("Finance", "segment", industries=["Finance"], user=lead_seller.pk, team=sales.pk)
    services_rules.add_out_of_office(
        actor=SYSTEM, user=lead_seller, starts_on=NOW.date(), ends_on=NOW.date()
    )
    bank = people.create_company(actor=SYSTEM, data={"name": "Bank", "industry": "Finance"})
    p = person("Banker", company=bank)
    route(p)
    assert current(p).owner == ben and current(p).routed_by == "Finance"


def test_a_breached_lead_whose_sla_reassigns_goes_to_someone_else_in_turn():
    """Escalation's hook: routed again by the rules, never back to the owner who let it
    breach; the breached hand-off is kept, marked reassigned."""
    from tandem.routing import escalation

    sales = team("Inside sales")
    ann, ben = seller("ann", sales), seller("bob", sales)
    rule("Inside sales in turn", "round_robin", team=sales.pk)
    SlaPolicy.objects.create(name="Demo request", minutes=15, reassign_on_breach=True)
    lead = person("Late")
    route(lead)
    breached = current(lead)
    first_owner = breached.owner
    assert first_owner in (ann, ben) and breached.reassign_on_breach
    with time_machine.travel(breached.due_at + dt.timedelta(minutes=1), tick=False):
        assert escalation.tick()[1] == 1  # the breach, claimed once
    again = current(lead)
    assert again.pk != breached.pk and again.owner not in (first_owner, None)
    assert "SLA breached by" in again.reason
    assert Handoff.objects.get(pk=breached.pk).status == "reassigned"
    assert Person.objects.get(pk=lead.pk).owner == again.owner

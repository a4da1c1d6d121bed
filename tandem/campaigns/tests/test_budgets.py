"""Campaign budgets (issue 21, point 4): a parent without cycles, a planned budget and
cost lines in exact Decimal, UTM mappings that capture follows, and who may change them."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from tandem.accounts.actor import Actor
from tandem.campaigns import budgets, utm
from tandem.campaigns.models import Campaign, CampaignCost, CampaignUtm, Touchpoint
from tandem.campaigns.queries import campaign_detail, cost_totals
from tandem.campaigns.services import (
    create_campaign,
    record_touchpoint,
    resolve_campaign,
    update_campaign,
)
from tandem.capture import webforms
from tandem.capture.models import WebForm
from tandem.core.models import AuditEvent
from tandem.people import services as people
from tandem.people.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_mappings():
    utm.forget()  # the per-process cache outlives each test's rolled-back rows
    yield
    utm.forget()


@pytest.fixture
def spring(system) -> Campaign:
    return create_campaign(actor=system, name="Spring guide", key="spring-guide")


# --- parent ----------------------------------------------------------------------------


def test_a_campaign_sits_under_a_parent_and_never_under_itself_or_its_children(system):
    programme = create_campaign(actor=system, name="2026 programme")
    spring = create_campaign(actor=system, name="Spring", parent=programme.pk)
    guide = create_campaign(actor=system, name="Spring guide", parent=spring)
    assert (spring.parent, guide.parent) == (programme, spring)

    for parent in (programme, spring, guide):
        with pytest.raises(ValidationError) as refused:
            update_campaign(actor=system, campaign=programme, data={"parent": parent.pk})
        assert "parent" in refused.value.message_dict
    with pytest.raises(ValidationError, match="own ancestor"):
        update_campaign(actor=system, campaign=programme, data={"parent": guide.pk})
    assert Campaign.objects.get(pk=programme.pk).parent_id is None

    moved = update_campaign(actor=system, campaign=guide, data={"parent": programme.pk})
    assert moved.parent_id == programme.pk
    top = update_campaign(actor=system, campaign=guide, data={"parent": None})
    assert top.parent_id is None


def test_an_unknown_parent_is_refused_naming_the_field(system, spring):
    with pytest.raises(ValidationError) as refused:
        create_campaign(actor=system, name="Orphan", parent=999999)
    assert "parent" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        update_campaign(actor=system, campaign=spring, data={"parent": "abc"})
    assert "parent" in refused.value.message_dict


# --- budget and cost lines ---------------------------------------------------------------


def test_cost_lines_add_up_exactly_in_decimal(system, spring):
    for amount in ("0.10", "0.20", "1000.05", "33.33", "33.33", "33.34"):
        budgets.add_campaign_cost(
            actor=system, campaign=spring, data={"spent_on": "2026-03-02", "amount": amount}
        )
    total = campaign_detail(spring.pk).actual_cost  # type: ignore[attr-defined]
    assert total == Decimal("1100.35") and isinstance(total, Decimal)
    assert str(total) == "1100.35"
    # a float is read through its shortest text: 0.1 is ten cents, not 0.1000000000000000055
    cost = budgets.add_campaign_cost(
        actor=system, campaign=spring, data={"spent_on": "2026-03-03", "amount": 0.1}
    )
    assert cost.amount == Decimal("0.10")
    assert cost_totals([spring.pk], first=dt.date(2026, 3, 3)) == {spring.pk: Decimal("0.10")}


def test_a_cost_line_changes_and_goes_with_its_trail(system, spring):
    cost = budgets.add_campaign_cost(
        actor=system,
        campaign=spring,
        data={"spent_on": "2026-03-02", "amount": "1200", "note": "Booth"},
    )
    budgets.update_campaign_cost(actor=system, cost=cost, data={"amount": "1250.50"})
    assert CampaignCost.objects.get(pk=cost.pk).amount == Decimal("1250.50")
    budgets.delete_campaign_cost(actor=system, cost=cost)
    assert not CampaignCost.objects.exists()
    events = list(
        AuditEvent.objects.filter(target_type="campaigns.campaign", target_id=spring.pk)
        .order_by("id")
        .values_list("event", flat=True)
    )
    assert events == ["created", "cost_added", "cost_changed", "cost_deleted"]
    changed = AuditEvent.objects.get(event="cost_changed")
    assert changed.changes[f"cost #{cost.pk}"][0]["amount"] == "1200.00"
    assert changed.changes[f"cost #{cost.pk}"][1]["amount"] == "1250.50"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"spent_on": "2026-03-02", "amount": "-1"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "1.005"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "lots"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "NaN"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "1e20"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "1e30"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "1e-30"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "-0.001"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": True}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "Infinity"}, "amount"),
        ({"spent_on": "2026-03-02"}, "amount"),
        ({"spent_on": "March", "amount": "10"}, "spent_on"),
        ({"amount": "10"}, "spent_on"),
        ({"spent_on": "2026-03-02", "amount": "10", "note": "x" * 301}, "note"),
        ({"spent_on": "2026-03-02", "amount": "10", "vat": "2"}, "vat"),
    ],
)
def test_a_bad_cost_line_is_refused_naming_the_field(system, spring, data, field):
    with pytest.raises(ValidationError) as refused:
        budgets.add_campaign_cost(actor=system, campaign=spring, data=data)
    assert field in refused.value.message_dict
    assert not CampaignCost.objects.exists()


def test_a_planned_budget_is_exact_and_never_negative(system, spring):
    changed = update_campaign(actor=system, campaign=spring, data={"planned_budget": "5000.5"})
    assert changed.planned_budget == Decimal("5000.50")
    for bad in ("-1", "12.345", "many"):
        with pytest.raises(ValidationError) as refused:
            update_campaign(actor=system, campaign=spring, data={"planned_budget": bad})
        assert "planned_budget" in refused.value.message_dict
    cleared = update_campaign(actor=system, campaign=spring, data={"planned_budget": None})
    assert cleared.planned_budget is None
    audit = AuditEvent.objects.filter(event="changed").order_by("id").first()
    assert audit is not None and audit.changes["planned_budget"] == [None, "5000.50"]


@pytest.mark.parametrize("role", ["salesperson", "other_salesperson"])
def test_a_salesperson_reads_but_never_changes_budgets(system, spring, users_by_role, role):
    actor = Actor.for_user(users_by_role[role])
    cost = budgets.add_campaign_cost(
        actor=system, campaign=spring, data={"spent_on": "2026-03-02", "amount": "10"}
    )
    calls = [
        lambda: budgets.add_campaign_cost(
            actor=actor, campaign=spring, data={"spent_on": "2026-03-02", "amount": "1"}
        ),
        lambda: budgets.update_campaign_cost(actor=actor, cost=cost, data={"amount": "2"}),
        lambda: budgets.delete_campaign_cost(actor=actor, cost=cost),
        lambda: update_campaign(actor=actor, campaign=spring, data={"planned_budget": "1"}),
        lambda: utm.set_utm_mappings(
            actor=actor, campaign=spring, mappings=[{"utm_campaign": "x"}]
        ),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()


@pytest.mark.parametrize("role", ["admin", "manager", "marketer"])
def test_marketing_roles_manage_budgets(spring, users_by_role, role):
    actor = Actor.for_user(users_by_role[role])
    cost = budgets.add_campaign_cost(
        actor=actor, campaign=spring, data={"spent_on": "2026-03-02", "amount": "10"}
    )
    budgets.update_campaign_cost(actor=actor, cost=cost, data={"note": "Flyers"})
    utm.set_utm_mappings(actor=actor, campaign=spring, mappings=[{"utm_campaign": "spring"}])
    budgets.delete_campaign_cost(actor=actor, cost=cost)


# --- UTM mappings ------------------------------------------------------------------------


def test_the_most_specific_utm_mapping_wins(system, spring):
    linkedin = create_campaign(actor=system, name="Spring on LinkedIn")
    paid_social = create_campaign(actor=system, name="Paid social")
    utm.set_utm_mappings(
        actor=system,
        campaign=spring,
        mappings=[{"utm_campaign": "Spring 2026"}, {"utm_campaign": "spring_guide"}],
    )
    utm.set_utm_mappings(
        actor=system,
        campaign=linkedin,
        mappings=[{"utm_campaign": "spring-guide", "utm_source": "LinkedIn"}],
    )
    utm.set_utm_mappings(
        actor=system,
        campaign=paid_social,
        mappings=[{"utm_source": "facebook", "utm_medium": "paid"}],
    )

    def resolved(**tags: str) -> str | None:
        found = resolve_campaign(None, **tags)
        return found.name if found else None

    assert resolved(utm_campaign="spring-2026") == "Spring guide"  # an alias, slugged
    assert resolved(utm_campaign="SPRING_GUIDE") == "Spring guide"
    assert resolved(utm_campaign="spring-guide") == "Spring guide"  # the key
    assert resolved(utm_campaign="spring-guide", utm_source="linkedin") == "Spring on LinkedIn"
    assert resolved(utm_campaign="spring-guide", utm_source="facebook", utm_medium="paid") == (
        "Spring guide"  # a utm_campaign match beats a source/medium pair
    )
    assert resolved(utm_campaign="unknown", utm_source="facebook", utm_medium="paid") == (
        "Paid social"
    )
    assert resolved(utm_source="facebook", utm_medium="paid") == "Paid social"
    assert resolved(utm_source="facebook") is None
    assert resolved(utm_campaign="unknown") is None


def test_a_mapping_another_campaign_holds_is_refused_naming_the_line(system, spring):
    autumn = create_campaign(actor=system, name="Autumn", key="autumn")
    utm.set_utm_mappings(actor=system, campaign=spring, mappings=[{"utm_campaign": "promo"}])
    cases = [
        ([{"utm_campaign": "promo"}], "utm_mappings.0"),  # another's alias
        ([{"utm_campaign": "ok"}, {"utm_campaign": "spring-guide"}], "utm_mappings.1"),  # a key
        ([{"utm_campaign": "autumn"}], "utm_mappings.0.utm_campaign"),  # its own key
        ([{"utm_campaign": "a"}, {"utm_campaign": "A"}], "utm_mappings.1"),  # twice
        ([{}], "utm_mappings.0"),
        ([{"utm_campaign": "!!!"}], "utm_mappings.0.utm_campaign"),
        ([{"utm_term": "x"}], "utm_mappings.0"),
    ]
    for mappings, field in cases:
        with pytest.raises(ValidationError) as refused:
            utm.set_utm_mappings(actor=system, campaign=autumn, mappings=mappings)
        assert field in refused.value.message_dict, (mappings, refused.value.message_dict)
    assert not CampaignUtm.objects.filter(campaign=autumn).exists()
    # a key that is another campaign's alias is refused too
    with pytest.raises(ValidationError) as refused:
        update_campaign(actor=system, campaign=autumn, data={"key": "promo"})
    assert "key" in refused.value.message_dict


def test_a_mapping_removed_in_another_process_is_not_followed(system, spring):
    utm.set_utm_mappings(actor=system, campaign=spring, mappings=[{"utm_campaign": "promo"}])
    assert resolve_campaign(None, utm_campaign="promo") == spring  # cached now
    CampaignUtm.objects.all().delete()  # as another process would, leaving this cache stale
    assert resolve_campaign(None, utm_campaign="promo") is None


def test_resolving_a_tagged_capture_is_one_query(system, spring, django_assert_num_queries):
    utm.set_utm_mappings(actor=system, campaign=spring, mappings=[{"utm_campaign": "promo"}])
    resolve_campaign(None, utm_campaign="warm-up")  # loads the mappings
    with django_assert_num_queries(1):
        assert resolve_campaign(None, utm_campaign="promo") == spring
    with django_assert_num_queries(1):
        assert resolve_campaign(None, utm_campaign="spring-guide") == spring
    with django_assert_num_queries(1):
        assert resolve_campaign(None, utm_campaign="nothing") is None


@pytest.mark.django_db(transaction=True)
def test_a_form_post_tagged_with_an_alias_lands_on_the_campaign(system):
    utm.forget()
    spring = create_campaign(actor=system, name="Spring guide", key="spring-guide")
    utm.set_utm_mappings(
        actor=system, campaign=spring, mappings=[{"utm_campaign": "spring-newsletter"}]
    )
    form: WebForm = webforms.create_form(
        actor=system,
        data={
            "name": "Contact us",
            "key": "contact",
            "fields": [
                {"name": "first_name", "required": True},
                {"name": "email", "required": True},
            ],
        },
    )
    response = Client(enforce_csrf_checks=True).post(
        f"/f/{form.key}",
        {
            "first_name": "Ada",
            "email": "ada@example.com",
            "utm_campaign": "Spring-Newsletter",
            "utm_source": "newsletter",
            webforms.TIMESTAMP_FIELD: webforms.fill_token(form.key, shown_at=time.time() - 60),
        },
        HTTP_ORIGIN="http://shop.example.net",
    )
    assert response.status_code == 303, response.content
    touchpoint = Touchpoint.objects.get(person=Person.objects.get(email="ada@example.com"))
    assert touchpoint.campaign == spring
    assert touchpoint.utm_campaign == "Spring-Newsletter"  # kept as sent


# --- the page ------------------------------------------------------------------------------


def test_the_page_shows_budget_against_cost_lines_children_and_people(
    client, system, marketer, spring
):
    update_campaign(actor=system, campaign=spring, data={"planned_budget": "1000"})
    child = create_campaign(actor=system, name="Spring webinar", parent=spring)
    for amount in ("600.00", "650.25"):
        budgets.add_campaign_cost(
            actor=system, campaign=spring, data={"spent_on": "2026-03-02", "amount": amount}
        )
    client.force_login(marketer)
    page = client.get(reverse("campaigns:detail", args=[spring.pk]))
    assert page.status_code == 200
    text = page.text
    assert "1250.25" in text and "250.25" in text and "Over budget" in text
    assert child.name in text
    assert reverse("campaigns:cost_edit", args=[spring.pk, CampaignCost.objects.first().pk]) in (
        text
    )
    assert 'id="section-results"' in text  # reports' section through the extension point
    # a programme reads its budget and cost with everything under it
    budgets.add_campaign_cost(
        actor=system, campaign=child, data={"spent_on": "2026-03-04", "amount": "0.75"}
    )
    update_campaign(actor=system, campaign=child, data={"planned_budget": "500"})
    create_campaign(actor=system, name="Grandchild", parent=child, planned_budget="1.25")
    page = client.get(reverse("campaigns:detail", args=[spring.pk]))
    assert page.context["rollup"] == {
        "campaigns": 2,
        "planned_budget": Decimal("1501.25"),
        "actual_cost": Decimal("1251.00"),
    }


def test_the_form_edits_budget_parent_and_utm_mappings(client, system, marketer, spring):
    programme = create_campaign(actor=system, name="2026 programme")
    client.force_login(marketer)
    response = client.post(
        reverse("campaigns:edit", args=[spring.pk]),
        {
            "name": "Spring guide",
            "key": "spring-guide",
            "kind": "content",
            "parent": programme.pk,
            "planned_budget": "2500.00",
            "utm_mappings": "spring-2026\nspring, linkedin\n, facebook, paid\n",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content
    spring.refresh_from_db()
    assert (spring.parent, spring.planned_budget) == (programme, Decimal("2500.00"))
    assert {
        (m["utm_campaign"], m["utm_source"], m["utm_medium"]) for m in utm.mappings_of(spring)
    } == {
        ("spring-2026", "", ""),
        ("spring", "linkedin", ""),
        ("", "facebook", "paid"),
    }
    # a bad line is shown next to the field, and nothing changes
    response = client.post(
        reverse("campaigns:edit", args=[spring.pk]),
        {
            "name": "Renamed",
            "key": "spring-guide",
            "kind": "content",
            "planned_budget": "-5",
            "utm_mappings": "!!!",
        },
    )
    assert response.status_code == 400
    assert "planned_budget" in response.context["form"].errors
    response = client.post(
        reverse("campaigns:edit", args=[spring.pk]),
        {"name": "Renamed", "key": "spring-guide", "kind": "content", "utm_mappings": "!!!"},
    )
    assert response.status_code == 400
    assert "Line 1" in " ".join(response.context["form"].errors["utm_mappings"])
    assert Campaign.objects.get(pk=spring.pk).name == "Spring guide"
    # its own child cannot become its parent
    child = create_campaign(actor=system, name="Child", parent=spring)
    response = client.post(
        reverse("campaigns:edit", args=[spring.pk]),
        {"name": "Spring guide", "key": "spring-guide", "kind": "content", "parent": child.pk},
    )
    assert response.status_code == 400
    assert "ancestor" in str(response.context["form"].errors)


def test_cost_lines_are_added_edited_and_deleted_on_the_page(client, marketer, spring):
    client.force_login(marketer)
    add = reverse("campaigns:cost_add", args=[spring.pk])
    assert (
        client.post(add, {"spent_on": "2026-03-02", "amount": "99.99", "note": "Ads"}).status_code
        == 302
    )
    cost = CampaignCost.objects.get()
    assert (cost.amount, cost.note, cost.created_by) == (Decimal("99.99"), "Ads", marketer)
    refused = client.post(add, {"spent_on": "2026-03-02", "amount": "-1"})
    assert refused.status_code == 400 and "amount" in refused.context["cost_form"].errors
    edit = reverse("campaigns:cost_edit", args=[spring.pk, cost.pk])
    assert client.get(edit).status_code == 200
    assert client.post(edit, {"spent_on": "2026-03-03", "amount": "100"}).status_code == 302
    cost.refresh_from_db()
    assert (cost.spent_on.isoformat(), cost.amount) == ("2026-03-03", Decimal("100.00"))
    delete = reverse("campaigns:cost_delete", args=[spring.pk, cost.pk])
    assert client.get(delete).status_code == 405
    assert client.post(delete).status_code == 302
    assert not CampaignCost.objects.exists()
    # The page's history says what happened in words, not event codes.
    page = client.get(reverse("campaigns:detail", args=[spring.pk])).content.decode()
    assert "Cost added" in page and "Cost deleted" in page and "cost_added" not in page


def test_a_salesperson_sees_the_page_but_no_cost_or_budget_writes(
    client, system, salesperson, spring
):
    cost = budgets.add_campaign_cost(
        actor=system, campaign=spring, data={"spent_on": "2026-03-02", "amount": "10"}
    )
    client.force_login(salesperson)
    page = client.get(reverse("campaigns:detail", args=[spring.pk]))
    assert page.status_code == 200 and "Add the cost" not in page.text
    for method, name, args, data in [
        ("post", "campaigns:cost_add", [spring.pk], {"spent_on": "2026-03-02", "amount": "1"}),
        ("get", "campaigns:cost_edit", [spring.pk, cost.pk], {}),
        (
            "post",
            "campaigns:cost_edit",
            [spring.pk, cost.pk],
            {"spent_on": "2026-03-02", "amount": "1"},
        ),
        ("post", "campaigns:cost_delete", [spring.pk, cost.pk], {}),
        (
            "post",
            "campaigns:edit",
            [spring.pk],
            {"name": "X", "kind": "other", "planned_budget": "1"},
        ),
    ]:
        response = getattr(client, method)(reverse(name, args=args), data)
        assert response.status_code == 403, (name, method)
    assert CampaignCost.objects.get().amount == Decimal("10.00")
    assert Campaign.objects.get(pk=spring.pk).planned_budget is None


def test_a_cost_of_another_campaign_is_not_found_under_this_one(client, system, marketer, spring):
    other = create_campaign(actor=system, name="Other")
    cost = budgets.add_campaign_cost(
        actor=system, campaign=other, data={"spent_on": "2026-03-02", "amount": "10"}
    )
    client.force_login(marketer)
    assert (
        client.post(reverse("campaigns:cost_delete", args=[spring.pk, cost.pk])).status_code == 404
    )
    assert CampaignCost.objects.filter(pk=cost.pk).exists()


def test_the_people_list_filters_to_the_campaigns_people(client, system, marketer, spring):
    other = create_campaign(actor=system, name="Other")
    ada = people.create_person(actor=system, data={"last_name": "Lovelace"})
    bob = people.create_person(actor=system, data={"last_name": "Babbage"})
    record_touchpoint(person_id=ada.pk, kind="form_fill", campaign=spring)
    record_touchpoint(person_id=ada.pk, kind="page_visit", campaign=spring)
    record_touchpoint(person_id=bob.pk, kind="form_fill", campaign=other)
    client.force_login(marketer)
    page = client.get(reverse("campaigns:detail", args=[spring.pk]))
    link = f"{reverse('people:list')}?campaign={spring.pk}"
    assert link in page.text and "Lovelace" in page.text and "Babbage" not in page.text
    listed = client.get(link)
    assert listed.status_code == 200
    assert "Lovelace" in listed.text and "Babbage" not in listed.text
    by_key = client.get("/api/v1/people", {"campaign": "spring-guide"}).json()
    assert [p["last_name"] for p in by_key["items"]] == ["Lovelace"]
    refused = client.get("/api/v1/people", {"campaign": "nope"})
    assert refused.status_code == 422 and "campaign" in refused.text


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"spent_on": "someday", "amount": "10"}, "spent_on"),
        ({"spent_on": "2026-03-02", "amount": "10.001"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "-3"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "1e30"}, "amount"),
        ({"spent_on": "2026-03-02", "amount": "10", "note": "n" * 301}, "note"),
    ],
)
def test_a_bad_cost_edit_is_shown_next_to_the_field(client, system, marketer, spring, data, field):
    cost = budgets.add_campaign_cost(
        actor=system, campaign=spring, data={"spent_on": "2026-03-02", "amount": "10"}
    )
    client.force_login(marketer)
    response = client.post(reverse("campaigns:cost_edit", args=[spring.pk, cost.pk]), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert CampaignCost.objects.get().amount == Decimal("10.00")


def test_the_campaign_list_shows_budget_spent_and_filters_by_parent(client, system, marketer):
    programme = create_campaign(actor=system, name="Programme", planned_budget="900")
    create_campaign(actor=system, name="Child", parent=programme)
    budgets.add_campaign_cost(
        actor=system, campaign=programme, data={"spent_on": "2026-03-02", "amount": "12.34"}
    )
    client.force_login(marketer)
    page = client.get(reverse("campaigns:list"))
    assert "900.00" in page.text and "12.34" in page.text and "in Programme" in page.text
    under = client.get(reverse("campaigns:list"), {"parent": programme.pk})
    assert [c.name for c in under.context["page"].items] == ["Child"]
    refused = client.get(reverse("campaigns:list"), {"parent": "nobody"})
    assert refused.status_code == 400

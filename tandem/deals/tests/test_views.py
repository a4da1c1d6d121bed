"""The deal pages as salespeople and managers use them: the board with its column totals,
moving a card by the keyboard form and by the drag endpoint, the list with its filters and
exact totals, the deal page's sections, and the forms' errors next to their fields."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.deals import pipelines, services
from tandem.deals.api_filters import DealFilter
from tandem.deals.models import CloseReason, Deal, DealContact, DealStageChange, PipelineStage
from tandem.deals.queries import CARD_LIMIT, deal_totals, deals_page, pipeline_board
from tandem.followups import services as tasks
from tandem.people import services as people
from tandem.people.models import Activity, Company, Person

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


# --- data, made through the services as users would -------------------------------------


def stages() -> list[PipelineStage]:
    """The default pipeline's four stages (10, 20, 50 and 75 %), with both reason lists."""
    return list(pipelines.ensure_defaults().stages.order_by("position"))


def person(system: Actor, stage: str = "sal", email: str = "", **data: Any) -> Person:
    return people.create_person(
        actor=system,
        data={"first_name": "Ann", "last_name": "Lee", **data},
        stage=stage,
        email=email,
    )


def company(system: Actor, name: str = "Acme") -> Company:
    return people.create_company(actor=system, data={"name": name})


def deal(system: Actor, owner: User | None, name: str = "Acme rollout", **data: Any) -> Deal:
    return services.create_deal(
        actor=system,
        data={"name": name, "amount": "1000.00", "owner": owner.pk if owner else None, **data},
    )


def no_inline_script(page: str) -> bool:
    return not re.search(r"<script(?![^>]*\bsrc=)", page) and " onclick=" not in page


# --- the board --------------------------------------------------------------------------


def test_the_board_shows_each_stage_with_its_count_amount_and_weighted_amount(
    client, system, salesperson
):
    qual, _disc, prop, _nego = stages()
    deal(system, salesperson, "A", amount="1000.10", stage=qual.pk)
    deal(system, salesperson, "B", amount="2000.20", stage=qual.pk)
    deal(system, salesperson, "C", amount="333.33", stage=prop.pk)
    lost = deal(system, salesperson, "Lost one", amount="5000", stage=prop.pk)
    services.close_deal(
        actor=system,
        deal=lost,
        status="lost",
        reason_id=CloseReason.objects.get(kind="lost", name="Price").pk,
    )
    other = pipelines.create_pipeline(
        actor=system, data={"name": "Partners", "stages": [{"name": "Talk", "probability": 30}]}
    )
    deal(system, salesperson, "Elsewhere", amount="999", pipeline=other.pk)
    client.force_login(salesperson)

    response = client.get("/deals/")

    assert response.status_code == 200
    columns = {c["stage"].name: c for c in response.context["columns"]}
    assert list(columns) == ["Qualification", "Discovery", "Proposal", "Negotiation"]
    assert (columns["Qualification"]["count"], columns["Qualification"]["amount"]) == (
        2,
        "3,000.30 EUR",
    )
    assert columns["Qualification"]["weighted"] == "300.03 EUR"  # 10 %
    assert (columns["Proposal"]["count"], columns["Proposal"]["weighted"]) == (1, "166.67 EUR")
    assert columns["Discovery"]["count"] == 0 and columns["Negotiation"]["amount"] == "0.00 EUR"
    board = response.context["board"]
    assert board.amount == Decimal("3333.63") and board.weighted == Decimal("466.70")
    page = response.content.decode()
    assert ">Lost one<" not in page and ">Elsewhere<" not in page
    assert f'id="stage-{qual.pk}-h"' in page
    assert no_inline_script(page) and "deals/board.js" in page

    # The switcher shows the other pipeline's board.
    response = client.get(f"/deals/?pipeline={other.pk}")
    assert [c["stage"].name for c in response.context["columns"]] == ["Talk"]
    assert ">Elsewhere<" in response.content.decode()
    assert client.get("/deals/?pipeline=999999").status_code == 400


def test_a_column_shows_its_first_cards_and_counts_the_rest(system, salesperson):
    qual = stages()[0]
    for i in range(4):
        deal(system, salesperson, f"D{i}", stage=qual.pk, expected_close_on=f"2027-0{i + 1}-01")
    board = pipeline_board(pipelines.default_pipeline(), limit=3)
    column = board.columns[0]
    assert [d.name for d in column.cards] == ["D0", "D1", "D2"]  # soonest close first
    assert (column.count, column.more, column.amount) == (4, 1, Decimal("4000.00"))


def test_the_board_reads_the_same_number_of_queries_for_one_deal_or_many(
    system, salesperson, django_assert_num_queries
):
    qual, disc, *_ = stages()
    deal(system, salesperson, "First", stage=qual.pk)
    deal(system, salesperson, "Second", stage=disc.pk)
    pipeline = pipelines.default_pipeline()
    # The stages, the sums per stage, the shown ids of each of the two non-empty columns,
    # then all the shown cards with their company and owner.
    with django_assert_num_queries(5):
        pipeline_board(pipeline)
    for i in range(10):
        deal(system, salesperson, f"More {i}", stage=[qual, disc][i % 2].pk)
    with django_assert_num_queries(5):
        pipeline_board(pipeline)


def test_a_full_column_links_the_deals_it_does_not_show(client, system, manager):
    proposal = stages()[2]
    for i in range(CARD_LIMIT + 2):
        deal(system, manager, f"Deal {i:02}", stage=proposal.pk)
    client.force_login(manager)
    page = client.get("/deals/").content.decode()
    more = f"/deals/list/?pipeline={proposal.pipeline_id}&amp;stage={proposal.pk}&amp;status=open"
    assert f'<a href="{more}">2 more →</a>' in page
    assert page.count('class="deal-card"') == CARD_LIMIT


def test_the_list_reads_as_many_queries_for_one_deal_as_for_many(client, system, manager):
    deal(system, manager, "Only one")
    client.force_login(manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/deals/list/").status_code == 200
        return len(ctx.captured_queries)

    one = queries()
    for i in range(6):
        deal(system, manager, f"More {i}", company=company(system, f"Firm {i}").pk)
    assert queries() == one


def test_moving_a_card_with_its_keyboard_form_goes_back_to_the_board(client, system, salesperson):
    qual, disc, *_ = stages()
    acme = deal(system, salesperson, stage=qual.pk)
    client.force_login(salesperson)
    page = client.get("/deals/").content.decode()
    assert f'<select id="move-{acme.pk}" name="stage"' in page
    assert f'for="move-{acme.pk}">Move “Acme rollout” to</label>' in page

    response = client.post(
        f"/deals/{acme.pk}/move/", {"stage": disc.pk, "from": "board", "next": "/deals/"}
    )

    assert response.status_code == 302 and response["Location"] == "/deals/"
    assert Deal.objects.get(pk=acme.pk).stage == disc
    change = DealStageChange.objects.filter(deal=acme).latest("id")
    assert (change.from_stage, change.to_stage, change.changed_by) == (qual, disc, salesperson)


def test_the_drag_endpoint_answers_htmx_with_the_board_and_its_new_totals(
    client, system, salesperson
):
    qual, disc, *_ = stages()
    acme = deal(system, salesperson, amount="1500", stage=qual.pk)
    client.force_login(salesperson)

    response = client.post(
        f"/deals/{acme.pk}/move/", {"stage": disc.pk, "from": "board"}, headers=HTMX
    )

    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="board"')
    assert (
        f'data-moved="{acme.pk}"' in fragment and "Moved “Acme rollout” to Discovery." in fragment
    )
    columns = {c["stage"].name: c for c in response.context["columns"]}
    assert columns["Qualification"]["count"] == 0
    assert (columns["Discovery"]["count"], columns["Discovery"]["weighted"]) == (1, "300.00 EUR")
    assert Deal.objects.get(pk=acme.pk).stage == disc


def test_a_move_to_a_stage_that_does_not_exist_names_the_stage(client, system, salesperson):
    acme = deal(system, salesperson)
    client.force_login(salesperson)
    response = client.post(
        f"/deals/{acme.pk}/move/", {"stage": "999999", "from": "board"}, headers=HTMX
    )
    assert response.status_code == 422
    assert "stage:" in response.content.decode()
    response = client.post(f"/deals/{acme.pk}/move/", {"stage": "x"}, follow=True)
    assert "stage: " in next(str(m) for m in response.context["messages"])
    assert Deal.objects.get(pk=acme.pk).stage == stages()[0]


def test_a_closed_deal_cannot_be_moved_until_reopened(client, system, manager):
    acme = deal(system, manager)
    services.close_deal(actor=system, deal=acme, status="won", reason_id=None)
    client.force_login(manager)
    response = client.post(f"/deals/{acme.pk}/move/", {"stage": stages()[1].pk}, follow=True)
    assert "reopen it first" in str(next(iter(response.context["messages"])))


# --- the list ---------------------------------------------------------------------------


@pytest.fixture
def listed(system, salesperson, other_salesperson) -> dict[str, Deal]:
    qual, disc, prop, _ = stages()
    acme, globex = company(system, "Acme"), company(system, "Globex")
    made = {
        "a": deal(system, salesperson, "Acme rollout", amount="1000.10", stage=qual.pk,
                  company=acme.pk, expected_close_on="2027-01-10"),
        "b": deal(system, salesperson, "Acme pilot", amount="2000.20", stage=prop.pk,
                  company=acme.pk, expected_close_on="2027-02-10"),
        "c": deal(system, other_salesperson, "Globex renewal", amount="333.33",
                  stage=disc.pk, company=globex.pk, expected_close_on="2027-03-10"),
        "d": deal(system, other_salesperson, "Globex support", amount="100",
                  currency="USD", exchange_rate="0.5", stage=prop.pk),
    }  # fmt: skip
    services.close_deal(actor=system, deal=made["b"], status="won", reason_id=None)
    return made


def names(response) -> list[str]:
    return sorted(d.name for d in response.context["page"].items)


def test_the_list_filters_and_totals_every_deal_that_matches(client, salesperson, listed):
    client.force_login(salesperson)

    everything = client.get("/deals/list/")
    totals = everything.context["totals"]
    # 1000.10 + 2000.20 + 333.33 + 50.00 (100 USD at 0.5); weighted over the open ones:
    # 1000.10 x 10 % + 333.33 x 20 % + 50.00 x 50 % = 100.01 + 66.666 + 25 = 191.68
    assert totals == {
        "count": "4",
        "amount": "3,383.63 EUR",
        "open_amount": "1,383.43 EUR",
        "weighted": "191.68 EUR",
        "won_amount": "2,000.20 EUR",
    }
    assert names(client.get("/deals/list/?owner=me")) == ["Acme pilot", "Acme rollout"]
    assert names(client.get("/deals/list/?status=open&owner=me")) == ["Acme rollout"]
    acme = listed["a"].company_id
    assert names(client.get(f"/deals/list/?company={acme}")) == ["Acme pilot", "Acme rollout"]
    assert names(client.get("/deals/list/?q=glob")) == ["Globex renewal", "Globex support"]
    assert names(client.get("/deals/list/?q=acme+roll")) == ["Acme rollout"]
    assert names(client.get(f"/deals/list/?stage={stages()[2].pk}")) == [
        "Acme pilot",
        "Globex support",
    ]
    ranged = client.get("/deals/list/?close_from=2027-02-01&close_to=2027-03-31")
    assert names(ranged) == ["Acme pilot", "Globex renewal"]
    cheap = client.get("/deals/list/?amount_min=50&amount_max=1000.10")
    assert names(cheap) == ["Acme rollout", "Globex renewal", "Globex support"]
    assert cheap.context["totals"]["amount"] == "1,383.43 EUR"
    pipeline = pipelines.default_pipeline().pk
    assert len(names(client.get(f"/deals/list/?pipeline={pipeline}"))) == 4


def test_totals_are_exact_decimals_over_the_whole_filtered_set(salesperson, listed):
    totals = deal_totals(viewer=salesperson, filters=DealFilter.from_query({"owner": "me"}))
    assert (totals.count, totals.amount, totals.won_amount) == (
        2,
        Decimal("3000.30"),
        Decimal("2000.20"),
    )
    assert totals.weighted == Decimal("100.01")
    # Half a cent rounds up: 0.05 x 10 % = 0.005.
    tiny = DealFilter.from_query({"q": "tiny"})
    deal(Actor.system("t"), salesperson, "Tiny", amount="0.05")
    assert deal_totals(viewer=salesperson, filters=tiny).weighted == Decimal("0.01")


def test_the_list_pages_by_keyset(salesperson, listed):
    filters = DealFilter.from_query({"sort": "oldest"})
    first = deals_page(viewer=salesperson, filters=filters, limit=3)
    assert [d.name for d in first.items] == ["Acme rollout", "Acme pilot", "Globex renewal"]
    assert first.next_cursor
    second = deals_page(viewer=salesperson, filters=filters, limit=3, cursor=first.next_cursor)
    assert [d.name for d in second.items] == ["Globex support"] and second.next_cursor is None
    newest = deals_page(viewer=salesperson, filters=DealFilter.from_query({}), limit=50)
    assert newest.items[0].name == "Globex support"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("amount_min=lots", "amount_min"),
        ("amount_min=-1", "amount_min"),
        ("amount_min=10&amount_max=5", "amount_max"),
        ("close_from=2027-13-01", "close_from"),
        ("close_from=2027-05-01&close_to=2027-04-01", "close_to"),
        ("status=maybe", "status"),
        ("owner=ghost", "owner"),
        ("stage=999999", "stage"),
        ("pipeline=abc", "pipeline"),
        ("company=999999", "company"),
        ("sort=amount", "sort"),
        ("person=999999", "person"),
        ("cursor=bogus", "cursor"),
    ],
)
def test_a_bad_filter_is_named_next_to_its_field(client, salesperson, query, field):
    client.force_login(salesperson)
    response = client.get("/deals/list/?" + query)
    assert response.status_code == 400
    assert field in response.context["errors"]
    assert f'id="err-{field}">' in response.content.decode() or field == "cursor"


def test_the_list_answers_htmx_with_its_results_alone(client, salesperson, listed):
    client.force_login(salesperson)
    response = client.get("/deals/list/?q=acme", headers={**HTMX, "HX-Target": "results"})
    fragment = response.content.decode()
    assert "<html" not in fragment and 'id="total-count">2<' in fragment


# --- opening and editing ----------------------------------------------------------------


def test_open_a_deal_from_an_accepted_lead(client, system, salesperson):
    acme = company(system, "Acme")
    ann = person(system, "sal", company=acme, owner=salesperson)
    client.force_login(salesperson)

    form = client.get(f"/deals/new/?person={ann.pk}").context["form"]
    assert form.initial["person"] == ann.pk and form.initial["company"] == "Acme"
    assert form.initial["owner"] == salesperson.pk

    response = client.post(
        "/deals/new/",
        {
            "name": "Acme rollout",
            "pipeline": pipelines.default_pipeline().pk,
            "stage": "",
            "company": "Acme",
            "owner": salesperson.pk,
            "amount": "12000",
            "currency": "EUR",
            "expected_close_on": "2027-03-31",
            "person": ann.pk,
            "role": "decision_maker",
        },
    )

    made = Deal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/deals/{made.pk}/"
    assert (made.company, made.owner, made.amount_base) == (acme, salesperson, Decimal("12000"))
    assert DealContact.objects.get(deal=made).person == ann
    assert Person.objects.get(pk=ann.pk).stage == "opportunity"


def test_the_person_and_company_cards_offer_to_open_a_deal(client, system, salesperson, marketer):
    acme = company(system, "Acme")
    ann = person(system, "sal", company=acme)
    client.force_login(salesperson)
    assert (
        f'href="/deals/new/?person={ann.pk}"' in client.get(f"/people/{ann.pk}/").content.decode()
    )
    page = client.get(f"/companies/{acme.pk}/").content.decode()
    assert f'href="/deals/new/?company={acme.pk}"' in page
    form = client.get(f"/deals/new/?company={acme.pk}").context["form"]
    assert form.initial["company"] == "Acme" and "person" not in form.initial

    client.force_login(marketer)  # reads deals, opens none
    assert "/deals/new/" not in client.get(f"/people/{ann.pk}/").content.decode()


def test_bad_input_in_the_deal_form_names_each_field(client, salesperson):
    client.force_login(salesperson)
    response = client.post(
        "/deals/new/",
        {"name": "", "pipeline": "x", "amount": "-5", "currency": "E1", "exchange_rate": "0"},
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {
        "name",
        "pipeline",
        "amount",
        "currency",
        "exchange_rate",
    }
    page = response.content.decode()
    assert 'id="id_name_error"' in page and 'aria-invalid="true"' in page


def test_the_service_refusal_lands_next_to_its_field(client, manager):
    """The form checks shapes; the service checks rules (a rate for another currency)."""
    client.force_login(manager)
    response = client.post(
        "/deals/new/",
        {
            "name": "Dollars",
            "pipeline": pipelines.default_pipeline().pk,
            "amount": "100",
            "currency": "USD",
        },
    )
    assert response.status_code == 400
    assert "exchange_rate" in response.context["form"].errors


def test_edit_changes_only_what_was_changed(client, system, manager):
    acme = deal(system, manager, amount="100")
    client.force_login(manager)
    form = client.get(f"/deals/{acme.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data |= {"owner": manager.pk, "amount": "250.50", "expected_close_on": "2027-06-30"}
    response = client.post(f"/deals/{acme.pk}/edit/", data)
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.amount_base == Decimal("250.50") and acme.expected_close_on == dt.date(2027, 6, 30)
    assert client.post(f"/deals/{acme.pk}/edit/", {**data, "name": ""}).status_code == 400


# --- the deal page ----------------------------------------------------------------------


def test_the_deal_page_shows_contacts_history_timeline_and_tasks(client, system, salesperson):
    acme = company(system, "Acme")
    ann = person(system, "sal", company=acme, first_name="Ann")
    bob = person(system, "lead", first_name="Bob", last_name="Stone")
    made = deal(
        system,
        salesperson,
        company=acme.pk,
        contacts=[
            {"person": ann.pk, "role": "champion", "is_primary": True},
            {"person": bob.pk, "role": "user", "is_primary": False},
        ],
    )
    services.move_deal(actor=system, deal=made, stage_id=stages()[1].pk, note="Demo booked")
    people.log_activity(actor=system, kind="call", person=ann, subject="Discovery call")
    tasks.create_task(system, kind="call", title="Send the offer", person=bob, owner=salesperson)
    tasks.create_task(system, kind="todo", title="Check credit", company=acme)
    client.force_login(salesperson)

    response = client.get(f"/deals/{made.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    contacts = [(r["person"].first_name, r["role"]) for r in response.context["contacts"]]
    assert contacts == [("Ann", "Champion"), ("Bob", "User")]
    titles = [row["entry"].title for row in response.context["timeline"]]
    assert "Qualification → Discovery" in titles and "Discovery call" in titles
    assert "Opened in Qualification" in titles
    assert "Sales accepted → Opportunity" in titles  # the contact's funnel move
    assert sorted(t.title for t in response.context["tasks"].open) == [
        "Check credit",
        "Send the offer",
    ]
    assert "Demo booked" in page and "Weighted" in page and "200.00 EUR" in page
    for anchor in ('id="stage"', 'id="timeline"', 'id="contacts"', 'id="tasks"', 'id="audit"'):
        assert anchor in page
    assert "Close won or lost" in page and f"/deals/{made.pk}/edit/" in page
    assert no_inline_script(page)
    assert client.get("/deals/999999/").status_code == 404


def test_close_lost_needs_a_reason_then_reopen(client, system, salesperson):
    acme = deal(system, salesperson)
    client.force_login(salesperson)

    response = client.post(f"/deals/{acme.pk}/close/", {"close-status": "lost"})
    assert response.status_code == 400
    assert "lost_reason" in response.context["close_form"].errors

    price = CloseReason.objects.get(kind="lost", name="Price")
    response = client.post(
        f"/deals/{acme.pk}/close/",
        {
            "close-status": "lost",
            "close-lost_reason": price.pk,
            "close-competitor": "Globex",
            "close-note": "Half the price",
        },
    )
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.status, acme.close_reason, acme.competitor) == ("lost", price, "Globex")
    page = client.get(f"/deals/{acme.pk}/").content.decode()
    assert "Globex" in page and "Reopen" in page and "Close won or lost" not in page

    response = client.post(f"/deals/{acme.pk}/reopen/", {"reopen-stage": stages()[2].pk})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert (acme.status, acme.stage) == ("open", stages()[2])


def test_the_close_form_names_a_missing_outcome(client, system, salesperson):
    acme = deal(system, salesperson)
    client.force_login(salesperson)
    response = client.post(f"/deals/{acme.pk}/close/", {"close-won_reason": "nope"})
    assert response.status_code == 400
    assert set(response.context["close_form"].errors) == {"status", "won_reason"}


def test_win_moves_contacts_to_customer(client, system, manager):
    ann = person(system, "sal")
    acme = deal(system, manager, contacts=[{"person": ann.pk, "role": "champion"}])
    client.force_login(manager)
    response = client.post(f"/deals/{acme.pk}/close/", {"close-status": "won"})
    assert response.status_code == 302
    assert Person.objects.get(pk=ann.pk).stage == "customer"


def test_add_and_remove_contacts(client, system, salesperson):
    acme = company(system, "Acme")
    ann = person(system, "sal", company=acme)
    bob = person(system, "lead", first_name="Bob", email="bob@example.com")
    made = deal(system, salesperson, company=acme.pk)
    client.force_login(salesperson)

    form = client.get(f"/deals/{made.pk}/").context["contact_form"]
    assert (ann.pk, str(ann)) in form.fields["person"].choices
    assert (
        client.post(
            f"/deals/{made.pk}/contacts/", {"contact-person": ann.pk, "contact-role": "champion"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/deals/{made.pk}/contacts/",
            {
                "contact-email": "BOB@example.com",
                "contact-role": "user",
                "contact-is_primary": "on",
            },
        ).status_code
        == 302
    )
    roles = dict(DealContact.objects.filter(deal=made).values_list("person_id", "role"))
    assert roles == {ann.pk: "champion", bob.pk: "user"}

    missing = client.post(
        f"/deals/{made.pk}/contacts/",
        {"contact-email": "nobody@example.com", "contact-role": "user"},
    )
    assert missing.status_code == 400 and "email" in missing.context["contact_form"].errors
    bad_role = client.post(f"/deals/{made.pk}/contacts/", {"contact-role": "boss"})
    assert set(bad_role.context["contact_form"].errors) == {"role"}

    assert client.post(f"/deals/{made.pk}/contacts/remove/", {"person": bob.pk}).status_code == 302
    assert list(DealContact.objects.filter(deal=made).values_list("person_id", flat=True)) == [
        ann.pk
    ]


def test_log_a_call_with_a_contact_from_the_deal_page(client, system, salesperson):
    ann = person(system, "sal")
    made = deal(system, salesperson, contacts=[{"person": ann.pk, "role": "champion"}])
    client.force_login(salesperson)
    response = client.post(
        f"/deals/{made.pk}/activities/",
        {"contact": ann.pk, "activity-kind": "call", "activity-subject": "Pricing call"},
    )
    assert response.status_code == 302
    assert Activity.objects.get(person=ann).subject == "Pricing call"
    stranger = person(system, "lead", first_name="Zed")
    response = client.post(
        f"/deals/{made.pk}/activities/", {"contact": stranger.pk, "activity-kind": "call"}
    )
    assert response.status_code == 400 and not Activity.objects.filter(person=stranger).exists()


def test_delete_asks_then_deletes(client, system, manager):
    made = deal(system, manager)
    client.force_login(manager)
    assert "Delete the deal" in client.get(f"/deals/{made.pk}/delete/").content.decode()
    response = client.post(f"/deals/{made.pk}/delete/")
    assert response.status_code == 302 and response["Location"].startswith("/deals/")
    assert not Deal.objects.exists()


def test_the_main_menu_links_the_board(client, marketer):
    client.force_login(marketer)
    links = client.get("/tasks/").context["nav_links"]
    assert {"label": "Deals", "url": "/deals/", "current": False} in links


def test_bad_input_on_the_deal_page_names_the_field(client, system, salesperson):
    ann = person(system, "sal")
    made = deal(system, salesperson, contacts=[{"person": ann.pk, "role": "champion"}])
    client.force_login(salesperson)
    url = f"/deals/{made.pk}"

    long_note = client.post(
        f"{url}/move/", {"stage": stages()[1].pk, "note": "x" * 501}, follow=True
    )
    assert "note: " in next(str(m) for m in long_note.context["messages"])
    closing = client.post(f"{url}/close/", {"close-status": "won", "close-competitor": "x" * 201})
    assert set(closing.context["close_form"].errors) == {"competitor"}
    reopening = client.post(f"{url}/reopen/", {"reopen-stage": "abc"})
    assert set(reopening.context["reopen_form"].errors) == {"stage"}
    removing = client.post(f"{url}/contacts/remove/", {"person": "someone"}, follow=True)
    assert "person: " in next(str(m) for m in removing.context["messages"])
    logging = client.post(f"{url}/activities/", {"contact": ann.pk, "activity-kind": "fax"})
    assert set(logging.context["activity_form"].errors) == {"kind"}
    assert Deal.objects.get(pk=made.pk).stage == stages()[0]


def test_add_a_task_about_a_contact_from_the_deal_page(client, system, salesperson):
    ann = person(system, "sal")
    made = deal(system, salesperson, contacts=[{"person": ann.pk, "role": "champion"}])
    client.force_login(salesperson)
    page = client.get(f"/deals/{made.pk}/").content.decode()
    assert 'name="task-person"' in page and 'action="/tasks/new/"' in page
    response = client.post(
        "/tasks/new/",
        {
            "task-person": ann.pk,
            "task-title": "Send the proposal",
            "task-kind": "email",
            "task-owner": "",
            "next": f"/deals/{made.pk}/",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/deals/{made.pk}/"
    shown = client.get(f"/deals/{made.pk}/").context["tasks"].open
    assert [(t.title, t.person_id, t.owner_id) for t in shown] == [
        ("Send the proposal", ann.pk, salesperson.pk)
    ]

"""Hot pages read a fixed number of queries however many rows they show (no N+1).

Each page is measured with 1 and with 50 rows of everything it lists; the
count must be the same. The comments name each query.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from tandem.accounts.models import Role, User
from tandem.people import services
from tandem.people.models import Stage

# session, the signed-in user
AUTH = 2
# + capped COUNT(*), the page of people joined to company and owner, the owner filter's users,
#   the consent purposes for the "may be emailed for" filter (capture's, ADR 0005),
#   the send-back reasons for the "sent back as" filter (routing's, ADR 0005),
#   the campaigns for the "touched by campaign" filter (campaigns', ADR 0005)
PEOPLE_LIST = AUTH + 6
# A one-word search runs three conditions (last name, first name, email prefix), each
# its own index range (ADR 0004): session, the signed-in user, the companies whose name
# starts with the text, the page's sort keys per condition (3), the page's people joined
# to company and owner, the capped count's ids per condition (3), the owner filter's users,
# the consent purposes, the send-back reasons, the campaigns
PEOPLE_LIST_SEARCHED = AUTH + 1 + 3 + 1 + 3 + 1 + 1 + 1 + 1
# On SQLite, + one capped breadth probe per condition not on the sort's leading column
# (all three under sort=-created_at): SQLite has no range statistics (core.pagination).
SQLITE_BREADTH_PROBES = 3
# + the person joined to company and owner, their emails, their phones, the custom field
#   definitions, the stage history, the timeline's activities, stage changes and
#   touchpoints, the audit events, then the owners and the companies those events name,
#   then the consent card (ADR 0005): purposes, the person's consents, their events,
#   then the score card (scoring's, ADR 0005): the stored score, the active rule set,
#   the override history;
#   then the predicted likelihood card (scoring, ADR 0012): the prediction with its version;
#   then the tasks card (followups, ADR 0005): the person's tasks, the users its form offers;
#   then the hand-off card (routing's, ADR 0005): the current hand-off (none here)
#   then the routing card (routing's, ADR 0005): the current hand-off with owner and team
#   then the deals card (deals', ADR 0005): the person's roles on deals, those deals with
#   pipeline, stage and owner, their open/won totals
PERSON_PAGE = AUTH + 25
# + the company with its owner, the custom field definitions, its people, their capped
#   count, its audit events, its own activities and its people's activities,
#   then the tasks card (followups, ADR 0005): its and its people's tasks, the users its
#   form offers, then the deals card (deals', ADR 0005): the company's deals, their totals
COMPANY_PAGE = AUTH + 11


def make_people(system, n: int) -> list:
    owners = [
        User.objects.create_user(username=f"owner{i}", password="x", role=Role.SALESPERSON)
        for i in range(3)
    ]
    people = []
    for i in range(n):
        company = services.create_company(actor=system, data={"name": f"Company {i:02d}"})
        people.append(
            services.create_person(
                actor=system,
                data={
                    "first_name": f"First{i:02d}",
                    "last_name": f"Last{i:02d}",
                    "company": company,
                    "owner": owners[i % 3],
                },
                email=f"person{i:02d}@example.com",
            )
        )
    return people


@pytest.mark.parametrize("rows", [1, 50])
def test_people_list_queries_do_not_grow_with_rows(
    client, admin, system, rows, django_assert_num_queries
):
    make_people(system, rows)
    client.force_login(admin)
    with django_assert_num_queries(PEOPLE_LIST):
        response = client.get(reverse("people:list"))
    assert response.content.decode().count('data-label="Stage"') == rows


@pytest.mark.parametrize("rows", [1, 50])
def test_searched_people_list_queries_do_not_grow_with_rows(
    client, admin, system, rows, django_assert_num_queries
):
    make_people(system, rows)
    client.force_login(admin)
    expected = PEOPLE_LIST_SEARCHED + (
        SQLITE_BREADTH_PROBES if connection.vendor == "sqlite" else 0
    )
    with django_assert_num_queries(expected):
        response = client.get(reverse("people:list") + "?q=first&sort=-created_at")
    assert response.content.decode().count('data-label="Stage"') == rows


def fill_person(system, person, rows: int) -> None:
    """`rows` emails, phones, activities and stage changes (and their audit events)."""
    for i in range(rows - 1):
        services.add_email(actor=system, person=person, email=f"extra{i:02d}@example.com")
        services.add_phone(actor=system, person=person, phone=f"+49 30 12345{i:02d}")
    if rows > 1:
        services.add_phone(actor=system, person=person, phone="+44 20 7946 0958")
    stages = [Stage.MQL, Stage.LEAD]
    for i in range(rows - 1):  # the creation is the first stage change
        services.change_stage(
            person=person, to_stage=stages[i % 2], actor=system, reason=f"Reason {i}"
        )
    for i in range(rows):
        services.log_activity(actor=system, person=person, kind="call", subject=f"Call {i}")
    if rows > 1:
        # The newest audit events name an owner and a company, as the creation does.
        other = services.create_company(actor=system, data={"name": "Other"})
        owner = User.objects.create_user(username="newowner", password="x")
        services.update_person(actor=system, person=person, data={"company": other, "owner": owner})


@pytest.mark.parametrize("rows", [1, 50])
def test_person_page_queries_do_not_grow_with_rows(
    client, admin, system, salesperson, rows, django_assert_num_queries
):
    acme = services.create_company(actor=system, data={"name": "Acme"})
    person = services.create_person(
        actor=system,
        data={"first_name": "Ada", "last_name": "Lovelace", "company": acme, "owner": salesperson},
        email="ada@example.com",
    )
    fill_person(system, person, rows)
    client.force_login(admin)
    with django_assert_num_queries(PERSON_PAGE):
        response = client.get(reverse("people:detail", args=[person.pk]))
    html = response.content.decode()
    assert html.count('<li class="kind-call">') == rows
    assert html.count("mailto:") == rows


@pytest.mark.parametrize("rows", [1, 50])
def test_company_page_queries_do_not_grow_with_rows(
    client, admin, system, rows, django_assert_num_queries
):
    acme = services.create_company(actor=system, data={"name": "Acme"})
    for i in range(rows):
        person = services.create_person(
            actor=system, data={"last_name": f"Worker{i:02d}", "company": acme}
        )
        services.log_activity(actor=system, person=person, kind="meeting", subject="Kick-off")
        services.log_activity(actor=system, company=acme, kind="note", body=f"Note {i}")
    client.force_login(admin)
    with django_assert_num_queries(COMPANY_PAGE):
        response = client.get(reverse("people:company_detail", args=[acme.pk]))
    assert response.content.decode().count('data-label="Stage"') == rows

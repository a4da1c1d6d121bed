"""API lists cost the same number of queries for 1 row as for 50 (no N+1)."""

from __future__ import annotations

import pytest

from tandem.accounts.services import create_token
from tandem.people import services


@pytest.fixture
def api(client, system, marketer):
    _, raw = create_token(actor=system, user=marketer, name="tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    client.get("/api/v1/me")  # notes the token's last use now, so lists don't write it
    return client


def add_people(system, n: int, *, owner, company) -> None:
    for i in range(n):
        person = services.create_person(
            actor=system,
            data={
                "first_name": f"P{i}",
                "last_name": f"Person{i:03d}",
                "owner": owner,
                "company": company,
            },
            email=f"p{i}@example.com",
            phone=f"+1415555{i:04d}",
        )
        services.add_email(actor=system, person=person, email=f"p{i}@work.example")


@pytest.mark.parametrize("n", [1, 50])
def test_people_list_queries_do_not_grow_with_rows(
    api, system, salesperson, n, django_assert_num_queries
):
    acme = services.create_company(actor=system, data={"name": "Acme", "owner": salesperson})
    add_people(system, n, owner=salesperson, company=acme)
    # 1 token with its user, 2 capped count, 3 page with company and owner joined,
    # 4 the page's emails, 5 the page's phones
    with django_assert_num_queries(5):
        response = api.get("/api/v1/people", {"limit": 50})
    body = response.json()
    assert len(body["items"]) == n
    assert all(len(p["emails"]) == 2 and p["company"] and p["owner"] for p in body["items"])


@pytest.mark.parametrize("n", [1, 50])
def test_company_people_list_queries_do_not_grow_with_rows(
    api, system, salesperson, n, django_assert_num_queries
):
    acme = services.create_company(actor=system, data={"name": "Acme"})
    add_people(system, n, owner=salesperson, company=acme)
    # 1 token with its user, 2 the company, 3 capped count, 4 page with company and owner,
    # 5 the page's emails, 6 the page's phones
    with django_assert_num_queries(6):
        response = api.get(f"/api/v1/companies/{acme.pk}/people", {"limit": 50})
    assert len(response.json()["items"]) == n


@pytest.mark.parametrize("n", [1, 50])
def test_company_list_queries_do_not_grow_with_rows(
    api, system, salesperson, n, django_assert_num_queries
):
    for i in range(n):
        services.create_company(
            actor=system, data={"name": f"Company {i:03d}", "owner": salesperson}
        )
    # 1 token with its user, 2 capped count, 3 page with owner joined
    with django_assert_num_queries(3):
        response = api.get("/api/v1/companies", {"limit": 50})
    body = response.json()
    assert len(body["items"]) == n and all(c["owner"]["username"] == "sam" for c in body["items"])


@pytest.mark.parametrize("n", [1, 50])
def test_person_detail_and_timeline_queries_do_not_grow(api, system, n, django_assert_num_queries):
    person = services.create_person(
        actor=system, data={"last_name": "Busy"}, email="busy@example.com"
    )
    for i in range(n):
        services.log_activity(actor=system, kind="call", person=person, subject=f"Call {i}")
        services.add_phone(actor=system, person=person, phone=f"+1415555{i:04d}")
    # 1 token with its user, 2 person with company and owner, 3 emails, 4 phones,
    # 5-7 consents (capture's section, ADR 0005): purposes, the person's consents with
    # their texts, their events with forms and texts, 8-10 the score (scoring's section):
    # the stored score, the active rule set's threshold, the override history, 11 the
    # current hand-off with its owner and team (routing's section)
    with django_assert_num_queries(11):
        assert len(api.get(f"/api/v1/people/{person.pk}").json()["phones"]) == n
    # 1 token with its user, 2-4 the person as above, 5 activities, 6 stage changes,
    # 7 touchpoints with their campaigns
    with django_assert_num_queries(7):
        assert len(api.get(f"/api/v1/people/{person.pk}/timeline").json()["items"]) == n + 1

"""The deal list costs the same number of queries for 1 deal as for 50 (no N+1)."""

from __future__ import annotations

import pytest

from tandem.accounts.actor import Actor
from tandem.accounts.services import create_token
from tandem.deals import services
from tandem.people import services as people

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, system, marketer):
    _, raw = create_token(actor=system, user=marketer, name="tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    client.get("/api/v1/me")  # notes the token's last use now, so lists don't write it
    return client


@pytest.mark.parametrize("n", [1, 50])
def test_deal_list_queries_do_not_grow_with_rows(
    api, system, manager, n, django_assert_num_queries
):
    acme = people.create_company(actor=system, data={"name": "Acme"})
    ann = people.create_person(actor=system, data={"first_name": "Ann"}, stage="customer")
    for i in range(n):
        services.create_deal(
            actor=Actor.for_user(manager),
            data={
                "name": f"Deal {i}",
                "company": acme.pk,
                "amount": "100",
                "contacts": [{"person": ann.pk, "role": "user"}],
            },
        )
    # 1 token with its user, 2 capped count, 3 page with pipeline, stage, owner, company
    # and close reason joined, 4 the page's contacts, 5 their people, 6 open totals,
    # 7 won total
    with django_assert_num_queries(7):
        response = api.get("/api/v1/deals", {"limit": 50})
    body = response.json()
    assert len(body["items"]) == n
    assert all(d["contacts"] and d["company"] and d["owner"] for d in body["items"])
    assert body["totals"]["open_amount"] == f"{100 * n}.00"

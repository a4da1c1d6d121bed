"""Lists count exactly up to COUNT_CAP and say "at least" beyond it (ADR 0004).

Counting a million people costs more than the page itself, so past the cap
every list reports COUNT_CAP with `count_exact` false and the pages read
"10,000+". These tests put COUNT_CAP + 1 rows in the real tables and read each
list that shows a count, through the API and the pages: a list that counts
exactly past the cap (or calls a capped count exact) fails here.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.services import create_token
from tandem.core.pagination import COUNT_CAP
from tandem.people.models import Company, Person

pytestmark = pytest.mark.django_db

CROWD = COUNT_CAP + 1


@pytest.fixture
def crowd_company() -> Company:
    """One company with COUNT_CAP + 1 live people (set-based, as an import writes them)."""
    company = Company.objects.create(name="Crowd Ltd", name_key="crowd ltd")
    now = timezone.now()
    Person.objects.bulk_create(
        (
            Person(
                first_name="Pat",
                first_name_key="pat",
                last_name=f"Capped{i:05d}",
                last_name_key=f"capped{i:05d}",
                company=company,
                stage_changed_at=now,
            )
            for i in range(CROWD)
        ),
        batch_size=2000,
    )
    return company


@pytest.fixture
def api(client, admin):
    _, raw = create_token(actor=Actor.for_user(admin), user=admin, name="count cap")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def _count(response) -> tuple[int, bool]:
    assert response.status_code == 200, response.content
    body = response.json()
    return body["count"], body["count_exact"]


def test_people_list_counts_past_the_cap_as_a_floor(api, crowd_company):
    assert _count(api.get("/api/v1/people", {"limit": 1})) == (COUNT_CAP, False)
    # Filtered by company, and searched (the search merges one range per condition).
    assert _count(api.get("/api/v1/people", {"limit": 1, "company": crowd_company.pk})) == (
        COUNT_CAP,
        False,
    )
    assert _count(api.get("/api/v1/people", {"limit": 1, "q": "capped"})) == (COUNT_CAP, False)


def test_people_list_counts_exactly_at_the_cap(api, crowd_company):
    Person.objects.filter(pk=Person.objects.order_by("id").values("id")[:1]).delete()
    assert Person.objects.count() == COUNT_CAP
    assert _count(api.get("/api/v1/people", {"limit": 1})) == (COUNT_CAP, True)
    assert _count(api.get("/api/v1/people", {"limit": 1, "q": "capped"})) == (COUNT_CAP, True)


def test_people_and_company_pages_say_at_least_past_the_cap(client, admin, crowd_company):
    client.force_login(admin)
    html = client.get(reverse("people:list")).content.decode()
    assert f"of {COUNT_CAP:,}+" in html
    html = client.get(reverse("people:list"), {"q": "capped"}).content.decode()
    assert f"of {COUNT_CAP:,}+" in html
    html = client.get(reverse("people:company_detail", args=[crowd_company.pk])).content.decode()
    assert f"All {COUNT_CAP:,}+ people at Crowd Ltd" in html
    assert f"{CROWD:,}" not in html


def test_company_list_counts_past_the_cap_as_a_floor(api, client, admin):
    Company.objects.bulk_create(
        (Company(name=f"Firm {i:05d}", name_key=f"firm {i:05d}") for i in range(CROWD)),
        batch_size=2000,
    )
    assert _count(api.get("/api/v1/companies", {"limit": 1})) == (COUNT_CAP, False)
    client.force_login(admin)
    html = client.get(reverse("people:company_list")).content.decode()
    assert f"of {COUNT_CAP:,}+" in html
    Company.objects.filter(pk=Company.objects.order_by("id").values("id")[:1]).delete()
    assert _count(api.get("/api/v1/companies", {"limit": 1})) == (COUNT_CAP, True)

"""The people list: filters, sorts and keyset pages give every row once, in order."""

import pytest
from django.core.exceptions import ValidationError

from tandem.people import services
from tandem.people.filters import PersonFilter
from tandem.people.queries import lifecycle_counts, people_page


@pytest.fixture
def people(system):
    names = [
        ("Ada", "Lovelace"),
        ("Alan", "Turing"),
        ("Grace", "Hopper"),
        ("Ada", "Byron"),
        ("Edsger", "Dijkstra"),
    ]
    acme = services.create_company(actor=system, data={"name": "Acme Robotics"})
    out = []
    for i, (first, last) in enumerate(names):
        out.append(
            services.create_person(
                actor=system,
                data={"first_name": first, "last_name": last, "company": acme if i == 2 else None},
                email=f"{first}.{last}@example.com".lower(),
            )
        )
    return out


def test_keyset_pages_walk_every_person_once_in_name_order(people):
    seen, cursor = [], None
    while True:
        page = people_page(viewer=None, filters=PersonFilter(sort="name"), limit=2, cursor=cursor)
        seen += [p.last_name for p in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == ["Byron", "Dijkstra", "Hopper", "Lovelace", "Turing"]


def test_descending_created_pages(people):
    first = people_page(viewer=None, filters=PersonFilter(sort="-created_at"), limit=3)
    rest = people_page(
        viewer=None, filters=PersonFilter(sort="-created_at"), limit=3, cursor=first.next_cursor
    )
    ids = [p.pk for p in first.items + rest.items]
    assert ids == sorted((p.pk for p in people), reverse=True)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ada", {"Lovelace", "Byron"}),
        ("TUR", {"Turing"}),
        ("grace.h", {"Hopper"}),
        ("acme", {"Hopper"}),
        ("ada by", {"Byron"}),
    ],
)
def test_search_by_name_email_or_company_prefix(people, q, expected):
    page = people_page(viewer=None, filters=PersonFilter(q=q), limit=50)
    assert {p.last_name for p in page.items} == expected
    assert page.count == len(expected) and page.count_exact


def test_email_filter_ignores_case_and_spaces(people):
    page = people_page(
        viewer=None, filters=PersonFilter(email="  ALAN.Turing@EXAMPLE.com "), limit=50
    )
    assert [p.last_name for p in page.items] == ["Turing"]


def test_a_tampered_cursor_is_a_clear_error(people):
    with pytest.raises(ValidationError) as err:
        people_page(viewer=None, filters=PersonFilter(), limit=2, cursor="not-a-cursor")
    assert "cursor" in err.value.message_dict


def test_bad_filter_values_name_the_field():
    with pytest.raises(ValidationError) as err:
        PersonFilter.from_query({"stage": "hot", "sort": "name"})
    assert "stage" in err.value.message_dict


def test_lifecycle_counts_follow_the_funnel(people, system):
    services.change_stage(person=people[0], to_stage="mql", actor=system)
    counts = {c.stage.value: c.count for c in lifecycle_counts()}
    assert counts["lead"] == 4 and counts["mql"] == 1 and counts["customer"] == 0


@pytest.mark.parametrize("sort", ["name", "-name", "-created_at", "email"])
def test_search_pages_walk_every_match_once_in_order(system, sort):
    """Merged per-condition pages equal one ordered query over the OR of the conditions."""
    acme = services.create_company(actor=system, data={"name": "Adams Freight"})
    for first, last, email, company in [
        ("Ada", "Zed", "z1@example.com", None),
        ("Bob", "Adams", "b1@example.com", None),
        ("Cy", "Moss", "adam@example.com", None),
        ("Di", "Hart", "d1@example.com", acme),
        ("Ed", "Ng", "e1@example.com", None),  # no match
        ("Adam", "Adams", "a2@example.com", acme),  # matches three ways
    ]:
        services.create_person(
            actor=system,
            data={"first_name": first, "last_name": last, "company": company},
            email=email,
        )
    filters = PersonFilter(q="ad", sort=sort)
    walked, cursor = [], None
    while True:
        page = people_page(viewer=None, filters=filters, limit=2, cursor=cursor)
        walked += [p.pk for p in page.items]
        assert page.count == 5 and page.count_exact
        cursor = page.next_cursor
        if not cursor:
            break
    from tandem.people.queries import people_for_list

    expected = list(
        people_for_list(viewer=None, filters=filters)
        .order_by(*filters.sort_spec.order_by)
        .values_list("id", flat=True)
    )
    assert walked == expected and len(expected) == 5

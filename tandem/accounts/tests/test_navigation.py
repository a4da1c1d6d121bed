"""The main menu shows each role only what it may open: no link leads to a 403."""

from __future__ import annotations

import re

import pytest

ROLES = ["admin", "manager", "marketer", "salesperson"]


def menu_links(page: str) -> dict[str, str]:
    nav = re.search(r'<nav class="nav" aria-label="Main">(.*?)</nav>', page, re.S)
    assert nav, "no main menu on the page"
    return {
        label.strip(): href
        for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(1))
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_link_opens_for_the_role_that_sees_it(client, users_by_role, role):
    client.force_login(users_by_role[role])
    links = menu_links(client.get("/people/").content.decode())
    assert links, "an empty menu"
    for label, href in links.items():
        response = client.get(href, follow=True)
        assert response.status_code == 200, (
            f"{role}: menu link {label} ({href}) answers {response.status_code}"
        )


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("salesperson", {"People", "Quick capture", "Duplicates"}, {"Forms", "Imports", "Admin"}),
        ("marketer", {"Forms", "Imports", "Duplicates"}, {"Admin"}),
        ("manager", {"Forms", "Imports"}, {"Admin"}),
        ("admin", {"Forms", "Imports", "Admin", "API"}, set()),
    ],
)
def test_the_menu_leaves_out_what_the_role_may_not_open(client, users_by_role, role, shown, hidden):
    client.force_login(users_by_role[role])
    labels = set(menu_links(client.get("/people/").content.decode()))
    assert shown <= labels
    assert not labels & hidden


def test_the_current_section_is_marked(client, salesperson):
    client.force_login(salesperson)
    page = client.get("/companies/").content.decode()
    assert re.search(r'<a href="/companies/" aria-current="page">Companies</a>', page)

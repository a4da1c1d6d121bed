"""Who may open and post each people and company page: the role matrix, checked on the server.

The person and the company belong to the salesperson "sam" (the owner); "sol"
is another salesperson. Everyone inside sees every record; only the owner
(or marketers, managers and admins) changes it; only admins restore.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from tandem.people import services
from tandem.people.models import Company, Person, Stage

ROLES = ["admin", "manager", "marketer", "owner", "other_salesperson", "anonymous"]
EVERYONE = {"admin": 200, "manager": 200, "marketer": 200, "owner": 200, "other_salesperson": 200}
EDITORS = {**EVERYONE, "other_salesperson": 403}
ADMINS = {**{role: 403 for role in EVERYONE}, "admin": 200}


def as_post(expected: dict[str, int]) -> dict[str, int]:
    """A successful form post redirects (302); refusals keep their status."""
    return {role: 302 if status == 200 else status for role, status in expected.items()}


@pytest.fixture
def world(system, salesperson) -> dict[str, Any]:
    acme = services.create_company(actor=system, data={"name": "Acme", "owner": salesperson})
    person = services.create_person(
        actor=system,
        data={"first_name": "Ada", "last_name": "Lovelace", "company": acme, "owner": salesperson},
        email="ada@example.com",
        phone="+49 30 1234567",
    )
    second = services.add_email(actor=system, person=person, email="ada@work.example")
    phone = person.phones.get()
    gone = services.create_person(
        actor=system, data={"last_name": "Gone", "owner": salesperson}, email="gone@example.com"
    )
    services.delete_person(actor=system, person=gone)
    gone_co = services.create_company(actor=system, data={"name": "Gone Co", "owner": salesperson})
    services.delete_company(actor=system, company=gone_co)
    return {
        "person": person,
        "company": acme,
        "email_id": second.pk,
        "phone_id": phone.pk,
        "gone": gone,
        "gone_co": gone_co,
    }


def login(client, users_by_role, role: str) -> None:
    if role == "anonymous":
        return
    client.force_login(users_by_role["salesperson" if role == "owner" else role])


GET_PAGES: list[tuple[str, Callable[[dict[str, Any]], str], dict[str, int]]] = [
    ("people list", lambda w: reverse("people:list"), EVERYONE),
    ("people list searched", lambda w: reverse("people:list") + "?q=ada&stage=lead", EVERYONE),
    ("person page", lambda w: reverse("people:detail", args=[w["person"].pk]), EVERYONE),
    # Bulk export is marketing's and management's, not every salesperson's.
    (
        "people export",
        lambda w: reverse("people:export"),
        {**EVERYONE, "owner": 403, "other_salesperson": 403},
    ),
    ("new person form", lambda w: reverse("people:create"), EVERYONE),
    ("edit person form", lambda w: reverse("people:edit", args=[w["person"].pk]), EDITORS),
    ("delete person page", lambda w: reverse("people:delete", args=[w["person"].pk]), EDITORS),
    # A deleted person is visible to admins only; to others it does not exist.
    (
        "deleted person page",
        lambda w: reverse("people:detail", args=[w["gone"].pk]),
        {**{role: 404 for role in EVERYONE}, "admin": 200},
    ),
    ("company list", lambda w: reverse("people:company_list"), EVERYONE),
    ("company suggestions", lambda w: reverse("people:company_suggest") + "?company=ac", EVERYONE),
    ("company page", lambda w: reverse("people:company_detail", args=[w["company"].pk]), EVERYONE),
    ("new company form", lambda w: reverse("people:company_create"), EVERYONE),
    (
        "edit company form",
        lambda w: reverse("people:company_edit", args=[w["company"].pk]),
        EDITORS,
    ),
    (
        "delete company page",
        lambda w: reverse("people:company_delete", args=[w["company"].pk]),
        EDITORS,
    ),
    (
        "deleted company page",
        lambda w: reverse("people:company_detail", args=[w["gone_co"].pk]),
        {**{role: 404 for role in EVERYONE}, "admin": 200},
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("page", "url", "expected"), GET_PAGES, ids=[p[0] for p in GET_PAGES])
def test_pages_open_by_role(client, users_by_role, world, role, page, url, expected):
    login(client, users_by_role, role)
    response = client.get(url(world))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected[role], page


def person_url(name: str, extra: str = "") -> Callable[[dict[str, Any]], str]:
    def build(w: dict[str, Any]) -> str:
        args: list[int] = [w["person"].pk]
        if extra:
            args.append(w[extra])
        return reverse(f"people:{name}", args=args)

    return build


def company_url(name: str, key: str = "company") -> Callable[[dict[str, Any]], str]:
    return lambda w: reverse(f"people:{name}", args=[w[key].pk])


# (action, url, form data, expected status per role)
POST_ACTIONS: list[tuple[str, Callable[[dict[str, Any]], str], dict[str, str], dict[str, int]]] = [
    (
        "create person",
        lambda w: reverse("people:create"),
        {"first_name": "Grace", "last_name": "Hopper", "stage": "lead"},
        as_post(EVERYONE),
    ),
    (
        "edit person",
        person_url("edit"),
        {"first_name": "Augusta", "last_name": "Ada"},
        as_post(EDITORS),
    ),
    (
        "change stage",
        person_url("change_stage"),
        {"stage-to_stage": "mql", "stage-reason": "Asked for a demo"},
        as_post(EDITORS),
    ),
    (
        "log a call",
        person_url("log_activity"),
        {"activity-kind": "call", "activity-subject": "Intro call"},
        as_post(EVERYONE),
    ),
    ("add email", person_url("add_email"), {"email-address": "ada@new.example"}, as_post(EDITORS)),
    ("remove email", person_url("remove_email", "email_id"), {}, as_post(EDITORS)),
    ("make email primary", person_url("make_primary_email", "email_id"), {}, as_post(EDITORS)),
    (
        "add phone",
        person_url("add_phone"),
        {"phone-number": "+44 20 7946 0958", "phone-kind": "mobile"},
        as_post(EDITORS),
    ),
    ("remove phone", person_url("remove_phone", "phone_id"), {}, as_post(EDITORS)),
    ("delete person", person_url("delete"), {}, as_post(EDITORS)),
    (
        "restore person",
        lambda w: reverse("people:restore", args=[w["gone"].pk]),
        {},
        as_post(ADMINS),
    ),
    (
        "create company",
        lambda w: reverse("people:company_create"),
        {"name": "Initech"},
        as_post(EVERYONE),
    ),
    ("edit company", company_url("company_edit"), {"name": "Acme Corp"}, as_post(EDITORS)),
    ("delete company", company_url("company_delete"), {}, as_post(EDITORS)),
    ("restore company", company_url("company_restore", "gone_co"), {}, as_post(ADMINS)),
    (
        "log a company note",
        company_url("company_log_activity"),
        {"activity-kind": "note", "activity-body": "Budget approved"},
        as_post(EVERYONE),
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("action", "url", "data", "expected"), POST_ACTIONS, ids=[a[0] for a in POST_ACTIONS]
)
def test_actions_by_role(client, users_by_role, world, role, action, url, data, expected):
    login(client, users_by_role, role)
    response = client.post(url(world), data)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected[role], (action, response.content[:500])


def test_a_salesperson_cannot_edit_someone_elses_person(client, other_salesperson, world):
    person = world["person"]
    client.force_login(other_salesperson)
    response = client.post(
        reverse("people:edit", args=[person.pk]), {"first_name": "Hacked", "last_name": "X"}
    )
    assert response.status_code == 403
    stage = client.post(
        reverse("people:change_stage", args=[person.pk]),
        {"stage-to_stage": "customer", "stage-reason": "x"},
    )
    assert stage.status_code == 403
    person.refresh_from_db()
    assert (person.first_name, person.stage) == ("Ada", Stage.LEAD)


def test_a_salesperson_sees_no_edit_buttons_on_someone_elses_person(
    client, other_salesperson, world
):
    client.force_login(other_salesperson)
    html = client.get(reverse("people:detail", args=[world["person"].pk])).content.decode()
    assert reverse("people:edit", args=[world["person"].pk]) not in html
    assert reverse("people:change_stage", args=[world["person"].pk]) not in html
    # Logging a call is open to everyone: the knowledge is the company's.
    assert reverse("people:log_activity", args=[world["person"].pk]) in html


def test_a_salesperson_edits_an_unowned_person(client, other_salesperson, system):
    person = services.create_person(actor=system, data={"last_name": "Nobody"})
    client.force_login(other_salesperson)
    response = client.post(
        reverse("people:edit", args=[person.pk]),
        {"first_name": "Somebody", "last_name": "Nobody"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.first_name == "Somebody"


def test_admin_restores_a_deleted_person_from_its_page(client, admin, world):
    gone = world["gone"]
    client.force_login(admin)
    page = client.get(reverse("people:detail", args=[gone.pk])).content.decode()
    assert reverse("people:restore", args=[gone.pk]) in page and "Restore" in page
    client.post(reverse("people:restore", args=[gone.pk]))
    assert Person.objects.live().filter(pk=gone.pk).exists()


def test_deleting_a_person_is_soft(client, marketer, world):
    person = world["person"]
    client.force_login(marketer)
    response = client.post(reverse("people:delete", args=[person.pk]))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.deleted_at is not None
    assert client.get(reverse("people:detail", args=[person.pk])).status_code == 404


def test_deleting_a_company_keeps_its_people(client, manager, world):
    client.force_login(manager)
    client.post(reverse("people:company_delete", args=[world["company"].pk]))
    assert Company.objects.get(pk=world["company"].pk).deleted_at is not None
    world["person"].refresh_from_db()
    assert world["person"].company_id == world["company"].pk

"""/api/v1/tasks as a client uses it: the issue's JSON shape, filters, pages, and refusals
that name the field (never a 500)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.followups.models import Task
from tandem.followups.tests import factories
from tandem.people.models import Activity


@pytest.fixture
def api(client, system, salesperson):
    """A client calling the API as Sam (salesperson) with a read-write token."""
    _, raw = create_token(actor=system, user=salesperson, name="t")
    auth = {"Authorization": f"Bearer {raw}"}

    def call(method: str, path: str, body=None):
        kwargs = {"content_type": "application/json", "headers": auth}
        if body is not None:
            kwargs["data"] = body
        return getattr(client, method)("/api/v1" + path, **kwargs)

    return call


def loc(response) -> list[list]:
    assert response.status_code == 422, response.content
    return [e["loc"] for e in response.json()["detail"]]


def test_create_in_the_issues_shape_and_read_it_back(api, system, salesperson, manager):
    ann = factories.person(system, first_name="Ann")
    acme = factories.company(system)
    body = {
        "kind": "call",
        "title": "Call Ann about the pilot",
        "person": ann.pk,
        "company": acme.pk,
        "owner": manager.pk,
        "due_at": "2026-12-07T09:00:00+01:00",
        "status": "open",
    }
    response = api("post", "/tasks", body)
    assert response.status_code == 201, response.content
    task = response.json()
    assert task["kind"] == "call" and task["title"] == "Call Ann about the pilot"
    assert task["person"] == {"id": ann.pk, "full_name": "Ann Lovelace"}
    assert task["company"] == {"id": acme.pk, "name": "Analytical Engines"}
    assert task["owner"] == {"id": manager.pk, "username": "max"}
    assert task["due_at"] == "2026-12-07T08:00:00Z"
    assert task["status"] == "open" and task["url"].endswith(f"/tasks/{task['id']}/")
    assert task["created_by_label"].startswith("Sam Sales")
    assert api("get", f"/tasks/{task['id']}").json() == task
    assert AuditEvent.objects.filter(event="task_created", target_id=task["id"]).count() == 1


def test_owner_left_out_is_the_caller_and_null_is_nobody(api, salesperson):
    mine = api("post", "/tasks", {"title": "Prepare the pitch"}).json()
    assert mine["owner"]["id"] == salesperson.pk and mine["kind"] == "todo"
    nobodys = api("post", "/tasks", {"title": "Anyone", "owner": None}).json()
    assert nobodys["owner"] is None
    by_name = api("post", "/tasks", {"title": "Sol's", "owner": "sam"}).json()
    assert by_name["owner"]["id"] == salesperson.pk


def test_create_done_logs_the_call_at_once(api, system):
    ann = factories.person(system)
    response = api(
        "post", "/tasks", {"kind": "call", "title": "Called", "person": ann.pk, "status": "done"}
    )
    assert response.status_code == 201
    assert response.json()["status"] == "done"
    assert Activity.objects.get().pk == response.json()["activity_id"]


def test_complete_endpoint_logs_one_call_with_outcome(api, system, salesperson):
    ann = factories.person(system)
    task = factories.task(system, person=ann, owner=salesperson)
    body = {"outcome": "Booked a demo", "notes": "Tuesday"}
    first = api("post", f"/tasks/{task.pk}/complete", body)
    again = api("post", f"/tasks/{task.pk}/complete", body)
    assert first.status_code == again.status_code == 200
    assert first.json()["outcome"] == "Booked a demo" and first.json()["completed_at"]
    call = Activity.objects.get()
    assert (call.kind, call.person_id, call.outcome) == ("call", ann.pk, "Booked a demo")
    timeline = api("get", f"/people/{ann.pk}/timeline").json()["items"]
    assert [e["kind"] for e in timeline if e["kind"] != "stage"] == ["call"]
    assert AuditEvent.objects.filter(event="task_completed").count() == 1


def test_patch_changes_fields_and_moves_status(api, system, salesperson, other_salesperson):
    task = factories.task(system, owner=salesperson, person=factories.person(system))
    response = api("patch", f"/tasks/{task.pk}", {"title": "Call Ann", "due_at": None})
    assert response.status_code == 200 and response.json()["title"] == "Call Ann"
    assert api("patch", f"/tasks/{task.pk}", {"status": "done"}).json()["status"] == "done"
    assert api("patch", f"/tasks/{task.pk}", {"status": "open"}).json()["status"] == "open"
    assert (
        api("patch", f"/tasks/{task.pk}", {"status": "cancelled"}).json()["status"] == "cancelled"
    )
    # Handing it to a colleague: then it is theirs to change.
    api("patch", f"/tasks/{task.pk}", {"status": "open", "owner": other_salesperson.pk})
    assert api("patch", f"/tasks/{task.pk}", {"title": "Back"}).status_code == 403
    assert Activity.objects.count() == 1


def test_refusals_name_the_field(api, system, salesperson):
    task = factories.task(system, owner=salesperson)
    assert loc(api("post", "/tasks", {"title": "x", "person": 999999})) == [
        ["body", "payload", "person"]
    ]
    assert loc(api("post", "/tasks", {"title": "x", "company": 999999})) == [
        ["body", "payload", "company"]
    ]
    assert loc(api("post", "/tasks", {"title": "x", "owner": "ghost"})) == [
        ["body", "payload", "owner"]
    ]
    assert sorted(
        loc(api("post", "/tasks", {"title": "x", "person": 999999, "owner": 999999}))
    ) == [
        ["body", "payload", "owner"],
        ["body", "payload", "person"],
    ]
    assert ["body", "payload", "title"] in loc(api("post", "/tasks", {"title": "  "}))
    assert ["body", "payload", "title"] in loc(api("post", "/tasks", {}))
    assert ["body", "payload", "kind"] in loc(api("post", "/tasks", {"title": "x", "kind": "fax"}))
    assert ["body", "payload", "due_at"] in loc(
        api("post", "/tasks", {"title": "x", "due_at": "soon"})
    )
    assert ["body", "payload", "person"] in loc(
        api("post", "/tasks", {"title": "x", "person": True})
    )
    assert ["body", "payload", "status"] in loc(
        api("post", "/tasks", {"title": "x", "status": "cancelled"})
    )
    assert ["body", "payload", "colour"] in loc(
        api("post", "/tasks", {"title": "x", "colour": "red"})
    )
    assert ["body", "payload", "title"] in loc(api("patch", f"/tasks/{task.pk}", {"title": None}))
    assert ["body", "payload", "kind"] in loc(api("patch", f"/tasks/{task.pk}", {"kind": None}))
    assert ["body", "payload", "status"] in loc(api("patch", f"/tasks/{task.pk}", {"status": None}))
    assert ["body", "payload", "outcome"] in loc(
        api("post", f"/tasks/{task.pk}/complete", {"outcome": "x" * 201})
    )
    for query, field in [
        ("due=yesterday", "due"),
        ("owner=ghost", "owner"),
        ("status=late", "status"),
        ("kind=fax", "kind"),
        ("person=999999", "person"),
        ("company=0", "company"),
        ("person=abc", "person"),
        ("cursor=%%%", "cursor"),
        ("limit=0", "limit"),
        ("offset=5&cursor=abc", "cursor"),
    ]:
        assert ["query", field] in loc(api("get", f"/tasks?{query}")), query
    assert api("get", "/tasks/999999").status_code == 404
    assert api("patch", "/tasks/999999", {"title": "x"}).status_code == 404


def test_filters(api, system, salesperson, other_salesperson):
    ann, bob = (
        factories.person(system, first_name="Ann"),
        factories.person(system, first_name="Bob"),
    )
    acme = factories.company(system)
    bob_at_acme = factories.person(system, first_name="Cy", company=acme)
    now = timezone.now()
    mine = factories.task(system, owner=salesperson, person=ann, due_at=now - dt.timedelta(hours=1))
    sols = factories.task(system, owner=other_salesperson, person=bob, kind="email")
    nobodys = factories.task(system, company=acme, kind="todo")
    cys = factories.task(system, person=bob_at_acme, kind="meeting")
    done = factories.task(system, owner=salesperson)
    Task.objects.filter(pk=done.pk).update(status="done")

    def ids(query: str) -> list[int]:
        response = api("get", f"/tasks?{query}")
        assert response.status_code == 200, response.content
        return [t["id"] for t in response.json()["items"]]

    assert ids("owner=me") == [mine.pk, done.pk]
    assert ids("owner=me&status=open") == [mine.pk]
    assert ids(f"owner={other_salesperson.pk}") == [sols.pk]
    assert ids("owner=sol") == [sols.pk]
    assert set(ids("owner=none")) == {nobodys.pk, cys.pk}
    assert ids("kind=email") == [sols.pk]
    assert ids(f"person={ann.pk}") == [mine.pk]
    assert set(ids(f"company={acme.pk}")) == {nobodys.pk, cys.pk}  # its own and its people's
    assert ids("due=overdue") == [mine.pk]
    assert mine.pk not in ids("due=upcoming") and sols.pk in ids("due=upcoming")


def test_pages_by_cursor_walk_every_task_once_soonest_first(api, system, salesperson):
    now = timezone.now()
    made = [
        factories.task(system, owner=salesperson, due_at=now + dt.timedelta(hours=h) if h else None)
        for h in (5, 0, 1, 3, 0, 1, 2)
    ]
    seen, cursor, pages = [], None, 0
    while True:
        page = api("get", "/tasks?limit=2" + (f"&cursor={cursor}" if cursor else "")).json()
        assert page["count"] == 7 and page["count_exact"]
        seen += [t["id"] for t in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
        if not cursor:
            break
    assert pages == 4
    expected = sorted(made, key=lambda t: (t.due_at is None, t.due_at or now, t.pk))
    assert seen == [t.pk for t in expected]
    assert api("get", "/tasks?limit=3&offset=3").json()["items"][0]["id"] == expected[3].pk


def test_the_list_makes_the_same_queries_for_1_and_50_tasks(
    api, system, salesperson, django_assert_num_queries
):
    person = factories.person(system)
    acme = factories.company(system)
    factories.task(system, owner=salesperson, person=person, company=acme)
    api("get", "/tasks")  # the token's first use is written down once, not per call
    # the token (with its user), the capped count, the page (with owner, person, company)
    with django_assert_num_queries(3):
        assert len(api("get", "/tasks?owner=me").json()["items"]) == 1
    for _ in range(49):
        factories.task(system, owner=salesperson, person=person, company=acme)
    with django_assert_num_queries(3):
        assert len(api("get", "/tasks?owner=me").json()["items"]) == 50


def test_a_read_only_token_reads_but_does_not_write(client, system, admin):
    _, raw = create_token(actor=system, user=admin, name="ro", scope="read")
    headers = {"Authorization": f"Bearer {raw}"}
    task = factories.task(system)
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    response = client.post(
        f"/api/v1/tasks/{task.pk}/complete", headers=headers, content_type="application/json"
    )
    assert response.status_code == 403
    assert Task.objects.get().status == "open"
    assert Actor.for_user(admin).can_write

"""The Tasks pages as a salesperson and a manager use them: the groups, the buttons (with
and without HTMX), the forms and their errors, and the cards on person and company pages."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from tandem.core.models import AuditEvent
from tandem.followups.models import Task
from tandem.followups.tests import factories
from tandem.people.models import Activity

HTMX = {"HX-Request": "true"}


def test_my_tasks_are_grouped_and_each_links_its_person_and_company(
    client, system, salesperson, other_salesperson
):
    acme = factories.company(system)
    ann = factories.person(system, first_name="Ann", company=acme)
    now = timezone.now()
    factories.task(
        system, title="Late", owner=salesperson, person=ann, due_at=now - dt.timedelta(hours=2)
    )
    factories.task(
        system, title="Acme", owner=salesperson, company=acme, due_at=now + dt.timedelta(days=3)
    )
    factories.task(system, title="Sol's", owner=other_salesperson)
    client.force_login(salesperson)

    response = client.get("/tasks/")

    groups = {g.label: [t.title for t in g.tasks] for g in response.context["groups"]}
    assert groups == {"Overdue": ["Late"], "Due today": [], "Upcoming": ["Acme"]}
    page = response.content.decode()
    assert f'href="/people/{ann.pk}/"' in page and f'href="/companies/{acme.pk}/"' in page
    assert "Sol&#x27;s" not in page
    # No inline scripts: the page works with the CSP (script-src 'self').
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and " onclick=" not in page


def test_a_manager_looks_at_a_team_members_and_everyones_tasks(
    client, system, manager, salesperson, other_salesperson
):
    factories.task(system, title="Sam's", owner=salesperson)
    factories.task(system, title="Sol's", owner=other_salesperson)
    factories.task(system, title="Nobody's")
    client.force_login(manager)

    def titles(query: str) -> set[str]:
        groups = client.get("/tasks/" + query).context["groups"]
        return {t.title for g in groups for t in g.tasks}

    assert titles("") == set()
    assert titles(f"?owner={salesperson.pk}") == {"Sam's"}
    assert titles("?owner=all") == {"Sam's", "Sol's", "Nobody's"}
    assert titles("?owner=none") == {"Nobody's"}
    options = client.get("/tasks/").context["owner_options"]
    assert (str(salesperson.pk), "Sam Sales") in options
    # A manager's team comes first.
    from tandem.accounts.models import Team

    north = Team.objects.create(name="North")
    for member in (manager, other_salesperson):
        member.team = north
        member.save(update_fields=["team"])
    options = client.get("/tasks/").context["owner_options"]
    assert options[3] == (str(other_salesperson.pk), "Sol Seller (your team)")
    assert client.get("/tasks/?owner=ghost").status_code == 400


def test_done_button_with_htmx_swaps_the_row_and_logs_the_call(client, system, salesperson):
    ann = factories.person(system, first_name="Ann")
    task = factories.task(system, title="Call Ann", owner=salesperson, person=ann)
    client.force_login(salesperson)

    response = client.post(f"/tasks/{task.pk}/complete/", {"next": "/tasks/"}, headers=HTMX)

    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith(f'<li id="task-{task.pk}"') and "Reopen" in row
    assert 'data-status="done"' in row and f'hx-post="/tasks/{task.pk}/reopen/"' in row
    assert Activity.objects.get().kind == "call"
    again = client.post(f"/tasks/{task.pk}/reopen/", headers=HTMX).content.decode()
    assert 'data-status="open"' in again and "Done" in again
    events = AuditEvent.objects.filter(target_type="followups.task").values_list("event", flat=True)
    assert sorted(events) == ["task_completed", "task_created", "task_reopened"]


def test_buttons_work_without_javascript_and_go_back(client, system, salesperson):
    task = factories.task(system, owner=salesperson, person=factories.person(system))
    client.force_login(salesperson)
    response = client.post(f"/tasks/{task.pk}/complete/", {"next": "/tasks/?owner=me"})
    assert response.status_code == 302 and response["Location"] == "/tasks/?owner=me"
    response = client.post(f"/tasks/{task.pk}/reopen/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/tasks/{task.pk}/"  # never off-site


def test_a_colleague_sees_no_buttons_on_someone_elses_task(
    client, system, salesperson, other_salesperson
):
    task = factories.task(system, owner=salesperson)
    client.force_login(other_salesperson)
    page = client.get("/tasks/?owner=all").content.decode()
    assert f"/tasks/{task.pk}/complete/" not in page
    assert client.post(f"/tasks/{task.pk}/complete/").status_code == 403


def test_add_from_the_tasks_page_and_errors_name_the_fields(client, salesperson):
    client.force_login(salesperson)
    response = client.post(
        "/tasks/new/",
        {"task-kind": "fax", "task-title": "", "task-due_at": "soon", "task-owner": ""},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"kind", "title", "due_at"}
    assert 'aria-describedby="id_task-title_error"' in response.content.decode()
    response = client.post(
        "/tasks/new/",
        {
            "task-kind": "todo",
            "task-title": "Prepare the trade-show list",
            "task-due_at": "2026-12-08T09:30",
            "task-owner": "",
            "next": "/tasks/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/tasks/"
    task = Task.objects.get()
    assert task.owner == salesperson and task.created_by == salesperson
    assert timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M") == "2026-12-08 09:30"


def test_the_person_page_has_a_tasks_card_that_adds_a_task_about_them(client, system, salesperson):
    ann = factories.person(system, first_name="Ann")
    factories.task(system, title="Send the case study", kind="email", person=ann)
    client.force_login(salesperson)

    page = client.get(f"/people/{ann.pk}/").content.decode()

    assert 'id="tasks"' in page and "Send the case study" in page
    assert f'name="task-person" value="{ann.pk}"' in page
    assert f'name="next" value="/people/{ann.pk}/"' in page
    response = client.post(
        "/tasks/new/",
        {
            "task-kind": "call",
            "task-title": "Call Ann",
            "task-person": str(ann.pk),
            "task-owner": "",
            "next": f"/people/{ann.pk}/",
        },
    )
    assert response["Location"] == f"/people/{ann.pk}/"
    assert Task.objects.get(title="Call Ann").person == ann
    # Done from the card: back on the person page, where the call is on the timeline.
    call = Task.objects.get(title="Call Ann")
    response = client.post(
        f"/tasks/{call.pk}/complete/", {"next": f"/people/{ann.pk}/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/people/{ann.pk}/"
    assert [
        e["entry"].kind for e in response.context["timeline"] if e["entry"].kind != "stage"
    ] == ["call"]


def test_the_company_page_lists_its_tasks_and_its_peoples(client, system, manager):
    acme = factories.company(system)
    cy = factories.person(system, first_name="Cy", company=acme)
    factories.task(system, title="Renewal meeting", kind="meeting", company=acme)
    factories.task(system, title="Call Cy", person=cy)
    factories.task(system, title="Elsewhere")
    client.force_login(manager)

    page = client.get(f"/companies/{acme.pk}/").content.decode()

    assert "Renewal meeting" in page and "Call Cy" in page and "Elsewhere" not in page
    assert f'name="task-company" value="{acme.pk}"' in page


def test_the_task_page_edits_and_completes_with_an_outcome(client, system, manager, salesperson):
    ann = factories.person(system)
    task = factories.task(system, title="Demo", kind="meeting", person=ann)
    client.force_login(manager)
    assert "Completing it logs the meeting" in client.get(f"/tasks/{task.pk}/").content.decode()
    response = client.post(
        f"/tasks/{task.pk}/",
        {
            "task-kind": "meeting",
            "task-title": "Demo at Acme",
            "task-owner": str(salesperson.pk),
            "task-person": str(ann.pk),  # the hidden input the form carries
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.owner) == ("Demo at Acme", salesperson)
    changed = AuditEvent.objects.get(event="task_changed")
    assert set(changed.changes) == {"title", "owner"}
    response = client.post(
        f"/tasks/{task.pk}/complete/", {"done-outcome": "Signed the pilot", "done-notes": "Great"}
    )
    meeting = Activity.objects.get()
    assert (meeting.kind, meeting.outcome, meeting.body) == ("meeting", "Signed the pilot", "Great")
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "Signed the pilot" in page and "Completed" in page


def test_an_unknown_task_is_404(client, salesperson):
    client.force_login(salesperson)
    assert client.get("/tasks/999/").status_code == 404
    assert client.post("/tasks/999/complete/").status_code == 404


def _queries(client, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_pages_and_cards_make_the_same_queries_for_1_and_50_tasks(client, system, salesperson):
    acme = factories.company(system)
    ann = factories.person(system, company=acme)
    now = timezone.now()

    def add(n: int) -> None:
        for i in range(n):
            task = factories.task(
                system,
                owner=salesperson,
                person=ann,
                company=acme,
                due_at=now + dt.timedelta(hours=i - 3),
            )
            if i % 5 == 0:
                Task.objects.filter(pk=task.pk).update(status="done", completed_at=now)

    add(1)
    client.force_login(salesperson)
    paths = ["/tasks/", "/tasks/?show=done", f"/people/{ann.pk}/", f"/companies/{acme.pk}/"]
    few = [_queries(client, p) for p in paths]
    add(49)
    assert [_queries(client, p) for p in paths] == few


def test_a_task_about_someone_deleted_since_can_still_be_edited(client, system, manager):
    from tandem.people import services as people

    ann = factories.person(system)
    task = factories.task(system, title="Call", person=ann)
    people.delete_person(actor=system, person=ann)
    client.force_login(manager)
    data = {"task-kind": "call", "task-title": "Call her", "task-owner": "none"}
    response = client.post(f"/tasks/{task.pk}/", {**data, "task-person": str(ann.pk)})
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.person_id) == ("Call her", ann.pk)

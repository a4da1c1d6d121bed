"""A salesperson's day with tasks, in Chromium: add a call from the person's page, see it
on the Tasks page under "Due today", mark it done there (HTMX, with the CSRF header, no
inline script), and find the call on the person's timeline."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tandem.followups.models import Task
from tandem.people import services as people
from tandem.people.models import Activity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIOLATION = re.compile(r"Content Security Policy|Refused to (execute|load|apply|frame)", re.I)


def test_add_a_call_from_the_person_then_tick_it_off_on_the_tasks_page(
    page: Page, live_server, salesperson, system
):
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if VIOLATION.search(m.text) else None)
    ann = people.create_person(
        actor=system, data={"first_name": "Ann", "last_name": "Archer", "owner": salesperson}
    )
    page.goto(f"{live_server.url}/people/{ann.pk}/")
    page.get_by_label("User name").fill(salesperson.username)
    page.get_by_label("Password").fill("pw-" + salesperson.username)
    page.get_by_role("button", name="Log in").click()

    # The Tasks card: add a call about Ann, due later today (or early tomorrow just
    # before midnight: the test only needs it open and not overdue).
    card = page.locator("#tasks")
    expect(card).to_contain_text("No open tasks.")
    card.get_by_text("Add a task about Ann Archer").click()
    card.get_by_label("What to do").fill("Call Ann about the pilot")
    card.get_by_label("Kind").select_option("call")
    due = timezone.localtime() + dt.timedelta(minutes=30)
    card.get_by_label("Due").fill(due.strftime("%Y-%m-%dT%H:%M"))
    card.get_by_role("button", name="Add the task").click()
    expect(page).to_have_url(re.compile(rf"/people/{ann.pk}/$"))
    expect(page.locator("#tasks")).to_contain_text("Call Ann about the pilot")
    task = Task.objects.get()
    assert task.owner == salesperson and task.person == ann

    # The Tasks page in the main menu: the call waits there; Done swaps its row in place.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tasks").click()
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_contain_text("Call Ann about the pilot")
    expect(row).to_have_attribute("data-status", "open")
    row.get_by_role("button", name="Done").click()
    expect(row).to_have_attribute("data-status", "done")
    expect(row.get_by_role("button", name="Reopen")).to_be_visible()
    assert page.url.endswith("/tasks/")  # swapped in place, no page load

    # The call is on Ann's timeline, logged by the salesperson.
    assert Activity.objects.get().actor == salesperson
    row.get_by_role("link", name="Ann Archer").click()
    expect(page.locator("#timeline")).to_contain_text("Call Ann about the pilot")
    assert blocked == []

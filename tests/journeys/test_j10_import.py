"""J10 Moving in, in a real browser: upload a CSV, map it, dry run, run with a live progress
bar that reaches 100%, read the report, undo.

The test plays the background worker: tasks are queued (django-tasks' dummy
backend) and the test runs them when the page is waiting, so the progress
bar is seen moving, not only finished.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tandem.imports import services, tasks
from tandem.imports.models import ImportJob, ImportStatus
from tandem.people import services as people
from tandem.people.models import Person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = Path("/tmp/tandem-journeys/import-report-390.png")  # for people to look at


@pytest.fixture
def queued_tasks(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.DATA_DIR = tmp_path / "data"


def hubspot_export(path: Path) -> Path:
    lines = [
        "First Name,Last Name,Email,Phone Number,Company Name,Lifecycle Stage,Favourite Colour"
    ]
    for i in range(1, 31):
        lines.append(f"Person{i},Tester,person{i}@acme{i % 3}.example,,Acme {i % 3},lead,blue")
    lines.append("Ada,Lovelace,ADA@example.com,,,marketingqualifiedlead,green")  # already in Tandem
    lines.append("Phoebe,Phone,phoebe@example.com,12,,lead,red")  # in, without the phone
    lines.append(",,not-an-email,,,lead,red")  # nothing says who: rejected
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_upload_map_dry_run_run_with_progress_report_and_undo(
    page: Page, live_server, marketer, system, queued_tasks, tmp_path
):
    ada = people.create_person(actor=system, data={"first_name": "Ada"}, email="ada@example.com")
    csv_path = hubspot_export(tmp_path / "hubspot-contacts.csv")

    page.goto(live_server.url + "/login/")
    page.get_by_label("User name").fill(marketer.username)
    page.get_by_label("Password").fill("pw-" + marketer.username)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Imports", exact=True)).to_be_visible()

    # Upload.
    page.get_by_label("CSV or Excel (.xlsx) file").set_input_files(str(csv_path))
    page.get_by_label("What the file holds").select_option("people")
    page.get_by_role("button", name="Upload and preview").click()

    # Preview and mapping: suggestions are pre-selected.
    expect(page.get_by_role("heading", name="Map the columns")).to_be_visible()
    expect(page.locator("table.import-preview")).to_contain_text("person1@acme1.example")
    expect(page.get_by_text("utf-8, comma-separated")).to_be_visible()
    expect(page.get_by_label("Field for Lifecycle Stage")).to_have_value("stage")
    expect(page.get_by_label("Field for Email")).to_have_value("email")
    expect(page.get_by_label("Field for Favourite Colour")).to_have_value("")
    page.get_by_label("Field for Company Name").select_option("company")
    page.get_by_text("Fill empty fields").click()
    page.get_by_role("button", name="Check the rows (dry run)").click()

    # The dry run waits for the worker; when it has run, the page shows what would happen.
    job = ImportJob.objects.get()
    expect(page.get_by_text("Checking every row (dry run)")).to_be_visible()
    tasks.dry_run_task.call(job_id=job.pk)
    expect(page.locator("#count-created")).to_have_text("31", timeout=10_000)
    expect(page.locator("#count-updated")).to_have_text("1")
    expect(page.locator("#count-rejected")).to_have_text("1")
    expect(page.locator("#count-left-out")).to_have_text("1")
    assert Person.objects.count() == 1  # a dry run keeps nothing

    # Run: the bar moves as batches commit, reaches 100%, then the report shows.
    page.get_by_role("button", name="Run the import").click()
    bar = page.get_by_role("progressbar", name="Import progress")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    services.run_import(job_id=job.pk, max_batches=1, batch_size=10)
    expect(bar).to_have_attribute("aria-valuenow", "30", timeout=10_000)
    expect(page.locator("#import-progress .label")).to_contain_text("10 of 33 rows")
    tasks.run_import_task.call(job_id=job.pk)
    expect(page.locator("#count-created")).to_have_text("31", timeout=10_000)
    expect(page.get_by_role("progressbar", name="Import progress")).to_have_attribute(
        "aria-valuenow", "100"
    )
    expect(page.locator(".percent")).to_have_text("100%")
    expect(page.locator("#count-updated")).to_have_text("1")
    rejected = page.locator("table.import-rejected")
    expect(rejected).to_contain_text("not-an-email")
    expect(rejected).to_contain_text("not a valid email address")
    left_out = page.locator("table.import-left_out")
    expect(left_out).to_contain_text("Phone Number")
    expect(left_out).to_contain_text("'12' is not a valid phone number")
    expect(page.locator("table.import-skipped")).to_have_count(0)
    expect(page.get_by_role("link", name="Download the report as CSV")).to_have_attribute(
        "href", re.compile(r"/imports/\d+/report\.csv$")
    )
    assert Person.objects.count() == 32
    ada.refresh_from_db()
    assert ada.last_name == "Lovelace"  # filled, first name kept

    # The report on a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the report scrolls sideways at 390px ({width}px wide)"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Undo: what it created goes, what it changed comes back.
    page.get_by_role("link", name="Undo this import").click()
    expect(page.get_by_text("removes what the import created: 31 people")).to_be_visible()
    page.get_by_role("button", name="Undo the import").click()
    expect(page.locator("#import-progress .label")).to_have_text("Undoing…")
    tasks.undo_import_task.call(job_id=job.pk, user_id=marketer.pk)
    expect(page.get_by_text("This import was undone")).to_be_visible(timeout=10_000)
    job.refresh_from_db()
    assert job.status == ImportStatus.UNDONE
    assert list(Person.objects.values_list("email", flat=True)) == ["ada@example.com"]
    ada.refresh_from_db()
    assert ada.last_name == ""

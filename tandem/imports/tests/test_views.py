"""The import wizard in the web app: who may use it, and each step from upload to undo."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.timezone import localtime

from tandem.accounts.actor import Actor
from tandem.imports.models import ImportJob, ImportStatus
from tandem.imports.tests.factories import (
    MESSY_LEFT_OUT,
    MESSY_PEOPLE,
    run_file,
    write_csv,
    write_messy_csv,
)
from tandem.people.models import CustomField, Person

pytestmark = pytest.mark.django_db

CSV = (
    "First Name,Last Name,Email,Lifecycle Stage,Favourite Colour\n"
    "Ada,Lovelace,ada@example.com,marketingqualifiedlead,blue\n"
    ",,not-an-email,lead,red\n"
    "Grace,Hopper,grace@example.com,customer,green\n"
)


def upload(client, content: str | bytes = CSV, name: str = "contacts.csv", **extra):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        reverse("imports:list"),
        {
            "entity": "people",
            "file": SimpleUploadedFile(name, data),
            "encoding": "",
            "delimiter": "",
            **extra,
        },
    )


def suggested_form(job: ImportJob) -> dict[str, str]:
    """The mapping form as the page pre-fills it (one select per column, in file order)."""
    columns = job.mapping["columns"]
    return {f"col_{i}": columns.get(header) or "" for i, header in enumerate(job.headers)}


@pytest.fixture
def job(tmp_path, system) -> ImportJob:
    path = write_csv(tmp_path / "done.csv", [["Email"], ["x@example.com"], ["=cmd|' /C calc'!A0"]])
    return run_file(path, actor=system)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("admin", True), ("manager", True), ("marketer", True), ("salesperson", False)],
)
def test_who_may_use_the_import_pages(client, users_by_role, job, role, allowed):
    client.force_login(users_by_role[role])
    pages = [
        ("get", reverse("imports:list")),
        ("get", reverse("imports:detail", args=[job.pk])),
        ("get", reverse("imports:progress", args=[job.pk])),
        ("get", reverse("imports:errors_csv", args=[job.pk])),
        ("get", reverse("imports:undo", args=[job.pk])),
        ("post", reverse("imports:resume", args=[job.pk])),
        ("post", reverse("imports:run", args=[job.pk])),
        ("post", reverse("imports:dry_run", args=[job.pk])),
    ]
    for method, url in pages:
        status = getattr(client, method)(url).status_code
        if allowed:
            assert status in (200, 302), (url, status)
        else:
            assert status == 403, (url, status)
    upload_status = upload(client).status_code
    assert upload_status == (302 if allowed else 403)


def test_anonymous_visitors_are_sent_to_log_in(client, job):
    response = client.get(reverse("imports:detail", args=[job.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_bad_file_gets_its_error_next_to_the_file_input(client, marketer):
    client.force_login(marketer)
    response = upload(client, b"", name="empty.csv")
    assert response.status_code == 422
    assert "file is empty." in response.content.decode()
    response = upload(client, "first,last\n", name="head.csv")
    assert "column names but no rows" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_the_wizard_from_upload_to_undo(client, admin, django_capture_on_commit_callbacks):
    client.force_login(admin)
    response = upload(client)
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("imports:mapping", args=[job.pk])

    # Preview and mapping, pre-filled with suggestions.
    page = client.get(response["Location"]).content.decode()
    assert "Ada" in page and "utf-8" in page and "comma" in page
    assert re.search(r'<option value="email" selected>', page)
    assert re.search(r'<option value="stage" selected>', page)

    # Map: keep the suggestions, make "Favourite Colour" a new field, policy fill; dry run starts.
    form = suggested_form(job)
    form.update({"new_4": "on", "policy": "fill"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:mapping", args=[job.pk]), form)
    assert response["Location"] == reverse("imports:detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.is_dry_run) == (ImportStatus.MAPPED, True)
    assert (job.created_count, job.rejected_count) == (2, 1), list(
        job.row_errors.values_list("reason", flat=True)
    )
    assert not Person.objects.exists() and not CustomField.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert "Would create" in page and "Run the import" in page

    # Run in the background; the polled fragment tells the page to reload once done.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:run", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    progress = client.get(
        reverse("imports:progress", args=[job.pk]), headers={"HX-Request": "true"}
    )
    assert "100%" in progress.content.decode() and progress["HX-Refresh"] == "true"
    report = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert 'id="count-created">2<' in report
    assert "not-an-email" in report and "not a valid email address" in report
    assert Person.objects.get(email="ada@example.com").custom_fields == {"favourite_colour": "blue"}

    # The rejected rows as CSV.
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    client.get(reverse("imports:errors_csv", args=[job.pk])).streaming_content
                ).decode()
            )
        )
    )
    assert rows[0] == ["row", "column", "value", "reason", "outcome"]
    assert rows[1][:3] == ["3", "Email", "not-an-email"]
    assert rows[1][4] == "row rejected"

    # Undo.
    assert (
        "removes what the import created: 2 people,"
        in client.get(reverse("imports:undo", args=[job.pk])).content.decode()
    )
    finished_at = job.finished_at
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:undo", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.UNDONE
    assert not Person.objects.exists()
    # The report keeps when the import finished, and says when it was undone.
    assert job.finished_at == finished_at and job.undone_at >= finished_at
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert f"finished {localtime(finished_at):%Y-%m-%d %H:%M:%S}" in page
    assert f"undone {localtime(job.undone_at):%Y-%m-%d %H:%M:%S}" in page


def test_the_undo_page_says_what_undo_removes_and_puts_back(client, marketer, system, tmp_path):
    client.force_login(marketer)
    run_file(write_csv(tmp_path / "first.csv", [["Email"], ["old@example.com"]]), actor=system)
    people = run_file(
        write_csv(
            tmp_path / "people.csv",
            [
                ["Email", "First Name", "Company"],
                ["ada@example.com", "Ada", "Analytical Engines"],
                ["old@example.com", "", "Old Co"],
            ],
        ),
        actor=system,
        policy="fill",
    )
    page = client.get(reverse("imports:undo", args=[people.pk])).content.decode()
    assert "removes what the import created: 1 person and 2 companies made for them," in page
    assert "puts back the 1 record it changed as it was before" in page

    companies = run_file(
        write_csv(tmp_path / "companies.csv", [["Name"], ["Babbage Ltd"]]),
        actor=system,
        entity="companies",
    )
    page = client.get(reverse("imports:undo", args=[companies.pk])).content.decode()
    assert "removes what the import created: 1 company," in page
    assert "changed no record that was already here" in page


def test_rejected_rows_csv_neutralises_formulas(client, marketer, job):
    client.force_login(marketer)
    response = client.get(reverse("imports:errors_csv", args=[job.pk]))
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][2] == "'=cmd|' /C calc'!A0"


def test_a_marketer_cannot_add_custom_fields_through_a_mapping(client, marketer):
    client.force_login(marketer)
    upload(client)
    job = ImportJob.objects.get()
    page = client.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    assert "New field" not in page
    form = suggested_form(job)
    response = client.post(
        reverse("imports:mapping", args=[job.pk]), {**form, "new_4": "on", "policy": "skip"}
    )
    assert response.status_code == 302  # the box is not there for them: the column is just left out
    job.refresh_from_db()
    assert job.mapping["new_fields"] == {}


def test_mapping_errors_show_on_the_page(client, marketer):
    client.force_login(marketer)
    upload(client)
    job = ImportJob.objects.get()
    form = {f"col_{i}": "" for i in range(len(job.headers))}
    form.update({"col_0": "title", "col_1": "title", "policy": "skip"})
    response = client.post(reverse("imports:mapping", args=[job.pk]), form)
    assert response.status_code == 422
    page = response.content.decode()
    assert "both go to title" in page


def test_xss_in_a_file_stays_inert_on_every_page(client, admin, django_capture_on_commit_callbacks):
    client.force_login(admin)
    evil = "<script>alert(1)</script>"
    upload(client, f"Email,{evil}\n{evil},{evil}\n", name=f"{evil}.csv")
    job = ImportJob.objects.get()
    for url in (reverse("imports:mapping", args=[job.pk]), reverse("imports:list")):
        assert evil not in client.get(url).content.decode()
    form = {"col_0": "email", "col_1": "", "policy": "skip"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:mapping", args=[job.pk]), form)
        client.post(reverse("imports:run", args=[job.pk]))
    assert evil not in client.get(reverse("imports:detail", args=[job.pk])).content.decode()


def test_the_report_page_and_csv_list_each_value_left_out_and_each_skipped_row(
    client, admin, tmp_path, django_capture_on_commit_callbacks
):
    path = write_messy_csv(tmp_path / "messy.csv", Actor.for_user(admin))
    client.force_login(admin)
    upload(client, path.read_bytes(), name="messy.csv")
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("imports:mapping", args=[job.pk]),
            {**suggested_form(job), "policy": "skip", "region": "US"},
        )
    dry = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert f'id="count-left-out">{len(MESSY_LEFT_OUT)}<' in dry
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:run", args=[job.pk]))
    job.refresh_from_db()
    assert (job.created_count, job.skipped_count, job.rejected_count) == (7, 1, 2)
    assert {p.first_name for p in Person.objects.all()} == MESSY_PEOPLE

    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert f'id="count-left-out">{len(MESSY_LEFT_OUT)}<' in page
    section = page[page.index("Values left out (the rows came in without them)") :]
    section = section[: section.index("</table>")]
    cells = re.findall(r'<tr><td data-label="Row">(\d+)</td><td data-label="Column">([^<]*)</td>'
                       r'<td data-label="Value">([^<]*)</td><td data-label="Reason">([^<]*)</td>',
                       section)  # fmt: skip
    assert [(int(r), c) for r, c, _, _ in cells] == [(r, c) for r, c, _, _ in MESSY_LEFT_OUT]
    for (_, _, value, reason), (_, _, expected, words) in zip(cells, MESSY_LEFT_OUT, strict=True):
        assert html.unescape(value).rstrip("…") in expected
        assert words in html.unescape(reason)
    assert "Skipped rows: 1" in page and "Same email as row 2." in page
    assert "Rejected rows: 2" in page

    body = b"".join(client.get(reverse("imports:errors_csv", args=[job.pk])).streaming_content)
    lines = list(csv.reader(io.StringIO(body.decode())))
    assert [(int(r[0]), r[1], r[2]) for r in lines[1:] if r[4] == "value left out"] == [
        (row, column, value) for row, column, value, _ in MESSY_LEFT_OUT
    ]
    assert [(r[0], r[3], r[4]) for r in lines[1:] if r[4] == "row skipped"] == [
        ("11", "Same email as row 2.", "row skipped")
    ]


@pytest.mark.parametrize(("region", "phone"), [("US", ""), ("DE", "+49301234567")])
def test_the_wizard_reads_national_phones_in_the_region_chosen(
    client, marketer, settings, django_capture_on_commit_callbacks, region, phone
):
    settings.TANDEM_DEFAULT_REGION = "US"
    client.force_login(marketer)
    upload(client, "Email,Phone\nb@example.com,030 1234567\n")
    job = ImportJob.objects.get()
    page = client.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    assert '<label for="id_region">Phone numbers without +country are from</label>' in page
    assert '<option value="US" selected>United States (US)</option>' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("imports:mapping", args=[job.pk]),
            {**suggested_form(job), "policy": "skip", "region": region},
        )
    job.refresh_from_db()
    assert job.region == region
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:run", args=[job.pk]))
    assert Person.objects.get().phone == phone
    page = client.get(reverse("imports:detail", args=[job.pk])).content.decode()
    assert f"phones without +country read as {region}" in page
    assert ("not a valid phone number for US" in page) is (not phone)


def test_a_region_that_is_no_country_is_an_error_next_to_its_field(client, marketer):
    client.force_login(marketer)
    upload(client)
    job = ImportJob.objects.get()
    response = client.post(
        reverse("imports:mapping", args=[job.pk]),
        {**suggested_form(job), "policy": "skip", "region": "XX"},
    )
    assert response.status_code == 422
    assert 'id="region-error"' in response.content.decode()

"""Importing companies (matched by domain, else by name), and XLSX end to end."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from tandem.imports import services
from tandem.imports.models import ImportStatus
from tandem.imports.tests.factories import run_file, write_csv
from tandem.people import services as people
from tandem.people.models import Company, Person

pytestmark = pytest.mark.django_db


def counts(job) -> tuple[int, int, int, int]:
    return (job.created_count, job.updated_count, job.skipped_count, job.rejected_count)


def test_companies_match_by_domain_then_name_and_follow_the_policy(tmp_path, system):
    acme = people.create_company(
        actor=system, data={"name": "Acme", "domain": "acme.example", "industry": ""}
    )
    globex = people.create_company(actor=system, data={"name": "Globex", "industry": "Energy"})
    path = write_csv(
        tmp_path / "accounts.csv",
        [
            ["Company Name", "Website", "Industry", "Employees"],
            ["ACME Inc.", "acme.example", "Software", "120"],  # by domain, though named otherwise
            ["globex", "", "Mining", "5"],  # by name
            ["Initech", "initech.example", "", "1,500"],  # new
            ["", "", "Nothing", ""],  # neither name nor domain
        ],
    )
    job = run_file(path, actor=system, entity="companies", policy="fill")
    assert counts(job) == (1, 2, 0, 1)
    acme.refresh_from_db()
    globex.refresh_from_db()
    assert (acme.name, acme.industry, acme.size) == ("Acme", "Software", "51-200")
    assert (globex.industry, globex.size) == ("Energy", "1-10")
    initech = Company.objects.get(domain="initech.example")
    assert (initech.size, initech.import_job_id) == ("1001+", job.pk)
    assert "name or a domain" in job.row_errors.get().reason

    services.undo_import(actor=system, job=job)
    acme.refresh_from_db()
    globex.refresh_from_db()
    assert (acme.industry, acme.size, globex.size) == ("", "", "")
    assert not Company.objects.filter(domain="initech.example").exists()


def test_company_overwrite_renames_and_undo_puts_the_name_back(tmp_path, system):
    acme = people.create_company(actor=system, data={"name": "Acme", "domain": "acme.example"})
    path = write_csv(tmp_path / "a.csv", [["Name", "Domain"], ["Acme Corporation", "acme.example"]])
    job = run_file(path, actor=system, entity="companies", policy="overwrite")
    assert counts(job) == (0, 1, 0, 0)
    acme.refresh_from_db()
    assert (acme.name, acme.name_key) == ("Acme Corporation", "acme corporation")
    services.undo_import(actor=system, job=job)
    acme.refresh_from_db()
    assert (acme.name, acme.name_key) == ("Acme", "acme")


def test_people_from_an_xlsx_workbook(tmp_path, system):
    book = Workbook()
    sheet = book.active
    sheet.append(["First Name", "Last Name", "Email", "Phone Number", "Country/Region"])
    sheet.append(["Ada", "Lovelace", "ada@example.com", "+44 20 7946 0018", "United Kingdom"])
    sheet.append(["Grace", "Hopper", "grace@example.com", 4155550100, "US"])
    path = tmp_path / "contacts.xlsx"
    book.save(path)
    job = run_file(path, actor=system)
    assert job.status == ImportStatus.DONE and job.file_format == "xlsx"
    assert counts(job) == (2, 0, 0, 0)
    assert dict(Person.objects.values_list("email", "phone")) == {
        "ada@example.com": "+442079460018",
        "grace@example.com": "+14155550100",
    }


def test_a_company_comes_in_without_its_bad_url_size_or_country(tmp_path, system):
    path = write_csv(
        tmp_path / "accounts.csv",
        [
            ["Company Name", "Website", "Employees", "Country"],
            ["Umbrella", "https://not a site", "lots", "Atlantis"],  # all three left out
            ["", "http://nowhere", "", ""],  # no name and no valid domain: rejected
            ["Umbrella", "", "", ""],  # the same name as row 2
        ],
    )
    job = run_file(path, actor=system, entity="companies")
    assert counts(job) == (1, 0, 1, 1)
    umbrella = Company.objects.get()
    assert (umbrella.name, umbrella.domain, umbrella.size, umbrella.country) == (
        "Umbrella",
        "",
        "",
        "",
    )
    lines = list(job.row_errors.values_list("row_number", "column", "value", "outcome"))
    assert lines == [
        (2, "Website", "https://not a site", "left_out"),
        (2, "Employees", "lots", "left_out"),
        (2, "Country", "Atlantis", "left_out"),
        (3, "Website", "http://nowhere", "rejected"),
        (4, "Company Name", "Umbrella", "skipped"),
    ]
    assert job.left_out_count == 3
    assert "is not a domain name" in job.row_errors.get(row_number=3).reason
    assert job.row_errors.get(row_number=4).reason == "Same name as row 2; the policy is skip."

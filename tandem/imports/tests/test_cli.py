"""`tandem import`: the same import from the command line, and a real kill -9 in the middle."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tandem.imports.models import ImportJob, ImportStatus
from tandem.imports.tests.factories import (
    MESSY_LEFT_OUT,
    MESSY_PEOPLE,
    write_csv,
    write_messy_csv,
)
from tandem.people.models import Company, CustomField, Person

ROOT = Path(__file__).resolve().parents[3]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_auto_import_prints_the_report_and_writes_rejected_rows(tmp_path):
    path = write_csv(
        tmp_path / "hubspot.csv",
        [
            ["First Name", "Email", "Lifecycle Stage", "Shoe Size"],
            ["Ada", "ada@example.com", "customer", "38"],
            ["", "nope", "lead", "40"],  # no name and no valid email: nothing says who
        ],
    )
    report = tmp_path / "rejected.csv"
    output = run("people", str(path), "--auto", "--create-fields", "--report", str(report))
    assert "1 created, 0 updated, 0 skipped, 1 rejected" in output
    assert "not a valid email address" in output
    assert f"tandem import undo {ImportJob.objects.get().pk}" in output
    assert report.read_text().splitlines()[1].startswith("3,Email,nope,")
    ada = Person.objects.get()
    assert (ada.stage, ada.custom_fields) == ("customer", {"shoe_size": 38})
    assert CustomField.objects.get().field_type == "number"


@pytest.mark.django_db
def test_the_summary_and_the_report_list_each_value_left_out_and_each_skipped_row(tmp_path):
    from tandem.accounts.actor import Actor

    path = write_messy_csv(tmp_path / "messy.csv", Actor.system("test"))
    report = tmp_path / "report.csv"
    output = run("people", str(path), "--report", str(report))
    assert "7 created, 0 updated, 1 skipped, 2 rejected" in output
    assert f"{len(MESSY_LEFT_OUT)} values left out: those rows came in without them" in output
    assert {p.first_name for p in Person.objects.all()} == MESSY_PEOPLE
    flat = " ".join(output.replace("│", " ").split())  # the tables wrap long cells
    for row, column, value, words in MESSY_LEFT_OUT:
        assert f"{row} {column} {value[:20]}" in flat
        assert " ".join(words.split()) in flat
    assert "Same email as row 2." in flat
    lines = list(csv.reader(report.open()))
    assert lines[0] == ["row", "column", "value", "reason", "outcome"]
    left_out = [(int(r[0]), r[1], r[2]) for r in lines[1:] if r[4] == "value left out"]
    assert left_out == [(row, column, value) for row, column, value, _ in MESSY_LEFT_OUT]
    assert [(r[0], r[4]) for r in lines[1:] if r[4] != "value left out"] == [
        ("9", "row rejected"),
        ("10", "row rejected"),
        ("11", "row skipped"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("args", "phone"), [((), ""), (("--region", "DE"), "+49301234567")])
def test_region_option_reads_national_phones_in_that_country(tmp_path, settings, args, phone):
    settings.TANDEM_DEFAULT_REGION = "US"
    path = write_csv(tmp_path / "de.csv", [["Email", "Phone"], ["b@example.com", "030 1234567"]])
    output = " ".join(run("people", str(path), *args).replace("│", " ").split())
    assert Person.objects.get().phone == phone
    region = args[1] if args else "US"
    assert f"phones without +country read as {region}" in output
    assert ImportJob.objects.get().region == region
    if not phone:
        assert "1 values left out" in output and "not a valid phone number for US" in output


@pytest.mark.django_db
def test_mapping_file_dry_run_and_undo(tmp_path):
    path = write_csv(
        tmp_path / "crm.csv",
        [
            ["Mail", "Who", "Phase"],
            ["a@example.com", "Ann Smith", "Hot"],
            ["b@example.com", "Bo", "Cold"],
        ],
    )
    mapping = tmp_path / "map.json"
    mapping.write_text(
        json.dumps(
            {
                "columns": {"Mail": "email", "Who": "full_name", "Phase": "stage"},
                "stages": {"Hot": "mql", "Cold": "subscriber"},
            }
        )
    )
    output = run("people", str(path), "--mapping", str(mapping), "--dry-run")
    assert "2 would be created" in output
    assert not Person.objects.exists()

    run("people", str(path), "--mapping", str(mapping))
    ann = Person.objects.get(email="a@example.com")
    assert (ann.first_name, ann.last_name, ann.stage) == ("Ann", "Smith", "mql")

    job = ImportJob.objects.filter(is_dry_run=False).get()
    output = run("undo", str(job.pk))
    assert "undone" in output
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_companies_import_from_the_command_line(tmp_path):
    path = write_csv(
        tmp_path / "accounts.csv",
        [
            ["Account Name", "Website", "Employees", "Country"],
            ["Acme", "https://www.acme.example/", "35", "Germany"],
        ],
    )
    run("companies", str(path))
    acme = Company.objects.get()
    assert (acme.name, acme.domain, acme.size, acme.country) == (
        "Acme",
        "acme.example",
        "11-50",
        "DE",
    )


@pytest.mark.django_db
def test_bad_input_is_a_clear_command_error(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(CommandError, match="file: The file is empty"):
        run("people", str(empty))
    no_identity = write_csv(tmp_path / "x.csv", [["Colour"], ["blue"]])
    with pytest.raises(CommandError, match="Map at least an email or a name"):
        run("people", str(no_identity))
    bad_json = tmp_path / "map.json"
    bad_json.write_text("{nope")
    with pytest.raises(CommandError, match="not JSON"):
        run("people", str(no_identity), "--mapping", str(bad_json))
    with pytest.raises(CommandError, match="region: 'Narnia' is not a country"):
        run("people", str(no_identity), "--region", "Narnia")
    with pytest.raises(CommandError, match="No import #999"):
        run("undo", "999")


def _subprocess_env(tmp_path: Path) -> dict[str, str]:
    """Point a child `tandem` at this test's database."""
    env = {**os.environ, "TANDEM_DEBUG": "true", "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        data = tmp_path / "child-data"
        data.mkdir()
        (data / "tandem.sqlite3").symlink_to(settings_dict["NAME"])
        env["TANDEM_DATA_DIR"] = str(data)
        env.pop("DATABASE_URL", None)
    else:
        user = settings_dict["USER"]
        password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
        host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or "5432"
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"
        env["TANDEM_DATA_DIR"] = str(tmp_path / "child-data")
    return env


@pytest.mark.django_db(transaction=True)
def test_kill_9_mid_import_loses_nothing_reported_and_resume_ends_as_one_clean_run(tmp_path):
    rows = [["Email", "First Name", "Company"]]
    rows += [[f"p{i}@corp{i % 7}.example", f"P{i}", f"Corp {i % 7}"] for i in range(3000)]
    rows[1500] = ["p3@corp3.example", "Again", "Corp 3"]  # an in-file duplicate
    rows[2000] = ["broken", "", ""]
    path = write_csv(tmp_path / "big.csv", rows)
    run("people", str(path), "--dry-run", "--policy", "fill")
    check = ImportJob.objects.get(is_dry_run=True)
    expected = (check.created_count, check.updated_count, check.skipped_count, check.rejected_count)
    assert expected == (2998, 0, 1, 1)

    child = subprocess.Popen(
        [sys.executable, "-m", "tandem", "import", "--skip-checks", "people", str(path),
         "--policy", "fill", "--batch-size", "50"],
        env=_subprocess_env(tmp_path),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    job = None
    while time.monotonic() < deadline and child.poll() is None:
        job = ImportJob.objects.filter(is_dry_run=False).first()
        if job is not None and job.processed_rows >= 300:
            break
        time.sleep(0.05)
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    child.wait()
    if child.returncode == 0:
        pytest.skip("the import finished before it could be killed")
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""

    job = ImportJob.objects.filter(is_dry_run=False).get()
    assert job.status == ImportStatus.RUNNING  # the kill left it mid-way...
    assert job.processed_rows % 50 == 0 and 0 < job.processed_rows < 3000  # ...after whole batches
    assert Person.objects.count() == job.created_count  # nothing lost, nothing extra
    assert job.row_errors.count() == job.rejected_count + job.skipped_count

    run("resume", str(job.pk), "--batch-size", "50")
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.updated_count, job.skipped_count, job.rejected_count) == expected
    assert Person.objects.count() == 2998
    assert Company.objects.count() == 7
    assert sorted(job.row_errors.values_list("row_number", "outcome")) == [
        (1501, "skipped"),
        (2001, "rejected"),
    ]

"""Importing people: policies, duplicates in the file, row errors, companies, undo, re-runs, resume."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tandem.campaigns.models import Campaign, Touchpoint
from tandem.core.models import AuditEvent
from tandem.imports import services
from tandem.imports.models import ImportChange, ImportStatus
from tandem.imports.tests.factories import (
    MESSY_LEFT_OUT,
    MESSY_PEOPLE,
    run_file,
    write_csv,
    write_messy_csv,
)
from tandem.people import services as people
from tandem.people.custom_fields import create_custom_field
from tandem.people.models import (
    Company,
    CustomField,
    Person,
    PersonEmail,
    PersonPhone,
    StageChange,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["small import", "big import"])
def import_path(request, settings) -> str:
    """Every test twice: as a small import runs, and as a big one does (rows read in a second
    process, secondary indexes built after the rows), which must give the same result."""
    if request.param == "big import":
        settings.TANDEM_IMPORT_READER_PROCESS_ROWS = 0
        settings.TANDEM_IMPORT_DEFER_INDEXES_ROWS = 0
    return request.param


HEADER = ["First Name", "Last Name", "Email", "Phone", "Company", "Job Title", "City", "Country", "Lifecycle Stage"]  # fmt: skip


def counts(job) -> tuple[int, int, int, int]:
    return (job.created_count, job.updated_count, job.skipped_count, job.rejected_count)


def snapshot_people() -> list[tuple]:
    """Everything an import may touch, to compare states exactly."""
    return sorted(
        Person.objects.values_list(
            "id", "first_name", "last_name", "first_name_key", "last_name_key", "email", "phone",
            "title", "city", "country", "stage", "company_id", "owner_id", "custom_fields",
            "deleted_at",
        )
    ) + sorted(PersonEmail.objects.values_list("person_id", "email_normalized", "is_primary")) + sorted(
        PersonPhone.objects.values_list("person_id", "number", "is_primary")
    )  # fmt: skip


def test_new_people_come_in_with_email_phone_company_stage_history(tmp_path, system, salesperson):
    path = write_csv(
        tmp_path / "people.csv",
        [
            [*HEADER, "Owner"],
            ["Ada", "Lovelace", "Ada@Analytical.example", "+44 20 7946 0018", "Analytical Engines", "Countess", "London", "United Kingdom", "marketingqualifiedlead", "sam"],
            ["Grace", "Hopper", "grace@navy.example", "(415) 555-0100", "", "Admiral", "Arlington", "US", "customer", ""],
        ],
    )  # fmt: skip
    job = run_file(path, actor=system)
    assert job.status == ImportStatus.DONE
    assert counts(job) == (2, 0, 0, 0)
    ada = Person.objects.get(email="ada@analytical.example")
    assert (ada.first_name, ada.title, ada.country, ada.stage) == ("Ada", "Countess", "GB", "mql")
    assert ada.owner == salesperson
    assert ada.phone == "+442079460018"
    assert ada.emails.get().email == "Ada@Analytical.example"  # as typed, trimmed
    assert ada.company.name == "Analytical Engines"
    assert ada.company.import_job_id == job.pk
    assert ada.import_job_id == job.pk
    created = StageChange.objects.get(person=ada)
    assert (created.from_stage, created.to_stage) == ("", "mql")
    assert "import #" in created.reason
    assert created.changed_at == ada.stage_changed_at == ada.created_at
    assert created.actor_label == system.label
    grace = Person.objects.get(email="grace@navy.example")
    assert grace.phone == "+14155550100"  # read in her country
    assert grace.company is None  # no name, and navy.example is no company we know


def test_people_link_to_companies_by_name_or_work_email_domain_not_free_mail(tmp_path, system):
    acme = people.create_company(actor=system, data={"name": "ACME Corp", "domain": "acme.example"})
    path = write_csv(
        tmp_path / "link.csv",
        [
            ["Email", "Company"],
            ["a@elsewhere.example", "acme corp"],  # by name, case-insensitive
            ["b@acme.example", ""],  # by work domain
            ["c@gmail.com", ""],  # free mail: no company
            ["d@acme.example", "Acme Holding"],  # unknown name, but the domain is ACME's
            ["e@newco.example", "NewCo"],  # a new company, its domain from the address
            ["f@newco.example", ""],  # then found by that domain
        ],
    )
    job = run_file(path, actor=system)
    assert counts(job) == (6, 0, 0, 0)
    company = dict(Person.objects.values_list("email", "company__name"))
    assert company == {
        "a@elsewhere.example": "ACME Corp",
        "b@acme.example": "ACME Corp",
        "c@gmail.com": None,
        "d@acme.example": "ACME Corp",
        "e@newco.example": "NewCo",
        "f@newco.example": "NewCo",
    }
    newco = Company.objects.get(name="NewCo")
    assert (newco.domain, newco.import_job_id) == ("newco.example", job.pk)
    assert Company.objects.count() == 2 and acme.import_job_id is None


def test_a_bad_value_is_left_out_and_reported_and_the_person_still_comes_in(tmp_path, system):
    job = run_file(write_messy_csv(tmp_path / "messy.csv", system), actor=system)
    assert job.status == ImportStatus.DONE
    assert counts(job) == (7, 0, 1, 2)
    assert job.left_out_count == len(MESSY_LEFT_OUT)
    people_by_name = {p.first_name: p for p in Person.objects.all()}
    assert set(people_by_name) == MESSY_PEOPLE
    ada = people_by_name["Ada"]
    assert (ada.phone, ada.country, ada.title, ada.stage) == (
        "+442079460018",
        "GB",
        "Countess",
        "customer",
    )
    assert ada.custom_fields == {"budget": 1000}
    bob = people_by_name["Bob"]
    assert (bob.email, bob.phone, bob.title, bob.stage) == ("bob@example.com", "", "CTO", "lead")
    assert not PersonPhone.objects.filter(person=bob).exists()
    assert people_by_name["Cy"].country == ""
    assert people_by_name["Di"].title == ""
    assert people_by_name["Ed"].custom_fields == {}
    fay = people_by_name["Fay"]
    assert (fay.last_name, fay.email) == ("Field", "")
    assert not PersonEmail.objects.filter(person=fay).exists()
    assert people_by_name["Gus"].stage == "lead"

    left_out = job.row_errors.filter(outcome="left_out")
    assert list(left_out.values_list("row_number", "column", "value")) == [
        (row, column, value) for row, column, value, _ in MESSY_LEFT_OUT
    ]
    for line, (_, _, _, words) in zip(left_out, MESSY_LEFT_OUT, strict=True):
        assert words in line.reason
    rejected = job.row_errors.filter(outcome="rejected")
    assert list(rejected.values_list("row_number", "column", "value")) == [
        (9, "", ""),
        (10, "Email", "not-an-email"),
    ]
    assert "name or an email" in rejected[0].reason
    assert "cannot say who the person is" in rejected[1].reason
    skipped = job.row_errors.get(outcome="skipped")
    assert (skipped.row_number, skipped.column, skipped.value, skipped.reason) == (
        11,
        "Email",
        "ADA@example.com",
        "Same email as row 2.",
    )


def test_a_row_with_no_email_and_no_name_is_rejected(tmp_path, system):
    path = write_csv(
        tmp_path / "nameless.csv",
        [HEADER, ["", "", "", "+44 20 7946 0018", "Nameless Inc", "CEO", "London", "GB", "lead"]],
    )
    job = run_file(path, actor=system)
    assert counts(job) == (0, 0, 0, 1)
    assert not Person.objects.exists() and not Company.objects.exists()
    line = job.row_errors.get()
    assert (line.row_number, line.outcome) == (2, "rejected")
    assert line.reason == "Give at least a name or an email address."


@pytest.mark.parametrize(
    ("region", "phone"),
    [("US", ""), ("DE", "+49301234567")],
)
def test_a_national_phone_is_read_in_the_rows_country_else_in_the_imports_region(
    tmp_path, system, settings, region, phone
):
    settings.TANDEM_DEFAULT_REGION = "US"
    path = write_csv(
        tmp_path / "national.csv",
        [
            ["Email", "Phone", "Country"],
            ["berlin@example.com", "030 1234567", ""],  # read in the import's region
            ["paris@example.com", "01 42 68 53 00", "FR"],  # the row's own country wins
        ],
    )
    job = services.import_file(actor=system, entity="people", path=path, region=region)
    assert job.region == region
    services.start_import(actor=system, job=job, enqueue=False)
    job = services.run_import(job_id=job.pk, actor=system)
    assert counts(job) == (2, 0, 0, 0)
    assert Person.objects.get(email="berlin@example.com").phone == phone
    assert Person.objects.get(email="paris@example.com").phone == "+33142685300"
    assert job.left_out_count == (0 if phone else 1)


def test_the_default_region_is_the_setting_and_a_bad_region_names_the_field(
    tmp_path, system, settings
):
    settings.TANDEM_DEFAULT_REGION = "DE"
    path = write_csv(tmp_path / "r.csv", [["Email", "Phone"], ["b@example.com", "030 1234567"]])
    assert services.import_file(actor=system, entity="people", path=path).region == "DE"
    job = services.import_file(actor=system, entity="people", path=path, region="France")
    assert job.region == "FR"
    with pytest.raises(ValidationError) as caught:
        services.import_file(actor=system, entity="people", path=path, region="Narnia")
    assert "region" in caught.value.message_dict


def test_an_in_file_duplicate_in_a_later_batch_names_the_row_it_repeats(tmp_path, system):
    rows = [["Email", "First Name"]]
    rows += [[f"p{i}@example.com", f"P{i}"] for i in range(5)]
    rows += [["P1@example.com", "Again"]]  # row 7, in the third batch of two
    job = run_file(write_csv(tmp_path / "d.csv", rows), actor=system, batch_size=2)
    assert counts(job) == (5, 0, 1, 0)
    line = job.row_errors.get()
    assert (line.row_number, line.outcome, line.value) == (7, "skipped", "P1@example.com")
    assert line.reason == "Same email as row 3."


def test_a_person_already_in_tandem_is_skipped_with_the_reason(tmp_path, system):
    ada = existing_ada(system)
    job = run_file(write_csv(tmp_path / "a.csv", ADA_ROW), actor=system, policy="skip")
    line = job.row_errors.get()
    assert (line.row_number, line.outcome) == (2, "skipped")
    assert line.reason == f"Already in Tandem (person #{ada.pk}); the policy is skip."


def test_a_required_custom_field_missing_leaves_the_person_in_and_says_so(tmp_path, system):
    create_custom_field(
        actor=system, entity="person", label="Region code", key="rc", field_type="text",
        required=True,
    )  # fmt: skip
    job = run_file(write_csv(tmp_path / "r.csv", [["Email"], ["a@example.com"]]), actor=system)
    assert counts(job) == (1, 0, 0, 0)
    line = job.row_errors.get()
    assert (line.row_number, line.outcome) == (2, "left_out")
    assert "Region code is required" in line.reason


def existing_ada(system):
    return people.create_person(
        actor=system,
        data={"first_name": "Ada", "last_name": "", "title": "Countess", "city": ""},
        email="ada@example.com",
        stage="lead",
    )


ADA_ROW = [["Email", "Last Name", "Job Title", "City", "Lifecycle Stage"], ["ADA@example.com", "Lovelace", "Mathematician", "London", "customer"]]  # fmt: skip


def test_a_cell_with_line_breaks_comes_in_as_one_line(tmp_path, system):
    # A spreadsheet cell written with Alt+Enter, or a name pasted with its line break.
    rows = [
        ["First Name", "Last Name", "Email", "Company", "City"],
        ["Ann\nMarie", "Smith", "ann@example.com", "Acme\r\nGmbH", "New\tYork"],
    ]
    job = run_file(write_csv(tmp_path / "lines.csv", rows), actor=system)
    assert counts(job) == (1, 0, 0, 0)
    person = Person.objects.select_related("company").get()
    assert (person.first_name, person.city, person.company.name) == (
        "Ann Marie",
        "New York",
        "Acme GmbH",
    )


def test_policy_skip_leaves_existing_people_alone(tmp_path, system):
    ada = existing_ada(system)
    job = run_file(write_csv(tmp_path / "a.csv", ADA_ROW), actor=system, policy="skip")
    assert counts(job) == (0, 0, 1, 0)
    ada.refresh_from_db()
    assert (ada.last_name, ada.title, ada.city, ada.stage) == ("", "Countess", "", "lead")


def test_policy_fill_fills_only_empty_fields(tmp_path, system):
    ada = existing_ada(system)
    job = run_file(write_csv(tmp_path / "a.csv", ADA_ROW), actor=system, policy="fill")
    assert counts(job) == (0, 1, 0, 0)
    ada.refresh_from_db()
    assert (ada.last_name, ada.title, ada.city, ada.stage) == (
        "Lovelace",
        "Countess",
        "London",
        "lead",
    )
    assert ada.last_name_key == "lovelace"
    change = ImportChange.objects.get(job=job)
    assert change.before == {"last_name": "", "city": ""}


def test_policy_overwrite_replaces_values_and_records_the_stage_move(tmp_path, system):
    ada = existing_ada(system)
    job = run_file(write_csv(tmp_path / "a.csv", ADA_ROW), actor=system, policy="overwrite")
    assert counts(job) == (0, 1, 0, 0)
    ada.refresh_from_db()
    assert (ada.last_name, ada.title, ada.city, ada.stage) == (
        "Lovelace",
        "Mathematician",
        "London",
        "customer",
    )
    move = StageChange.objects.filter(person=ada).first()
    assert (move.from_stage, move.to_stage) == ("lead", "customer")


def test_an_identical_row_counts_as_skipped_even_with_overwrite(tmp_path, system):
    existing_ada(system)
    path = write_csv(tmp_path / "same.csv", [["Email", "First Name"], ["ada@example.com", "Ada"]])
    assert counts(run_file(path, actor=system, policy="overwrite")) == (0, 0, 1, 0)


@pytest.mark.parametrize(
    ("policy", "expected", "title"),
    [
        ("skip", (1, 0, 2, 0), "CEO"),
        ("fill", (1, 1, 1, 0), "CEO"),
        ("overwrite", (1, 2, 0, 0), "CTO"),
    ],
)
def test_duplicates_within_the_file_follow_the_policy_against_the_first_row(
    tmp_path, system, policy, expected, title
):
    path = write_csv(
        tmp_path / "dupes.csv",
        [
            ["Email", "First Name", "Job Title", "City"],
            ["kim@example.com", "Kim", "CEO", ""],
            ["KIM@example.com ", "Kimberly", "CTO", "Oslo"],
            ["kim@example.com", "Kim", "CTO", "Oslo"],
        ],
    )
    job = run_file(path, actor=system, policy=policy)
    assert counts(job) == expected
    kim = Person.objects.get()
    assert kim.title == title
    assert PersonEmail.objects.count() == 1


def test_duplicates_across_batches_follow_the_policy_too(tmp_path, system):
    rows = [["Email", "First Name", "City"]]
    rows += [[f"p{i}@example.com", f"P{i}", ""] for i in range(5)]
    rows += [["p0@example.com", "P0", "Oslo"]]  # in the second batch
    job = run_file(write_csv(tmp_path / "x.csv", rows), actor=system, policy="fill", batch_size=3)
    assert counts(job) == (5, 1, 0, 0)
    assert Person.objects.get(email="p0@example.com").city == "Oslo"
    assert not ImportChange.objects.exists()  # p0 is the import's own: undo deletes it


def test_campaign_column_adds_import_touchpoints_and_makes_missing_campaigns(tmp_path, system):
    webinar = Campaign.objects.create(name="Spring webinar", key="spring-webinar")
    path = write_csv(
        tmp_path / "history.csv",
        [
            ["Email", "Campaign", "Create Date"],
            ["a@example.com", "spring-webinar", "2024-03-01"],
            ["a@example.com", "Trade Show 2024", "2024-05-01"],
        ],
    )
    job = run_file(path, actor=system, policy="fill")
    assert counts(job) == (1, 1, 0, 0)
    person = Person.objects.get()
    assert person.created_at.date().isoformat() == "2024-03-01"
    touchpoints = list(
        person.touchpoints.order_by("occurred_at").values_list(
            "kind", "campaign__key", "import_job_id"
        )
    )
    assert touchpoints == [("import", webinar.key, job.pk), ("import", "trade-show-2024", job.pk)]


def test_create_fields_makes_typed_custom_fields_for_other_columns(tmp_path, system):
    path = write_csv(
        tmp_path / "extra.csv",
        [
            ["Email", "Budget", "Renewal", "Newsletter"],
            ["a@example.com", "1200", "2025-01-31", "yes"],
        ],
    )
    job = run_file(path, actor=system, create_fields=True)
    assert counts(job) == (1, 0, 0, 0)
    types = dict(CustomField.objects.values_list("key", "field_type"))
    assert types == {"budget": "number", "renewal": "date", "newsletter": "bool"}
    assert Person.objects.get().custom_fields == {
        "budget": 1200,
        "renewal": "2025-01-31",
        "newsletter": True,
    }


def test_undo_removes_what_it_created_and_restores_exactly_what_it_changed(tmp_path, system):
    ada = existing_ada(system)
    people.add_phone(actor=system, person=ada, phone="+4930123456")
    acme = people.create_company(actor=system, data={"name": "Acme"})
    people.update_person(actor=system, person=ada, data={"company": acme, "custom_fields": {}})
    before = snapshot_people()
    companies_before = sorted(Company.objects.values_list("id", "name"))
    path = write_csv(
        tmp_path / "mix.csv",
        [
            ["Email", "Last Name", "Phone", "Company", "Lifecycle Stage", "Campaign"],
            ["ada@example.com", "Lovelace", "+49 30 654321", "Brand New Ltd", "customer", "Fair"],
            ["new@example.com", "Newman", "+49 30 111222", "Brand New Ltd", "lead", "Fair"],
        ],
    )
    job = run_file(path, actor=system, policy="overwrite")
    assert counts(job) == (1, 1, 0, 0)
    ada.refresh_from_db()
    assert (ada.last_name, ada.phone, ada.company.name, ada.stage) == (
        "Lovelace",
        "+4930654321",
        "Brand New Ltd",
        "customer",
    )
    assert ada.phones.count() == 2

    undone = services.undo_import(actor=system, job=job)
    assert undone.status == ImportStatus.UNDONE
    assert snapshot_people() == before
    assert sorted(Company.objects.values_list("id", "name")) == companies_before
    assert not Touchpoint.objects.exists()
    back = StageChange.objects.filter(person=ada).first()
    assert (back.from_stage, back.to_stage) == ("customer", "lead")
    assert AuditEvent.objects.filter(target_id=job.pk, event="undone").exists()


def test_running_the_same_file_again_with_skip_ends_as_one_clean_run(tmp_path, system):
    rows = [["Email", "First Name", "Company"]]
    rows += [[f"p{i}@corp{i % 3}.example", f"P{i}", f"Corp {i % 3}"] for i in range(12)]
    rows += [["broken", "", ""]]
    path = write_csv(tmp_path / "again.csv", rows)
    first = run_file(path, actor=system, batch_size=5)
    state = snapshot_people(), sorted(Company.objects.values_list("name", flat=True))
    second = run_file(path, actor=system, batch_size=5)
    assert counts(first) == (12, 0, 0, 1)
    assert counts(second) == (0, 0, 12, 1)
    assert (snapshot_people(), sorted(Company.objects.values_list("name", flat=True))) == state


def test_a_killed_import_resumes_after_its_last_batch_and_ends_as_one_clean_run(tmp_path, system):
    rows = [["Email", "First Name", "Company", "Campaign"]]
    rows += [[f"p{i}@corp{i % 4}.example", f"P{i}", f"Corp {i % 4}", "Fair"] for i in range(23)]
    rows[9] = ["p2@corp2.example", "Again", "Corp 2", "Fair"]  # a duplicate in a later batch
    rows[15] = ["not-an-email", "", "", ""]
    path = write_csv(tmp_path / "big.csv", rows)

    clean = run_file(path, actor=system, policy="fill", batch_size=5)
    clean_counts = counts(clean)
    clean_state = (
        Person.objects.count(),
        Company.objects.count(),
        Touchpoint.objects.count(),
        clean.row_errors.count(),
    )
    services.undo_import(actor=system, job=clean)
    assert Person.objects.count() == 0

    stopped = run_file(path, actor=system, policy="fill", batch_size=5, max_batches=2)
    assert stopped.status == ImportStatus.RUNNING
    assert stopped.processed_rows == 10  # two batches committed, nothing else
    assert Person.objects.filter(import_job_id=stopped.pk).count() == stopped.created_count
    resumed = services.run_import(job_id=stopped.pk, actor=system, batch_size=5)
    assert resumed.status == ImportStatus.DONE
    assert counts(resumed) == clean_counts
    assert (
        Person.objects.count(),
        Company.objects.count(),
        Touchpoint.objects.count(),
        resumed.row_errors.count(),
    ) == clean_state


def test_dry_run_counts_exactly_and_keeps_nothing(tmp_path, system):
    existing_ada(system)
    path = write_csv(
        tmp_path / "dry.csv",
        [
            ["Email", "Last Name", "Company", "Extra"],
            ["ada@example.com", "Lovelace", "", "1"],
            ["b@example.com", "B", "New Co", "2"],
            ["b@example.com", "Bee", "", "3"],
            ["nope", "", "", "4"],
        ],
    )
    job = services.import_file(
        actor=system, entity="people", path=path, policy="fill", create_fields=True
    )
    before = snapshot_people(), Company.objects.count(), CustomField.objects.count()
    services.start_dry_run(actor=system, job=job, enqueue=False)
    job = services.dry_run(job_id=job.pk, actor=system)
    assert (job.status, job.is_dry_run) == (ImportStatus.MAPPED, True)
    assert counts(job) == (1, 1, 1, 1)
    assert list(job.row_errors.values_list("row_number", "column", "outcome")) == [
        (4, "Email", "skipped"),
        (5, "Email", "rejected"),
    ]
    assert (
        job.row_errors.get(row_number=4).reason == "Same email as row 3; no empty fields to fill."
    )
    assert (snapshot_people(), Company.objects.count(), CustomField.objects.count()) == before

    services.start_import(actor=system, job=job, enqueue=False)
    job = services.run_import(job_id=job.pk, actor=system)
    assert counts(job) == (1, 1, 1, 1)


def test_each_batch_writes_one_audit_event_on_the_job(tmp_path, system):
    rows = [["Email"]] + [[f"p{i}@example.com"] for i in range(7)]
    job = run_file(write_csv(tmp_path / "audit.csv", rows), actor=system, batch_size=3)
    events = AuditEvent.objects.filter(
        target_type="imports.importjob", target_id=job.pk, event="imported"
    )
    assert events.count() == 3
    assert events.order_by("id").last().changes["processed_rows"] == [6, 7]


def test_a_deleted_persons_address_is_reported_not_revived(tmp_path, system):
    ghost = people.create_person(
        actor=system, data={"first_name": "Ghost"}, email="ghost@example.com"
    )
    people.delete_person(actor=system, person=ghost)
    path = write_csv(tmp_path / "g.csv", [["Email", "City"], ["ghost@example.com", "Oslo"]])
    job = run_file(path, actor=system, policy="fill")
    assert counts(job) == (0, 0, 0, 1)
    assert "deleted person" in job.row_errors.get().reason


def test_owner_is_found_by_user_name_email_or_full_name(tmp_path, system, salesperson, marketer):
    path = write_csv(
        tmp_path / "owners.csv",
        [
            ["Email", "Contact owner"],
            ["a@example.com", "sam"],
            ["b@example.com", "Mia Marketer"],
            ["c@example.com", "nobody"],
        ],
    )
    job = run_file(path, actor=system)
    assert counts(job) == (3, 0, 0, 0)
    owners = dict(Person.objects.values_list("email", "owner__username"))
    assert owners == {"a@example.com": "sam", "b@example.com": "mia", "c@example.com": None}
    left_out = job.row_errors.get()
    assert (left_out.row_number, left_out.outcome) == (4, "left_out")
    assert "no active user 'nobody'" in left_out.reason


def test_imported_people_are_checked_for_duplicates_after_the_run(
    tmp_path, system, django_capture_on_commit_callbacks
):
    from tandem.dedup.models import DuplicateCandidate

    ada = people.create_person(
        actor=system,
        data={"first_name": "Ada", "last_name": "Lovelace"},
        email="ada@one.example",
        phone="+49 30 1234567",
    )
    path = write_csv(
        tmp_path / "dup.csv",
        [
            ["First Name", "Last Name", "Email", "Phone"],
            ["Ada", "Lovelace", "ada@two.example", "+49 30 1234567"],
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = run_file(path, actor=system)
    assert counts(job) == (1, 0, 0, 0)
    twin = Person.objects.get(email="ada@two.example")
    candidate = DuplicateCandidate.objects.get()
    assert {candidate.person_a_id, candidate.person_b_id} == {ada.pk, twin.pk}
    assert candidate.found_by == "import"


def test_an_import_of_more_people_than_the_scan_threshold_checks_everyone_in_one_scan(
    tmp_path, system, settings, django_capture_on_commit_callbacks
):
    from tandem.dedup.models import DuplicateCandidate

    settings.TANDEM_DUPLICATE_SCAN_ABOVE = 2
    ada = people.create_person(
        actor=system, data={"first_name": "Ada", "last_name": "Lovelace"}, phone="+49 30 1234567"
    )
    rows = [["First Name", "Last Name", "Email", "Phone"]]
    rows += [["Ada", "Lovelace", "ada@two.example", "+49 30 1234567"]]
    rows += [[f"P{i}", f"Q{i}", f"p{i}@example.com", ""] for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        job = run_file(write_csv(tmp_path / "many.csv", rows), actor=system)
    assert counts(job) == (4, 0, 0, 0)
    candidate = DuplicateCandidate.objects.get()  # found by the one scan, not by lookups
    twin = Person.objects.get(email="ada@two.example")
    assert {candidate.person_a_id, candidate.person_b_id} == {ada.pk, twin.pk}
    assert candidate.found_by == "scan"

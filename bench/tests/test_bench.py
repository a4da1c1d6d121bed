"""The bench tools: deterministic data, and a load the app's services accept as their own."""

from __future__ import annotations

import csv

import pytest

from bench.generate import generate
from bench.load import BENCH_USER, load
from tandem.accounts.actor import Actor
from tandem.accounts.models import Role, User
from tandem.people.models import Company, Person, PersonEmail, PersonPhone, Stage, StageChange
from tandem.people.normalize import name_key, normalize_domain, normalize_email
from tandem.people.services import DuplicateEmailError, change_stage, create_person

PEOPLE, COMPANIES = 400, 80


def rows(path):
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_generate_is_deterministic_with_unique_emails(tmp_path):
    generate(people=PEOPLE, companies=COMPANIES, out=tmp_path / "a", seed=3)
    generate(people=PEOPLE, companies=COMPANIES, out=tmp_path / "b", seed=3)
    generate(people=PEOPLE, companies=COMPANIES, out=tmp_path / "c", seed=4)
    for name in ("people.csv", "companies.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "people.csv").read_bytes() != (
        tmp_path / "c" / "people.csv"
    ).read_bytes()
    people = rows(tmp_path / "a" / "people.csv")
    companies = rows(tmp_path / "a" / "companies.csv")
    assert len(people) == PEOPLE and len(companies) == COMPANIES
    assert len({p["email"] for p in people}) == PEOPLE
    assert len({c["name"] for c in companies}) == COMPANIES
    assert {p["stage"] for p in people} == set(Stage.values)
    assert all(p["phone"].startswith("+") for p in people if p["phone"])


@pytest.mark.django_db(transaction=True)  # VACUUM and ANALYZE run outside a transaction
def test_loaded_people_are_stored_as_the_services_store_them(tmp_path):
    generate(people=PEOPLE, companies=COMPANIES, out=tmp_path, seed=1)
    result = load(tmp_path, log=lambda _: None)
    assert result["people"] == PEOPLE

    source = {r["email"]: r for r in rows(tmp_path / "people.csv")}
    assert Person.objects.count() == PEOPLE
    assert Company.objects.count() == COMPANIES
    for company in Company.objects.all():
        assert company.name_key == name_key(company.name)
        assert company.domain == normalize_domain(company.domain)
    emails = {e.person_id: e for e in PersonEmail.objects.all()}
    phones = {p.person_id: p for p in PersonPhone.objects.all()}
    created = {c.person_id: c for c in StageChange.objects.all()}
    assert len(created) == StageChange.objects.count() == PEOPLE
    for person in Person.objects.select_related("company", "owner"):
        row = source[person.email]
        assert (person.first_name, person.last_name) == (row["first_name"], row["last_name"])
        assert person.first_name_key == name_key(person.first_name)
        assert person.last_name_key == name_key(person.last_name)
        assert emails[person.pk].email_normalized == normalize_email(row["email"]) == person.email
        assert emails[person.pk].is_primary
        if row["phone"]:
            assert phones[person.pk].number == person.phone == row["phone"]
            assert phones[person.pk].is_primary
        else:
            assert person.pk not in phones and person.phone == ""
        assert (person.company.name if person.company else "") == row["company"]
        assert (person.owner.username if person.owner else "") == row["owner"]
        assert person.stage == row["stage"]
        change = created[person.pk]
        assert (change.from_stage, change.to_stage, change.reason) == ("", person.stage, "Created")
        assert change.changed_at == person.created_at == person.stage_changed_at
    owners = User.objects.exclude(username=BENCH_USER)
    assert owners.exists() and all(u.role == Role.SALESPERSON for u in owners)
    assert User.objects.get(username=BENCH_USER).check_password("tandem-bench")


@pytest.mark.django_db(transaction=True)
def test_services_keep_working_on_loaded_data(tmp_path):
    generate(people=50, companies=10, out=tmp_path, seed=1)
    load(tmp_path, log=lambda _: None)
    actor = Actor.system("test")
    taken = Person.objects.order_by("id").first()
    with pytest.raises(DuplicateEmailError):
        create_person(actor=actor, data={"last_name": "Copy"}, email=taken.email.upper())
    # Ids continue after the loaded ones (sequences were moved past them).
    newcomer = create_person(actor=actor, data={"last_name": "New"}, email="new@bench.example")
    assert newcomer.pk > Person.objects.exclude(pk=newcomer.pk).order_by("-id").first().pk
    target = Stage.DISQUALIFIED if taken.stage != Stage.DISQUALIFIED else Stage.LEAD
    change_stage(person=taken, to_stage=target, actor=actor, reason="Bench check")
    assert StageChange.objects.filter(person=taken).count() == 2


def test_load_refuses_a_database_that_already_has_people(tmp_path, db, system):
    create_person(actor=system, data={"last_name": "Existing"}, email="existing@example.com")
    generate(people=10, companies=2, out=tmp_path, seed=1)
    with pytest.raises(SystemExit, match="already holds people"):
        load(tmp_path, log=lambda _: None)
    assert Person.objects.count() == 1

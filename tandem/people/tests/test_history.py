"""People and companies with a past (`people.bulk.create_*_with_history`, used by the demo).

The set-based writer must leave the same rows, with the same times, as the
one-by-one services called at each moment of that past: compared table by
table, audit trail included, against `create_person`, `add_email`,
`add_phone`, `change_stage`, `log_activity` and `create_company` run under a
travelling clock.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tandem.accounts.actor import Actor
from tandem.core.models import AuditEvent
from tandem.people import services
from tandem.people.bulk import (
    PastActivity,
    PastCompany,
    PastPerson,
    PastStep,
    create_companies_with_history,
    create_people_with_history,
)
from tandem.people.models import (
    Activity,
    Company,
    Person,
    PersonEmail,
    PersonPhone,
    PhoneKind,
    Stage,
    StageChange,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 3, 3, 9, 30, tzinfo=dt.UTC)


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def companies(marketer, salesperson) -> list[PastCompany]:
    seller, maya = Actor.for_user(salesperson), Actor.for_user(marketer)
    return [
        PastCompany(
            data={"name": " Acme  Tools GmbH ", "domain": "ACME.example", "country": "de"},
            at=day(-2),
            actor=Actor.system("demo"),
            activities=[PastActivity("note", day(40), seller, "Account plan", "Two sites.")],
        ),
        PastCompany(
            data={"name": "Initech", "size": "11-50", "owner": salesperson},
            at=day(-1),
            actor=maya,
        ),
    ]


def people(marketer, salesperson, manager, acme: Company) -> list[PastPerson]:
    seller, maya, boss = (
        Actor.for_user(salesperson),
        Actor.for_user(marketer),
        Actor.for_user(manager),
    )
    web = Actor.system("web form")
    return [
        PastPerson(  # the whole funnel, a send-back, extra addresses, activities
            data={
                "first_name": " Jörg ",
                "last_name": "Müller",
                "title": "Head of IT",
                "company": acme,
                "country": "DE",
                "owner": salesperson,
                "source": "webinar",
            },
            email="Joerg.Mueller@ACME.example",
            phone="030 901820",
            more_emails=["joerg@mail.example"],
            more_phones=[("+49 1512 3456789", PhoneKind.MOBILE)],
            steps=[
                PastStep(Stage.SUBSCRIBER, day(0), web),
                PastStep(Stage.LEAD, day(3), maya, "Downloaded the guide"),
                PastStep(Stage.MQL, day(10), maya),
                PastStep(Stage.SAL, day(11), seller),
                PastStep(Stage.MQL, day(12), seller, "Not before next budget year"),
                PastStep(Stage.SAL, day(60), seller, "Budget approved"),
                PastStep(Stage.CUSTOMER, day(90), boss),
            ],
            activities=[
                PastActivity("call", day(11.5), seller, "Intro call", "", "Interested"),
                PastActivity("email", day(4), maya, "", " Sent the guide. "),
            ],
        ),
        PastPerson(  # created and left alone, by a salesperson
            data={"last_name": "Okafor", "country": "GB", "owner": salesperson},
            email="ada@inbox.example",
            steps=[PastStep(Stage.LEAD, day(20), seller, "Met at the booth")],
        ),
        PastPerson(  # no name, disqualified with a reason
            data={},
            email="anon@post.example",
            steps=[
                PastStep(Stage.SUBSCRIBER, day(5), web),
                PastStep(Stage.DISQUALIFIED, day(5), maya, "Competitor"),
            ],
        ),
    ]


def records() -> dict[str, list[tuple]]:
    """Every row the writers touch, without database ids (people by email, companies by name)."""
    person = {p.pk: p.email or p.last_name for p in Person.objects.all()}
    company = dict(Company.objects.values_list("pk", "name"))

    def rows(source, *fields, key=lambda r: r) -> list[tuple]:
        queryset = source if hasattr(source, "values_list") else source.objects.all()
        return sorted(map(key, queryset.values_list(*fields)), key=repr)

    def target(row):
        kind, pk, *rest, changes = row
        if "company" in changes:  # a company's id, named
            changes = {**changes, "company": [company.get(v) for v in changes["company"]]}
        return (
            kind,
            person.get(pk) if kind == "people.person" else company.get(pk),
            *rest,
            changes,
        )

    return {
        "people": rows(
            Person,
            "first_name",
            "last_name",
            "first_name_key",
            "last_name_key",
            "email",
            "phone",
            "title",
            "company__name",
            "country",
            "owner__username",
            "stage",
            "source",
            "custom_fields",
            "created_at",
            "updated_at",
            "stage_changed_at",
        ),
        "companies": rows(
            Company,
            "name",
            "name_key",
            "domain",
            "industry",
            "size",
            "country",
            "owner__username",
            "custom_fields",
            "created_at",
            "updated_at",
        ),
        "emails": rows(
            PersonEmail, "person__email", "email", "email_normalized", "is_primary", "created_at"
        ),
        "phones": rows(
            PersonPhone, "person__email", "number", "original", "kind", "is_primary", "created_at"
        ),
        "stage_changes": rows(
            StageChange,
            "person__email",
            "from_stage",
            "to_stage",
            "changed_at",
            "actor__username",
            "actor_label",
            "reason",
        ),
        "activities": rows(
            Activity,
            "kind",
            "person__email",
            "company__name",
            "occurred_at",
            "actor__username",
            "actor_label",
            "subject",
            "body",
            "outcome",
            "created_at",
        ),
        "audit": rows(
            AuditEvent.objects.filter(target_type__startswith="people."),
            "target_type",
            "target_id",
            "event",
            "at",
            "actor__username",
            "actor_label",
            "target_repr",
            "changes",
            key=target,
        ),
    }


def forget_everything() -> None:
    for model in (Activity, Person, Company, AuditEvent):
        model.objects.all().delete()


def one_by_one(past_companies: list[PastCompany], past_people_of) -> None:
    """The same past, written by the one-by-one services, each call at its moment."""
    made = []
    for past in past_companies:
        with time_machine.travel(past.at, tick=False):
            made.append(services.create_company(actor=past.actor, data=past.data))
    for past, company in zip(past_companies, made, strict=True):
        for act in past.activities:
            with time_machine.travel(act.at, tick=False):
                services.log_activity(
                    actor=act.actor,
                    kind=act.kind,
                    company=company,
                    subject=act.subject,
                    body=act.body,
                    outcome=act.outcome,
                    occurred_at=act.at,
                )
    for past in past_people_of(made[0]):
        first = past.steps[0]
        with time_machine.travel(first.at, tick=False):
            person = services.create_person(
                actor=first.actor,
                data=past.data,
                email=past.email,
                phone=past.phone,
                stage=first.to_stage,
                reason=first.reason,
                created_at=first.at,
            )
            for email in past.more_emails:
                services.add_email(actor=first.actor, person=person, email=email)
            for number, kind in past.more_phones:
                services.add_phone(actor=first.actor, person=person, phone=number, kind=kind)
        for step in past.steps[1:]:
            with time_machine.travel(step.at, tick=False):
                services.change_stage(
                    person=person, to_stage=step.to_stage, actor=step.actor, reason=step.reason
                )
        for act in past.activities:
            with time_machine.travel(act.at, tick=False):
                services.log_activity(
                    actor=act.actor,
                    kind=act.kind,
                    person=person,
                    subject=act.subject,
                    body=act.body,
                    outcome=act.outcome,
                    occurred_at=act.at,
                )


def test_history_gives_the_same_rows_and_times_as_the_services_one_by_one(
    marketer, salesperson, manager
):
    past_companies = companies(marketer, salesperson)

    def past_people_of(acme):
        return people(marketer, salesperson, manager, acme)

    one_by_one(past_companies, past_people_of)
    expected = records()
    forget_everything()

    made = create_companies_with_history(companies=past_companies)
    create_people_with_history(people=past_people_of(made[0]))
    written = records()

    for table in expected:
        assert written[table] == expected[table], table
    assert len(written["audit"]) == 2 + 3 + 1 + 1 + 6 + 1  # companies, created, extras, moves
    # Dated when it happened, not when it was written.
    assert max(AuditEvent.objects.values_list("at", flat=True)) == day(90)
    assert min(AuditEvent.objects.values_list("at", flat=True)) == day(-2)


def test_the_writes_are_set_based(marketer, salesperson, manager):
    acme = create_companies_with_history(companies=companies(marketer, salesperson))[0]

    def statements(batch: list[PastPerson]) -> int:
        with CaptureQueriesContext(connection) as queries:
            create_people_with_history(people=batch)
        return len(queries)

    few = statements(people(marketer, salesperson, manager, acme)[:1])
    forget_everything()
    acme = create_companies_with_history(companies=companies(marketer, salesperson))[0]
    many = []
    for n in range(40):
        for past in people(marketer, salesperson, manager, acme):
            past.email = f"{n}.{past.email}"
            past.more_emails = [f"{n}.{e}" for e in past.more_emails]
            many.append(past)
    assert statements(many) == few
    assert Person.objects.count() == 120


def test_a_bad_step_stops_the_batch_before_anything_is_written(marketer, salesperson, manager):
    acme = create_companies_with_history(companies=companies(marketer, salesperson))[0]
    batch = people(marketer, salesperson, manager, acme)
    first = batch[0].steps
    first[4] = PastStep(Stage.MQL, first[4].at, first[4].actor)  # back to MQL, no reason
    with pytest.raises(ValidationError) as caught:
        create_people_with_history(people=batch)
    assert "reason" in caught.value.message_dict
    batch = people(marketer, salesperson, manager, acme)
    batch[1].data["owner"] = manager  # a salesperson may not move a colleague's person
    batch[1].steps.append(
        PastStep(Stage.MQL, day(30), Actor.for_user(salesperson), "Asked for a demo")
    )
    with pytest.raises(PermissionDenied):
        create_people_with_history(people=batch)
    batch = people(marketer, salesperson, manager, acme)
    batch[2].activities = [PastActivity("fax", day(6), Actor.system("demo"), "Sent")]
    with pytest.raises(ValidationError) as caught:
        create_people_with_history(people=batch)
    assert "kind" in caught.value.message_dict
    assert not Person.objects.exists()

"""The inbox drain writes a batch of submissions set-based (issue 17, point 1): the records
must be exactly those the one-by-one capture writes, for new people, known people and an
email repeated inside the batch, and a refused submission is still kept, not lost."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tandem.campaigns.models import Touchpoint
from tandem.capture import consent as consents
from tandem.capture import inbox, spool, webforms
from tandem.capture.demo import ensure_demo_guide_form
from tandem.capture.email import confirmation_link
from tandem.capture.models import (
    ConfirmationEmailSent,
    Consent,
    ConsentEvent,
    InboxSubmission,
    OutboundEmail,
    WebForm,
)
from tandem.core.models import AuditEvent
from tandem.people import services as people
from tandem.people.models import (
    Company,
    CustomField,
    CustomFieldEntity,
    Person,
    PersonEmail,
    PersonPhone,
    StageChange,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def guide(system, marketer) -> WebForm:
    """The J1 form with a custom field and a notified marketer."""
    form = ensure_demo_guide_form(system)
    CustomField.objects.create(
        entity=CustomFieldEntity.PERSON, key="interest", label="Interest", field_type="text"
    )
    marketer.email = "mia@example.com"
    marketer.save(update_fields=["email"])
    return webforms.update_form(
        actor=system,
        form=form,
        data={"fields": [*form.fields, {"name": "custom:interest"}], "notify": [marketer]},
    )


def post(form: WebForm, email: str, **extra: str) -> None:
    data = {
        "first_name": "Lee",
        "last_name": "Lead",
        "email": email,
        "utm_source": "newsletter",
        webforms.TIMESTAMP_FIELD: webforms.fill_token(form.key, shown_at=time.time() - 60),
        **extra,
    }
    response = Client().post(f"/f/{form.key}", data, HTTP_ORIGIN="http://shop.example.net")
    assert response.status_code == 303, response.content


def submit_mixed_batch(form: WebForm, system) -> None:
    """New people, a known person with empty fields, an email twice (case and spaces),
    a company new to the database and one named twice, a refused submission."""
    acme = people.create_company(actor=system, data={"name": "Acme"})
    people.create_person(
        actor=system, data={"last_name": "Known", "company": acme}, email="known@example.com"
    )
    post(
        form,
        "ada@example.com",
        first_name="Ada",
        company="Zeta Labs",
        custom_interest="CRM",
        consent_newsletter="on",
        title="CTO",
    )
    post(
        form,
        "KNOWN@example.com",
        first_name="Kay",
        last_name="Other",
        title="Buyer",
        company="Zeta Labs",
        consent_newsletter="on",
    )
    post(form, "bo@example.com", first_name="Bo", company="acme", phone="+44 20 7946 0958")
    post(
        form,
        "  ADA@Example.COM ",
        first_name="Adele",
        company="Other Co",
        title="VP",
        consent_newsletter="on",
        custom_interest="ERP",
    )
    post(form, "cy@example.com", first_name="Cy", utm_campaign="spring", message="Call me")
    sub = webforms.Submission(person={"first_name": "Di", "email": "di@example.com"})
    sub.person["custom_fields"] = {"no_such_field": "x"}
    inbox.accept(form=form, sub=sub, proof=consents.Proof(method="form", form=form), base_url="")
    post(form, "eve@example.com", first_name="Eve", consent_newsletter="on")
    spool.move_all()  # on SQLite the posts wait in the spool until the drain moves them


def records() -> dict[str, Any]:
    """Every record a capture writes, without ids and write times."""
    companies = {c.pk: c.name for c in Company.objects.all()}
    emails = {p.pk: p.email for p in Person.objects.all()}

    def plain(changes: dict[str, Any]) -> dict[str, Any]:
        return {
            k: [companies.get(v) if k == "company" else v for v in pair]
            for k, pair in changes.items()
        }

    def person_of(event: AuditEvent) -> str:
        if event.target_type == "people.person":
            return emails.get(event.target_id, event.target_repr)
        return event.target_repr

    return {
        "people": sorted(
            (
                p.email,
                p.first_name,
                p.last_name,
                p.first_name_key,
                p.last_name_key,
                p.title,
                companies.get(p.company_id),
                p.phone,
                p.source,
                p.stage,
                p.custom_fields,
                p.country,
                p.stage_changed_at is not None,
            )
            for p in Person.objects.all()
        ),
        "emails": sorted(
            (e.person.email, e.email, e.email_normalized, e.is_primary)
            for e in PersonEmail.objects.select_related("person")
        ),
        "phones": sorted(
            (p.person.email, p.number, p.original, p.is_primary, p.kind)
            for p in PersonPhone.objects.select_related("person")
        ),
        "companies": sorted((c.name, c.name_key, c.custom_fields) for c in Company.objects.all()),
        "stage_changes": sorted(
            (s.person.email, s.from_stage, s.to_stage, s.actor_label, s.reason)
            for s in StageChange.objects.select_related("person")
        ),
        "touchpoints": sorted(
            (
                t.person.email,
                t.kind,
                t.campaign_id,
                t.channel,
                t.utm_source,
                t.utm_campaign,
                t.referrer,
                t.page_url,
                t.form_id,
                t.note,
                repr(t.detail),
            )
            for t in Touchpoint.objects.select_related("person")
        ),
        "consents": sorted(
            (c.person.email, c.purpose.key, c.status, c.text_id)
            for c in Consent.objects.select_related("person", "purpose")
        ),
        "consent_events": sorted(
            (
                e.consent.person.email,
                e.action,
                e.text_id,
                e.form_id,
                e.ip,
                e.user_agent,
                e.method,
            )
            for e in ConsentEvent.objects.select_related("consent__person")
        ),
        "outbound": sorted(
            (
                o.kind,
                o.to,
                o.person.email if o.person else None,
                o.subject,
                o.status,
                repr({k: v for k, v in o.context.items() if k not in ("confirm", "person_url")}),
                own_links(o),
            )
            for o in OutboundEmail.objects.select_related("person")
        ),
        "audit": sorted(
            (a.event, a.actor_label, a.target_type, person_of(a), repr(plain(a.changes)))
            for a in AuditEvent.objects.filter(target_type__in=["people.person", "people.company"])
        ),
        "inbox": sorted(
            (s.payload["person"]["email"], s.attempts, s.last_error)
            for s in InboxSubmission.objects.all()
        ),
    }


def own_links(email: OutboundEmail) -> bool:
    """The email's link leads to its own person (and consents): ids differ between runs."""
    if email.kind == "consent_confirmation":
        token = confirmation_link(email.context).rstrip("/").rsplit("/", 1)[-1]
        person_id, consent_ids = consents.read_confirmation_token(token)
        return person_id == email.person_id and set(consent_ids) == set(
            Consent.objects.filter(person_id=person_id, status="pending").values_list(
                "pk", flat=True
            )
        )
    person = Person.objects.get(email=email.context["person_email"])
    return email.context["person_url"].endswith(f"/people/{person.pk}/")


def forget_everything() -> None:
    # The confirmation claims too: else the second run may send no double opt-in email.
    for model in (
        InboxSubmission,
        OutboundEmail,
        ConfirmationEmailSent,
        Touchpoint,
        Person,
        Company,
        AuditEvent,
    ):
        model.objects.all().delete()


def test_a_mixed_batch_gives_the_same_records_as_one_by_one(queued, guide, system):
    submit_mixed_batch(guide, system)
    forms = inbox._Forms()
    for pk in InboxSubmission.objects.order_by("pk").values_list("pk", flat=True):
        inbox.capture_waiting(pk, forms)  # the one-by-one path
    one_by_one = records()
    forget_everything()

    submit_mixed_batch(guide, system)
    sent_at = set(InboxSubmission.objects.values_list("received_at", flat=True))
    result = inbox.drain()
    batched = records()

    assert (result.captured, result.failed) == (6, 1)
    assert Person.objects.count() == 5  # ada (twice), known, bo, cy, eve
    assert Touchpoint.objects.filter(person__email="ada@example.com").count() == 2
    for name in one_by_one:
        assert batched[name] == one_by_one[name], name
    assert [e[0] for e in batched["inbox"]] == ["di@example.com"]  # kept with its error
    # When the visitor sent it, not when it was captured: the touchpoint and the proof.
    assert set(Touchpoint.objects.values_list("occurred_at", flat=True)) <= sent_at
    assert set(ConsentEvent.objects.values_list("at", flat=True)) <= sent_at


def test_new_people_are_written_in_a_fixed_number_of_statements(queued, guide, settings):
    """Set-based: three new people or a full write batch cost the same statements (one
    INSERT per table)."""
    settings.TANDEM_FORM_RATE_PER_IP = 1000

    def statements_for(n: int, start: int) -> int:
        for i in range(n):
            post(
                guide,
                f"p{start + i}@example.com",
                first_name="P",
                company=f"Co {start + i % 3}",
                consent_newsletter="on",
            )
        with CaptureQueriesContext(connection) as queries:
            assert inbox.drain().captured == n
        return len(queries)

    # A first drain warms what is looked up once per process (PostgreSQL's sequence
    # names, the daily clean-up of confirmation marks), so the two below compare alike
    # whichever tests ran before.
    statements_for(1, 1000)
    few = statements_for(3, 0)
    full = statements_for(min(inbox.write_batch_size(), 60), 100)  # one write transaction each
    assert full == few
    total = 1 + 3 + min(inbox.write_batch_size(), 60)
    assert Person.objects.count() == total
    assert OutboundEmail.objects.filter(kind="consent_confirmation").count() == total
    assert Consent.objects.filter(status="pending").count() == total

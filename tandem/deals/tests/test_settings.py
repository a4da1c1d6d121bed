"""The pipeline and reason settings pages (managers and admins), and the Deals card on the
person and company pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tandem.accounts.actor import Actor
from tandem.core.models import AuditEvent
from tandem.deals import pipelines, services
from tandem.deals.models import CloseReason, Deal, Pipeline, PipelineStage
from tandem.people import services as people

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def page_urls() -> list[str]:
    pipeline = pipelines.ensure_defaults()
    stage = pipeline.stages.first()
    reason = CloseReason.objects.first()
    return [
        reverse("deals_settings:pipelines"),
        reverse("deals_settings:pipeline_create"),
        reverse("deals_settings:pipeline_edit", args=[pipeline.pk]),
        reverse("deals_settings:stage_edit", args=[stage.pk]),
        reverse("deals_settings:reasons"),
        reverse("deals_settings:reason_edit", args=[reason.pk]),
    ]


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("manager", 200)])
def test_managers_and_admins_open_every_settings_page(client, users_by_role, role, status):
    signed_in(client, users_by_role[role])
    for url in page_urls():
        assert client.get(url).status_code == status, url


@pytest.mark.parametrize("role", ["salesperson", "marketer"])
def test_salespeople_and_marketers_are_refused_every_page_and_post(client, users_by_role, role):
    signed_in(client, users_by_role[role])
    pipeline = pipelines.ensure_defaults()
    stage = pipeline.stages.first()
    for url in page_urls():
        assert client.get(url).status_code == 403, url
    posts = [
        (reverse("deals_settings:pipeline_create"), {"name": "Mine"}),
        (
            reverse("deals_settings:stage_create", args=[pipeline.pk]),
            {"name": "X", "probability": 5},
        ),
        (reverse("deals_settings:stage_move", args=[stage.pk]), {"direction": "down"}),
        (reverse("deals_settings:reasons"), {"kind": "lost", "name": "Mood", "is_active": "on"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert not Pipeline.objects.filter(name="Mine").exists()
    assert not CloseReason.objects.filter(name="Mood").exists()


def test_signed_out_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("deals_settings:pipelines"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_manager_adds_a_pipeline_with_its_stages_and_makes_it_the_default(client, manager):
    signed_in(client, manager)
    response = client.post(
        reverse("deals_settings:pipeline_create"),
        {"name": "Renewals", "is_default": "on", "stages": "Due 60\nQuoted, 80 %\nSigned"},
    )
    renewals = Pipeline.objects.get(name="Renewals")
    assert response.status_code == 302
    assert [(s.name, s.probability) for s in renewals.stages.order_by("position")] == [
        ("Due", 60),
        ("Quoted", 80),
        ("Signed", 10),
    ]
    assert pipelines.default_pipeline() == renewals
    assert AuditEvent.objects.filter(event="pipeline_created", actor=manager).exists()
    page = client.get(reverse("deals_settings:pipelines")).content.decode()
    assert "Renewals" in page and "Signed" in page


def test_a_taken_name_is_shown_on_the_field(client, manager):
    signed_in(client, manager)
    pipelines.ensure_defaults()
    response = client.post(reverse("deals_settings:pipeline_create"), {"name": "sales"})
    assert response.status_code == 400
    assert "There is a pipeline" in response.content.decode()


def test_stages_are_added_reordered_by_button_and_repriced(client, manager):
    signed_in(client, manager)
    pipeline = pipelines.ensure_defaults()
    client.post(
        reverse("deals_settings:stage_create", args=[pipeline.pk]),
        {"name": "Contract", "probability": 90},
    )
    contract = PipelineStage.objects.get(name="Contract")
    client.post(reverse("deals_settings:stage_move", args=[contract.pk]), {"direction": "up"})
    names = list(pipeline.stages.order_by("position").values_list("name", flat=True))
    assert names == ["Qualification", "Discovery", "Proposal", "Contract", "Negotiation"]
    response = client.post(
        reverse("deals_settings:stage_edit", args=[contract.pk]),
        {"name": "Contract sent", "probability": 85, "is_active": "on"},
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.name, contract.probability) == ("Contract sent", 85)
    bad = client.post(
        reverse("deals_settings:stage_edit", args=[contract.pk]),
        {"name": "Contract", "probability": 101, "is_active": "on"},
    )
    assert bad.status_code == 400


def test_archiving_a_stage_with_open_deals_asks_where_they_go(client, manager):
    signed_in(client, manager)
    pipeline = pipelines.ensure_defaults()
    first, second = list(pipeline.stages.order_by("position"))[:2]
    deal = services.create_deal(actor=Actor.for_user(manager), data={"name": "D"})
    url = reverse("deals_settings:stage_edit", args=[first.pk])
    refused = client.post(url, {"name": first.name, "probability": first.probability})
    assert (
        refused.status_code == 400 and "choose the stage they move to" in refused.content.decode()
    )
    done = client.post(
        url,
        {"name": first.name, "probability": first.probability, "move_open_deals_to": second.pk},
    )
    assert done.status_code == 302
    assert Deal.objects.get(pk=deal.pk).stage == second
    first.refresh_from_db()
    assert not first.is_active


def test_reasons_are_added_retired_and_reordered(client, manager):
    signed_in(client, manager)
    response = client.post(
        reverse("deals_settings:reasons"), {"kind": "lost", "name": "Legal", "is_active": "on"}
    )
    assert response.status_code == 302
    legal = CloseReason.objects.get(name="Legal")
    assert legal.kind == "lost"
    client.post(reverse("deals_settings:reason_move", args=[legal.pk]), {"direction": "up"})
    lost = list(
        CloseReason.objects.filter(kind="lost").order_by("position").values_list("name", flat=True)
    )
    assert lost[-2] == "Legal"
    client.post(reverse("deals_settings:reason_edit", args=[legal.pk]), {"name": "Legal"})
    legal.refresh_from_db()
    assert not legal.is_active
    assert "Legal" not in [r.name for r in pipelines.active_reasons("lost")]
    page = client.get(reverse("deals_settings:reasons")).content.decode()
    assert "Retired" in page and "Product fit" in page


def test_the_person_and_company_pages_show_their_deals(client, manager, system):
    signed_in(client, manager)
    ann = people.create_person(actor=system, data={"first_name": "Ann"}, stage="sal")
    acme = people.create_company(actor=system, data={"name": "Acme"})
    deal = services.create_deal(
        actor=Actor.for_user(manager),
        data={
            "name": "Acme pilot",
            "company": acme.pk,
            "amount": "2500",
            "contacts": [{"person": ann.pk, "role": "decision_maker"}],
        },
    )
    person_page = client.get(reverse("people:detail", args=[ann.pk])).content.decode()
    assert "Acme pilot" in person_page and f"/deals/{deal.pk}/" in person_page
    assert "Decision maker" in person_page and "Qualification" in person_page
    company_page = client.get(reverse("people:company_detail", args=[acme.pk])).content.decode()
    assert "Acme pilot" in company_page and "2,500.00" in company_page
    empty = people.create_person(actor=system, data={"first_name": "Bob"})
    assert (
        "No deals with Bob yet"
        in client.get(reverse("people:detail", args=[empty.pk])).content.decode()
    )

"""The stage picker on the person page offers the next stage, not a move backwards."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tandem.people import services
from tandem.people.models import Person, Stage


@pytest.fixture
def signed_in(client, marketer):
    client.force_login(marketer)
    return client


def picked_stage(html: str) -> str | None:
    select = re.search(r'<select name="stage-to_stage".*?</select>', html, re.S)
    assert select, "no stage picker"
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
    return chosen.group(1) if chosen else None


@pytest.mark.parametrize(
    ("now", "offered"),
    [
        ("subscriber", "lead"),
        ("lead", "mql"),
        ("mql", "sal"),
        ("sal", "opportunity"),
        ("opportunity", "customer"),
        ("customer", "advocate"),
        ("recycled", "lead"),
    ],
)
def test_the_picker_defaults_to_the_next_stage(signed_in, system, now, offered):
    person = services.create_person(
        actor=system, data={"last_name": "Lovelace"}, email="ada@example.com", stage=now
    )
    html = signed_in.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert picked_stage(html) == offered


@pytest.mark.parametrize("now", ["advocate", "disqualified"])
def test_without_an_obvious_next_stage_nothing_is_picked_and_saving_asks_for_one(
    signed_in, system, now
):
    person = services.create_person(
        actor=system, data={"last_name": "Lovelace"}, email="ada@example.com", stage=now
    )
    html = signed_in.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert picked_stage(html) == ""
    assert '<option value="" selected>Choose a stage…</option>' in html
    response = signed_in.post(
        reverse("people:change_stage", args=[person.pk]), {"stage-to_stage": ""}
    )
    assert "Choose the stage to move to." in response.content.decode()
    assert Person.objects.get(pk=person.pk).stage == now


def test_saving_the_picker_as_offered_moves_forward_without_a_reason(signed_in, system):
    person = services.create_person(
        actor=system, data={"last_name": "Lovelace"}, email="ada@example.com"
    )
    html = signed_in.get(reverse("people:detail", args=[person.pk])).content.decode()
    response = signed_in.post(
        reverse("people:change_stage", args=[person.pk]), {"stage-to_stage": picked_stage(html)}
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=person.pk).stage == Stage.MQL

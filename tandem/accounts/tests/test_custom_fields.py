"""Admins define custom fields on people and companies; bad input is explained next to the field."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from tandem.accounts.actor import Actor
from tandem.core.audit import audit_for
from tandem.people.custom_fields import (
    create_custom_field,
    delete_custom_field,
    update_custom_field,
)
from tandem.people.models import CustomField, Person


def test_admin_adds_a_choice_field_with_a_key_made_from_its_name(client, admin):
    client.force_login(admin)
    response = client.post(
        reverse("people:custom_field_new"),
        {
            "entity": "company",
            "label": "Customer tier",
            "key": "",
            "field_type": "choice",
            "required": "on",
            "choices": "Gold\n Silver \n\nGold\nBronze",
        },
    )
    assert response["Location"] == reverse("people:custom_fields")
    field = CustomField.objects.get()
    assert (field.entity, field.key, field.required) == ("company", "customer_tier", True)
    assert field.choices == ["Gold", "Silver", "Bronze"]
    assert audit_for(field)[0].event == "created"
    assert "customer_tier" in client.get(reverse("people:custom_fields")).text


@pytest.mark.parametrize(
    ("data", "field_name", "message"),
    [
        (
            {"label": "Tier", "field_type": "choice", "choices": ""},
            "choices",
            "at least one choice",
        ),
        ({"label": "Tier", "field_type": "text", "key": "Bad Key!"}, "key", "lower-case letters"),
        ({"label": "", "field_type": "text"}, "label", "required"),
        ({"label": "Tier", "field_type": "colour"}, "field_type", "Select a valid choice"),
    ],
)
def test_bad_custom_field_input_shows_the_error_next_to_the_field(
    client, admin, data, field_name, message
):
    client.force_login(admin)
    response = client.post(reverse("people:custom_field_new"), {"entity": "person", **data})
    assert response.status_code == 400
    text = response.text
    error_id = f"id_{field_name}_error"
    assert f'id="{error_id}"' in text
    assert (
        f'aria-describedby="{error_id}"' in text
        or f'aria-describedby="id_{field_name}_helptext {error_id}"' in text
    )
    error_block = text.split(f'id="{error_id}"', 1)[1].split("</ul>", 1)[0]
    assert message in error_block
    if data.get("label"):
        assert f'value="{data["label"]}"' in text  # kept after the error
    assert CustomField.objects.count() == 0


def test_duplicate_key_for_the_same_entity_is_refused(client, admin, system):
    create_custom_field(actor=system, entity="person", label="Budget", field_type="number")
    client.force_login(admin)
    response = client.post(
        reverse("people:custom_field_new"),
        {"entity": "person", "label": "Budget", "field_type": "text"},
    )
    assert response.status_code == 400
    assert 'id="id_key_error"' in response.text and "already" in response.text
    # The same key on companies is a different field.
    create_custom_field(actor=system, entity="company", label="Budget", field_type="number")


def test_admin_edits_a_field_and_the_change_is_audited(client, admin, system):
    field = create_custom_field(
        actor=system, entity="person", label="Size", field_type="choice", choices=["S", "M"]
    )
    client.force_login(admin)
    client.post(
        reverse("people:custom_field_edit", args=[field.pk]),
        {"label": "T-shirt size", "key": "size", "field_type": "choice", "choices": "S\nM\nL"},
    )
    field.refresh_from_db()
    assert (field.label, field.choices) == ("T-shirt size", ["S", "M", "L"])
    event = audit_for(field)[0]
    assert event.changes["choices"] == [["S", "M"], ["S", "M", "L"]]
    assert "T-shirt size" in client.get(reverse("people:custom_field_edit", args=[field.pk])).text


def test_key_and_type_stay_once_records_hold_values(admin, system):
    field = create_custom_field(actor=system, entity="person", label="Budget", field_type="number")
    actor = Actor.for_user(admin)
    update_custom_field(actor=actor, field=field, data={"key": "yearly_budget"})  # no values yet
    Person.objects.create(first_name="Vera", custom_fields={"yearly_budget": 10})

    with pytest.raises(ValidationError) as exc:
        update_custom_field(actor=actor, field=field, data={"field_type": "text"})
    assert "field_type" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        update_custom_field(actor=actor, field=field, data={"key": "budget"})
    assert "key" in exc.value.message_dict
    update_custom_field(actor=actor, field=field, data={"label": "Yearly budget", "required": True})


def test_admin_deletes_a_field_after_confirming(client, admin, system):
    field = create_custom_field(actor=system, entity="person", label="Budget", field_type="number")
    client.force_login(admin)
    assert (
        "Delete the field"
        in client.get(reverse("people:custom_field_delete", args=[field.pk])).text
    )
    response = client.post(reverse("people:custom_field_delete", args=[field.pk]))
    assert response["Location"] == reverse("people:custom_fields")
    assert not CustomField.objects.exists()
    assert audit_for(field)[0].event == "deleted"


def test_only_admins_define_custom_fields(manager, marketer, salesperson):
    for user in (manager, marketer, salesperson):
        with pytest.raises(PermissionDenied):
            create_custom_field(
                actor=Actor.for_user(user), entity="person", label="X", field_type="text"
            )
    field = CustomField.objects.create(entity="person", key="x", label="X", field_type="text")
    with pytest.raises(PermissionDenied):
        delete_custom_field(actor=Actor.for_user(manager), field=field)

"""Objects the admin pages act on: a team, a custom field, a token and a user to edit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tandem.accounts.actor import Actor
from tandem.accounts.models import ApiToken, Team, User
from tandem.accounts.services import create_team, create_token
from tandem.people.custom_fields import create_custom_field
from tandem.people.models import CustomField


@dataclass
class AdminObjects:
    team: Team
    field: CustomField
    token: ApiToken
    target: User


@pytest.fixture
def admin_objects(users_by_role, system: Actor) -> AdminObjects:
    target = users_by_role["other_salesperson"]
    target.email = "sol@example.com"
    target.save(update_fields=["email"])
    team = create_team(actor=system, name="North")
    field = create_custom_field(
        actor=system, entity="person", label="Budget", key="budget", field_type="number"
    )
    token, _raw = create_token(actor=system, user=target, name="Export", scope="read")
    return AdminObjects(team=team, field=field, token=token, target=target)

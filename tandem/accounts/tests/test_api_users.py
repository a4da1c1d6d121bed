"""GET /me says who a token acts as; GET /users lists who can own a row."""

from __future__ import annotations

import pytest

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_team, create_token, update_user


@pytest.fixture
def api(client, system, salesperson):
    _, raw = create_token(actor=system, user=salesperson, name="crm-sync", scope=TokenScope.READ)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def test_me_names_the_user_role_team_and_token(api, system, salesperson):
    team = create_team(actor=system, name="West")
    update_user(actor=system, user=salesperson, data={"team": team})
    body = api.get("/api/v1/me").json()
    assert body["username"] == "sam" and body["role"] == "salesperson"
    assert body["team"] == {"id": team.pk, "name": "West"}
    assert body["token"]["name"] == "crm-sync" and body["token"]["scope"] == "read"
    assert body["token"]["prefix"].startswith("tdm_")


def test_users_lists_active_users_for_picking_an_owner(api, system, users_by_role):
    update_user(actor=system, user=users_by_role["other_salesperson"], data={"is_active": False})
    names = [u["username"] for u in api.get("/api/v1/users").json()["items"]]
    assert names == ["ada", "max", "mia", "sam"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [({"q": "SA"}, ["sam"]), ({"q": "Manager"}, ["max"]), ({"role": "marketer"}, ["mia"])],
)
def test_users_filter_by_name_prefix_and_role(api, users_by_role, params, expected):
    names = [u["username"] for u in api.get("/api/v1/users", params).json()["items"]]
    assert names == expected


def test_an_unknown_role_filter_is_422(api, users_by_role):
    response = api.get("/api/v1/users", {"role": "wizard"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "role"]

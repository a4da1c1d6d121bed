"""Refused requests get a status and a body a client can act on, never a 500."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tandem.accounts.services import create_token
from tandem.people.models import Person


@pytest.fixture
def api(client, system, marketer):
    _, raw = create_token(actor=system, user=marketer, name="tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


@pytest.mark.parametrize(
    "body",
    ['{"last_name": "X",}', "{", "last_name=X", '{"last_name": "X"} trailing'],
)
def test_malformed_json_is_400_saying_so(api, body):
    response = api.post("/api/v1/people", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("The request body is not valid JSON")
    assert not Person.objects.exists()


def test_a_body_that_is_not_utf8_is_400(api):
    response = api.post("/api/v1/people", b"\xff\xfe{}", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


@pytest.mark.parametrize("body", ["[]", '"text"', "42", "null"])
def test_json_that_is_not_an_object_is_422(api, body):
    response = api.post("/api/v1/people", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload"]
    assert not Person.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_too_large_is_413(api):
    body = '{"last_name": "' + "x" * 2000 + '"}'
    response = api.post("/api/v1/people", body, content_type="application/json")
    assert response.status_code == 413
    assert "larger than 1024 bytes" in response.json()["detail"]


def test_service_errors_have_the_shape_of_ninjas_validation_errors(api):
    response = api.post(
        "/api/v1/people", {"last_name": "X", "email": "no"}, content_type="application/json"
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "payload", "email"]
    assert error["type"] == "value_error" and "not a valid email" in error["msg"]


def test_an_unknown_path_id_is_404_and_a_non_numeric_one_is_422(api):
    assert api.get("/api/v1/people/123456").status_code == 404
    assert api.get("/api/v1/companies/123456").status_code == 404
    response = api.get("/api/v1/people/abc")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "person_id"]

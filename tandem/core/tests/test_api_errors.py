"""Refused requests get a status and a body a client can act on, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

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


BIG = str(10**30)


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/people/{BIG}",
        f"/api/v1/people?company={BIG}",
        f"/api/v1/people?owner={BIG}",
        "/api/v1/people?owner=%C2%B2",  # a digit that is not 0-9
        f"/api/v1/people?offset={BIG}",
        f"/api/v1/people?limit={BIG}",
        f"/api/v1/companies/{BIG}/people",
        f"/api/v1/companies?owner={BIG}",
        "/api/v1/people?updated_since=9999-12-31T23:59:59",
        "/api/v1/people?q=%00",
        "/api/v1/people?email=a%00b",
        "/api/v1/people?q=%F4%8F%BF%BF",  # the last code point: no "next" to end a range
        "/api/v1/people?cursor=W1tdXQ",
    ],
)
def test_odd_query_values_never_cause_a_500(db, system, marketer, path):
    _, raw = create_token(actor=system, user=marketer, name="tests")
    client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"})
    response = client.get(path)
    assert response.status_code in (200, 404, 422), response.content
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_name": "x", "owner": int(BIG)}, "owner"),
        ({"last_name": "x", "company": int(BIG)}, "company"),
        ({"last_name": "x\x00y"}, "last_name"),
        ({"last_name": "\ud800"}, "last_name"),
        ({"last_name": "x", "custom_fields": {"k": "a\x00"}}, "custom_fields"),
        ({"last_name": "x", "country": None}, "country"),
    ],
)
def test_odd_body_values_are_422_naming_the_field(api, body, field):
    response = api.post("/api/v1/people", json.dumps(body), content_type="application/json")
    assert response.status_code == 422, response.content
    assert field in [str(part) for part in response.json()["detail"][0]["loc"]]
    assert not Person.objects.exists()

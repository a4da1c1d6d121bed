"""What Schemathesis found: the OpenAPI document and the server disagreed.

Each test holds one disagreement fixed, from both sides: the document states the
rule (so a client knows before sending), and the server answers as it says.
"""

from __future__ import annotations

import pytest

from tandem.accounts.services import create_token
from tandem.api import api as ninja_api

DOC = ninja_api.get_openapi_schema(path_prefix="/api/v1")
SCHEMAS = DOC["components"]["schemas"]


@pytest.fixture
def api(client, admin, system):
    _, raw = create_token(actor=system, user=admin, name="tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def post(api, path, body, **headers):
    return api.post(f"/api/v1{path}", body, content_type="application/json", **headers)


def fields(response) -> set[str]:
    assert response.status_code == 422, response.content
    return {str(e["loc"][-1]) for e in response.json()["detail"]}


def operation(method: str, path: str) -> dict:
    return DOC["paths"]["/api/v1" + path][method]


def test_every_operation_documents_its_refusals_in_the_one_error_shape():
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            statuses = set(op["responses"])
            assert "401" in statuses, (method, path)
            if "{" in path:
                assert "404" in statuses, (method, path)
            if "requestBody" in op:
                assert {"400", "413", "422"} <= statuses, (method, path)
            if method != "get":
                assert "403" in statuses, (method, path)
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == error
    assert "409" in operation("post", "/people")["responses"]
    assert "409" in operation("post", "/people/{person_id}/emails")["responses"]


def test_an_added_email_cannot_be_empty_by_the_schema_or_the_server(api, system):
    email = SCHEMAS["EmailIn"]["properties"]["email"]
    assert email["format"] == "email" and email["minLength"] >= 1
    person = post(api, "/people", {"first_name": "Ada"}).json()
    assert fields(post(api, f"/people/{person['id']}/emails", {"email": ""})) == {"email"}


def test_a_person_needs_a_name_or_an_email_by_the_schema_too(api):
    assert "anyOf" in SCHEMAS["PersonIn"]
    assert fields(post(api, "/people", {"first_name": " ", "email": ""})) == {"last_name"}
    assert post(api, "/people", {"last_name": "Lovelace"}).status_code == 201


def test_text_longer_than_its_column_is_refused_as_the_schema_says(api):
    assert SCHEMAS["PersonIn"]["properties"]["first_name"]["maxLength"] == 100
    assert SCHEMAS["CompanyIn"]["properties"]["name"]["maxLength"] == 200
    assert fields(post(api, "/people", {"first_name": "x" * 101})) == {"first_name"}
    assert fields(post(api, "/companies", {"name": "x" * 201})) == {"name"}


def test_a_company_name_of_spaces_is_refused_as_the_schema_says(api):
    assert SCHEMAS["CompanyIn"]["properties"]["name"]["pattern"] == r"\S"
    assert fields(post(api, "/companies", {"name": "   "})) == {"name"}


def test_countries_are_the_codes_the_schema_lists(api):
    codes = SCHEMAS["PersonIn"]["properties"]["country"]["enum"]
    assert "DE" in codes and "de" in codes and "" in codes and "XX" not in codes
    assert fields(post(api, "/people", {"first_name": "Ada", "country": "XX"})) == {"country"}
    created = post(api, "/people", {"first_name": "Ada", "country": "de"})
    assert created.status_code == 201 and created.json()["country"] == "DE"


def test_the_stage_is_not_a_patch_field_in_the_schema_either(api):
    stage = SCHEMAS["PersonPatch"]["properties"]["stage"]
    assert stage["not"] == {}
    person = post(api, "/people", {"first_name": "Ada"}).json()
    response = api.patch(
        f"/api/v1/people/{person['id']}", {"stage": ""}, content_type="application/json"
    )
    assert fields(response) == {"stage"}


@pytest.mark.parametrize("path", ["/people", "/companies"])
def test_updated_since_is_a_time_not_a_unix_timestamp(api, path):
    """`updated_since=0.5` was read as 1970-01-01T00:00:00.5 and answered 200."""
    assert fields(api.get(f"/api/v1{path}?updated_since=0.5")) == {"updated_since"}
    assert fields(api.get(f"/api/v1{path}?updated_since=1700000000")) == {"updated_since"}
    assert api.get(f"/api/v1{path}?updated_since=2026-01-31T09:00:00Z").status_code == 200
    assert api.get(f"/api/v1{path}?updated_since=2026-01-31T09:00:00").status_code == 200


def test_an_empty_idempotency_key_is_refused_as_the_schema_says(api):
    header = next(
        p for p in operation("post", "/capture")["parameters"] if p["name"] == "Idempotency-Key"
    )
    assert header["schema"]["anyOf"][0]["pattern"]
    response = post(api, "/capture", {"email": "ada@example.com"}, HTTP_IDEMPOTENCY_KEY="")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


def test_a_query_parameter_sent_twice_is_refused_not_half_read(api):
    """`?q=x&q=y` was answered as if only `q=y` was asked (Schemathesis: schema-violating
    request accepted)."""
    response = api.get("/api/v1/users?q=ada&q=bob")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]
    assert api.get("/api/v1/people?stage=lead&stage=customer").status_code == 422
    assert api.get("/api/v1/users?q=ada").status_code == 200


@pytest.mark.parametrize("path", ["/people", "/companies"])
@pytest.mark.parametrize("offset", ["%2B22:27", "-18:15"])
def test_a_time_with_a_large_offset_is_read_not_a_server_error(api, path, offset):
    """ISO 8601 allows offsets to 23:59, PostgreSQL to 15:59: was a 500 there."""
    response = api.get(f"/api/v1{path}?updated_since=2026-07-01T18:58:19{offset}")
    assert response.status_code == 200, response.content


def test_a_logged_activity_at_a_large_offset_is_stored_in_utc(api):
    person = post(api, "/people", {"first_name": "Ada"}).json()
    response = post(
        api,
        f"/people/{person['id']}/activities",
        {"kind": "note", "body": "Met", "occurred_at": "2026-07-01T18:00:00+20:00"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["occurred_at"].startswith("2026-06-30T22:00:00")
    timeline = api.get(f"/api/v1/people/{person['id']}/timeline?before=2026-07-02T00:00:00-18:15")
    assert timeline.status_code == 200

"""Over a real socket: a client with a bearer token creates a person and reads them back."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tandem.accounts.services import create_token


def call(url: str, raw_token: str, method: str = "GET", body: dict | None = None):
    request = urllib.request.Request(  # noqa: S310 (the test server's own http URL)
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {raw_token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.django_db(transaction=True)
def test_create_and_read_back_a_person_over_http(live_server, system, salesperson):
    _, raw = create_token(actor=system, user=salesperson, name="live")
    base = live_server.url + "/api/v1"

    status, created = call(
        base + "/people",
        raw,
        "POST",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "Ada@Example.com",
            "company": "Acme",
        },
    )
    assert status == 201, created
    assert created["url"] == f"{live_server.url}/people/{created['id']}/"

    status, fetched = call(f"{base}/people/{created['id']}", raw)
    assert status == 200
    assert fetched["email"] == "ada@example.com" and fetched["company"]["name"] == "Acme"
    assert fetched["stage"] == "lead"

    status, found = call(base + "/people?email=ADA%40example.com", raw)
    assert status == 200 and [p["id"] for p in found["items"]] == [created["id"]]

    status, refused = call(base + "/people", "tdm_wrong", "GET")
    assert status == 401 and refused["detail"]

"""Over a real socket: a client retries a capture with its Idempotency-Key and it lands once."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tandem.accounts.services import create_token
from tandem.campaigns.models import Touchpoint
from tandem.people.models import Person


def send(url: str, token: str, body: dict, key: str | None = None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(  # noqa: S310 (the test server's own http URL)
        url, method="POST", data=json.dumps(body).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


@pytest.mark.django_db(transaction=True)
def test_a_retried_capture_over_http_lands_once(live_server, system, salesperson):
    _, raw = create_token(actor=system, user=salesperson, name="live")
    url = live_server.url + "/api/v1/capture"
    lead = {
        "first_name": "Kim",
        "email": "kim@example.com",
        "touchpoint": {"kind": "event_visit", "utm_source": "meetup"},
    }

    status, _, first = send(url, raw, lead, key="9c1f0e2a-retry")
    assert status == 201, first
    assert first["person"]["url"] == f"{live_server.url}/people/{first['person']['id']}/"

    status, headers, again = send(url, raw, lead, key="9c1f0e2a-retry")
    assert status == 201 and again == first
    assert headers.get("Idempotent-Replayed") == "true"

    status, _, refused = send(url, raw, {**lead, "first_name": "Kimberly"}, key="9c1f0e2a-retry")
    assert status == 422
    assert refused["detail"][0]["loc"] == ["header", "Idempotency-Key"]

    assert Person.objects.count() == 1 and Touchpoint.objects.count() == 1

    status, _, denied = send(url, "tdm_wrong", lead)
    assert status == 401 and denied["detail"]

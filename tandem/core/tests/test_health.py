"""Load balancers ask /healthz (is the process up) and /readyz (can it serve)."""

import pytest
from django.core.management import call_command
from django.db import connection


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_answers_ok_when_database_and_migrations_are_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content


@pytest.mark.django_db(transaction=True)
def test_readyz_names_unapplied_migrations(client):
    call_command("migrate", "people", "0001", verbosity=0)
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert "people.0002_c_collation_for_search_keys" in response.json()["pending"]
    finally:
        call_command("migrate", verbosity=0)


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise RuntimeError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "database" in response.json()["reason"]

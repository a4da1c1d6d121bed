"""The model page, its switch and the scoring API: who may do what, and what people see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.core.models import AuditEvent
from tandem.people import services as people
from tandem.scoring.models import ModelVersion, PersonPrediction
from tandem.scoring.predictive import queries
from tandem.scoring.predictive.services import (
    activate_model,
    deactivate_model,
    restore_previous_model,
    train_model,
)
from tandem.scoring.tests.history import make_history

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
ROLES = ["admin", "manager", "marketer", "salesperson", "anonymous"]
VIEWERS = {"admin", "manager", "marketer"}


def version_row(number: int, **extra) -> ModelVersion:
    """A stored version with figures (no fitted bytes): enough for pages and switches."""
    figures = {"auc": 0.7, "top_decile_lift": 2.0, "calibration": []}
    return ModelVersion.objects.create(
        number=number,
        trained_at=timezone.now(),
        trained_by="test",
        method="logistic_regression",
        auc=0.7,
        top_decile_lift=2.0,
        positives=60,
        negatives=80,
        features=["country"],
        evaluation={"model": figures, "rules": figures, "family_auc": {}, "split": "time"},
        spec={},
        model_bytes=b"",
        sklearn_version="0",
        **extra,
    )


def login(client, users_by_role, role):
    if role != "anonymous":
        client.force_login(users_by_role[role])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/scoring/model/", "/scoring/model/v1/"])
def test_marketers_managers_and_admins_see_the_model_page(client, users_by_role, role, path):
    version_row(1)
    login(client, users_by_role, role)
    response = client.get(path)
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response["Location"]
    else:
        assert response.status_code == (200 if role in VIEWERS else 403)
    if response.status_code == 200:
        assert b"Model v1" in response.content
        assert (b"Let v1 feed the MQL decision" in response.content) == (role == "admin")


SWITCHES = {
    "activate": ("/scoring/model/v2/activate/", "model_activated"),
    "deactivate": ("/scoring/model/deactivate/", "model_deactivated"),
    "restore": ("/scoring/model/restore/", "model_restored"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("switch", list(SWITCHES))
def test_only_an_admin_switches_a_model_and_each_switch_is_audited(
    client, users_by_role, role, switch
):
    old = version_row(1, deactivated_at=timezone.now())
    version_row(2)
    if switch != "activate":
        ModelVersion.objects.filter(number=3).delete()
        version_row(3, is_active=True, activated_at=timezone.now())
    login(client, users_by_role, role)
    before = {(v.number, v.is_active) for v in ModelVersion.objects.all()}
    path, event = SWITCHES[switch]
    response = client.post(path)
    after = {(v.number, v.is_active) for v in ModelVersion.objects.all()}
    if role != "admin":
        assert (
            response.status_code in (302, 403)
            if role == "anonymous"
            else response.status_code == 403
        )
        assert after == before
        assert not AuditEvent.objects.filter(event=event).exists()
        return
    assert response.status_code == 302
    assert AuditEvent.objects.filter(event=event, actor=users_by_role["admin"]).exists()
    active = ModelVersion.objects.filter(is_active=True).first()
    expected = {"activate": 2, "deactivate": None, "restore": old.number}[switch]
    assert (active.number if active else None) == expected


def test_the_switch_is_refused_with_a_message_when_there_is_nothing_to_switch(client, admin):
    client.force_login(admin)
    response = client.post("/scoring/model/deactivate/", follow=True)
    assert b"No model is active." in response.content


def test_get_with_the_switch_urls_is_refused(client, admin):
    version_row(1)
    client.force_login(admin)
    assert client.get("/scoring/model/v1/activate/").status_code == 405


def bearer(system, user, scope=TokenScope.READ_WRITE) -> dict[str, str]:
    _, raw = create_token(actor=system, user=user, name="tests", scope=scope)
    return {"Authorization": f"Bearer {raw}"}


API_CALLS = {
    "list": ("/api/v1/scoring/models", VIEWERS),
    "get": ("/api/v1/scoring/models/1", VIEWERS),
    "prediction": ("/api/v1/scoring/people/{pid}/prediction", {*VIEWERS, "salesperson"}),
}


@pytest.mark.parametrize("role", [*ROLES, "read_only_token"])
@pytest.mark.parametrize("call", list(API_CALLS))
def test_the_scoring_api_reads_by_role(client, system, users_by_role, role, call):
    version = version_row(1)
    ada = people.create_person(actor=system, data={"first_name": "Ada", "last_name": "L"})
    PersonPrediction.objects.create(
        version=version, person=ada, likelihood=0.42, factors=[], scored_at=timezone.now()
    )
    path, allowed = API_CALLS[call]
    headers = {}
    if role != "anonymous":
        user = users_by_role["admin" if role == "read_only_token" else role]
        scope = TokenScope.READ if role == "read_only_token" else TokenScope.READ_WRITE
        headers = bearer(system, user, scope)
    response = client.get(path.format(pid=ada.pk), headers=headers)
    if role == "anonymous":
        assert response.status_code == 401
    elif role == "read_only_token" or role in allowed:
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 403
        assert response.json()["detail"]


def test_unknown_versions_and_people_without_a_prediction_are_404(client, system, admin):
    headers = bearer(system, admin)
    ada = people.create_person(actor=system, data={"first_name": "Ada", "last_name": "L"})
    assert client.get("/api/v1/scoring/models/7", headers=headers).status_code == 404
    assert (
        client.get(f"/api/v1/scoring/people/{ada.pk}/prediction", headers=headers).status_code
        == 404
    )


def test_a_trained_model_is_advisory_until_an_admin_switches_it_in(
    client, admin, django_capture_on_commit_callbacks
):
    """J1 beside the rules: the person page shows the likelihood and why, and says whether
    it counts; the MQL decision reads it only once an admin activated the version."""
    make_history(people=700, now=NOW)
    first = train_model(actor=Actor.system("test"), now=NOW)
    assert not queries.model_feeds_mql()
    assert queries.predicted_likelihoods([1, 2, 3]) == {}
    with django_capture_on_commit_callbacks(execute=True):
        activate_model(actor=Actor.for_user(admin), version=first)  # scores people on commit
    assert queries.model_feeds_mql()
    prediction = PersonPrediction.objects.filter(version=first).order_by("-likelihood").first()
    client.force_login(admin)
    page = client.get(f"/people/{prediction.person_id}/").content.decode()
    assert "Predicted likelihood" in page
    assert f"{round(prediction.likelihood * 100)}%" in page
    assert "feeding the MQL decision" in page
    assert prediction.factors[0]["feature"] in page

    second = train_model(actor=Actor.system("test"), now=NOW)  # never switched in silently
    assert ModelVersion.objects.get(is_active=True) == first
    with django_capture_on_commit_callbacks(execute=True):
        activate_model(actor=Actor.for_user(admin), version=second)
    assert queries.active_version() == second
    restore_previous_model(actor=Actor.for_user(admin))
    assert queries.active_version() == first
    deactivate_model(actor=Actor.for_user(admin))
    assert not queries.model_feeds_mql()
    events = list(
        AuditEvent.objects.filter(event__startswith="model_")
        .order_by("id")
        .values_list("event", flat=True)
    )
    assert events == [
        "model_trained", "model_activated", "model_trained", "model_activated",
        "model_restored", "model_deactivated",
    ]  # fmt: skip

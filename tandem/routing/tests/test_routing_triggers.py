"""MQL triggers: the score crossing the threshold, a "contact me" on a web form, the admin-
approved model; who moves (leads, subscribers, recycled) and who never does."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from tandem.capture import inbox, webforms
from tandem.capture.demo import ensure_demo_guide_form
from tandem.core.models import AuditEvent
from tandem.people import services as people
from tandem.people.models import Person, StageChange
from tandem.routing import mql, services_rules
from tandem.routing.models import Handoff
from tandem.routing.tests.factories import SYSTEM, person, rule, seller
from tandem.scoring import services as scoring
from tandem.scoring.engine import rescore_people
from tandem.scoring.tests.factories import active_rules, fit

pytestmark = pytest.mark.django_db


@pytest.fixture
def vp_rules():
    """A VP scores 60: at the MQL threshold of 50."""
    return active_rules([fit("title", "contains", "VP", 60)], threshold=50)


@pytest.fixture
def ann():
    user = seller("ann")
    rule("Everyone", "fallback", user=user.pk)
    return user


def reload(p: Person) -> Person:
    return Person.objects.get(pk=p.pk)


def test_score_crossing_moves_to_mql_with_the_reason_and_routes_once(
    vp_rules, ann, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        p = person("Vera", title="VP Sales")
    p = reload(p)
    assert p.stage == "mql" and p.owner == ann
    change = StageChange.objects.get(person=p, to_stage="mql")
    assert change.from_stage == "lead"
    assert change.reason == f"Score 60 reached the MQL threshold 50 (rule set v{vp_rules.version})"
    assert change.actor_label == "routing"
    handoff = Handoff.objects.get(person=p)
    assert handoff.reason == change.reason and handoff.routed_by == "Everyone"
    assert AuditEvent.objects.filter(event="stage_changed", target_id=p.pk).count() == 1
    assert AuditEvent.objects.filter(event="routed", target_id=p.pk).count() == 1

    # Falling below and crossing again while still an MQL: no second routing.
    with django_capture_on_commit_callbacks(execute=True):
        people.update_person(actor=SYSTEM, person=p, data={"title": "Analyst"})
    with django_capture_on_commit_callbacks(execute=True):
        people.update_person(actor=SYSTEM, person=p, data={"title": "VP Ops"})
    assert Handoff.objects.filter(person=p).count() == 1
    assert StageChange.objects.filter(person=p, to_stage="mql").count() == 1


@pytest.mark.parametrize("stage", ["disqualified", "customer", "opportunity", "sal"])
def test_people_past_or_out_of_the_funnel_are_never_pulled_back(
    vp_rules, ann, stage, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        p = person("Dee", title="VP", stage=stage)
    assert reload(p).stage == stage
    assert not Handoff.objects.filter(person=p).exists()


def test_subscribers_and_recycled_people_who_cross_again_move(
    vp_rules, ann, django_capture_on_commit_callbacks
):
    sub = person("Sub", stage="subscriber")
    back = person("Back", stage="recycled")
    with django_capture_on_commit_callbacks(execute=True):
        for p in (sub, back):
            people.update_person(actor=SYSTEM, person=p, data={"title": "VP"})
    assert reload(sub).stage == reload(back).stage == "mql"
    assert Handoff.objects.filter(person__in=[sub, back], owner=ann).count() == 2


def test_a_batch_of_crossings_is_one_set_based_move(vp_rules, ann, django_assert_max_num_queries):
    ids = [person(f"P{i}").pk for i in range(30)]
    Person.objects.filter(pk__in=ids).update(title="VP")
    from tandem.scoring.extensions import Crossing

    crossing = Crossing(dict.fromkeys(ids, 60), 50, vp_rules.version)
    with django_assert_max_num_queries(40):
        mql.score_crossed(crossing)
    assert Person.objects.filter(pk__in=ids, stage="mql", owner=ann).count() == 30


def test_a_rescore_that_crosses_routes(vp_rules, ann, django_capture_on_commit_callbacks):
    p = person("Quiet")
    Person.objects.filter(pk=p.pk).update(title="VP")  # no touch: the rescore finds it
    with django_capture_on_commit_callbacks(execute=True):
        rescore_people([p.pk])
    assert reload(p).stage == "mql"


def test_an_override_of_not_a_lead_keeps_a_person_out(
    vp_rules, ann, django_capture_on_commit_callbacks
):
    p = person("Kept")
    scoring.override_score(actor=SYSTEM, person=p, kind="not_a_lead", reason="Student")
    with django_capture_on_commit_callbacks(execute=True):
        people.update_person(actor=SYSTEM, person=p, data={"title": "VP"})
    assert reload(p).stage == "lead"


# --- "contact me" --------------------------------------------------------------------------


def _post(form, email: str, **extra: str):
    data = {
        "first_name": "Cora",
        "last_name": "Contact",
        "email": email,
        webforms.TIMESTAMP_FIELD: webforms.fill_token(form.key, shown_at=time.time() - 60),
        **extra,
    }
    return Client().post(f"/f/{form.key}", data, HTTP_ORIGIN="http://shop.example.net")


def test_contact_me_on_a_web_form_moves_to_mql_and_routes(ann, django_capture_on_commit_callbacks):
    form = ensure_demo_guide_form(SYSTEM)
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(form, "cora@example.com", contact_me="1").status_code == 303
        assert _post(form, "plain@example.com").status_code == 303
    cora = Person.objects.get(email="cora@example.com")
    assert cora.stage == "mql" and cora.owner == ann
    change = StageChange.objects.get(person=cora, to_stage="mql")
    assert change.reason.startswith(f"Asked to be contacted on web form {form.key}")
    assert Person.objects.get(email="plain@example.com").stage == "lead"
    assert cora.touchpoints.get().detail["contact_request"] is True
    assert "contact_me" not in cora.touchpoints.get().detail.get("extra", {})


def test_contact_me_through_the_inbox_batch_routes_too(
    ann, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    form = ensure_demo_guide_form(SYSTEM)
    for i in range(3):
        assert _post(form, f"c{i}@example.com", contact_me="on" if i else "").status_code == 303
    with django_capture_on_commit_callbacks(execute=True):
        result = inbox.drain()
    assert result.captured == 3
    stages = dict(Person.objects.values_list("email", "stage"))
    assert stages == {"c0@example.com": "lead", "c1@example.com": "mql", "c2@example.com": "mql"}


def test_an_answered_contact_request_is_not_replayed_after_a_send_back(
    ann, django_capture_on_commit_callbacks
):
    form = ensure_demo_guide_form(SYSTEM)
    with django_capture_on_commit_callbacks(execute=True):
        _post(form, "cora@example.com", contact_me="1")
    cora = Person.objects.get(email="cora@example.com")
    people.change_stage(actor=SYSTEM, person=cora, to_stage="recycled", reason="Not now")
    with django_capture_on_commit_callbacks(execute=True):
        _post(form, "cora@example.com")  # a later fill without the request
    assert reload(cora).stage == "recycled"
    with django_capture_on_commit_callbacks(execute=True):
        _post(form, "cora@example.com", contact_me="yes")  # asks again
    assert reload(cora).stage == "mql"
    assert Handoff.objects.filter(person=cora).count() == 2


# --- the admin-approved model ----------------------------------------------------------------


def test_the_active_models_likelihood_moves_at_the_routing_threshold(ann):
    import datetime as dt

    from tandem.scoring.models import ModelVersion, PersonPrediction

    hot, cold = person("Hot"), person("Cold")
    version = ModelVersion.objects.create(
        number=1,
        trained_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        trained_by="test",
        method="logistic_regression",
        auc=0.8,
        top_decile_lift=2,
        positives=10,
        negatives=10,
        model_bytes=b"",
        sklearn_version="1",
    )
    for p, likelihood in ((hot, 0.7), (cold, 0.2)):
        PersonPrediction.objects.create(
            version=version, person=p, likelihood=likelihood, scored_at=version.trained_at
        )
    services_rules.set_model_threshold(actor=SYSTEM, likelihood=0.6)
    assert mql.model_crossings() is None  # not approved: the model does not decide
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    done = mql.model_crossings()
    assert done is not None and list(done.moved) == [hot.pk]
    assert reload(hot).stage == "mql" and reload(cold).stage == "lead"
    assert "Predicted likelihood 70%" in StageChange.objects.get(person=hot, to_stage="mql").reason
    assert mql.model_crossings() is None  # already an MQL: nothing more

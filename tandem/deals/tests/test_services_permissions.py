"""Who may do what with deals, pipelines and reasons, checked in the services themselves
(the pages and the API only call them): a salesperson works on their own deals, managers
and admins on all, marketers read; pipelines and reason lists are sales management's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tandem.accounts.actor import Actor
from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.deals import pipelines, services
from tandem.deals.models import Deal, DealStatus
from tandem.people import services as people

pytestmark = pytest.mark.django_db


def _stage(n: int) -> int:
    return list(pipelines.default_pipeline().stages.order_by("position"))[n].pk


def _lost() -> int:
    return pipelines.active_reasons("lost")[0].pk


# Each write on an existing deal, as (name, call(actor, deal, person_id)).
WRITES: list[tuple[str, Callable[[Actor, Deal, int], Any]]] = [
    ("update", lambda a, d, p: services.update_deal(actor=a, deal=d, data={"name": "New"})),
    ("move", lambda a, d, p: services.move_deal(actor=a, deal=d, stage_id=_stage(1))),
    (
        "close",
        lambda a, d, p: services.close_deal(actor=a, deal=d, status="lost", reason_id=_lost()),
    ),
    (
        "add_contact",
        lambda a, d, p: services.add_contact(actor=a, deal=d, person_id=p, role="user"),
    ),
    ("delete", lambda a, d, p: services.delete_deal(actor=a, deal=d)),
]


@pytest.fixture
def ann(system):
    return people.create_person(actor=system, data={"first_name": "Ann"}, stage="customer")


@pytest.mark.parametrize(("name", "write"), WRITES, ids=[w[0] for w in WRITES])
def test_a_salesperson_changes_their_own_deal(salesperson, ann, name, write):
    sam = Actor.for_user(salesperson)
    deal = services.create_deal(actor=sam, data={"name": "Mine"})
    write(sam, deal, ann.pk)  # no PermissionDenied


@pytest.mark.parametrize(("name", "write"), WRITES, ids=[w[0] for w in WRITES])
def test_a_salesperson_does_not_change_a_colleagues_deal(
    salesperson, other_salesperson, ann, name, write
):
    theirs = services.create_deal(actor=Actor.for_user(other_salesperson), data={"name": "Sol's"})
    with pytest.raises(PermissionDenied):
        write(Actor.for_user(salesperson), theirs, ann.pk)
    assert Deal.objects.get(pk=theirs.pk).name == "Sol's"


@pytest.mark.parametrize(("name", "write"), WRITES, ids=[w[0] for w in WRITES])
def test_a_marketer_changes_no_deal(marketer, salesperson, ann, name, write):
    deal = services.create_deal(actor=Actor.for_user(salesperson), data={"name": "Sam's"})
    with pytest.raises(PermissionDenied):
        write(Actor.for_user(marketer), deal, ann.pk)


@pytest.mark.parametrize("role", ["manager", "admin"])
@pytest.mark.parametrize(("name", "write"), WRITES, ids=[w[0] for w in WRITES])
def test_managers_and_admins_change_anyones_deal(
    users_by_role, salesperson, ann, role, name, write
):
    deal = services.create_deal(actor=Actor.for_user(salesperson), data={"name": "Sam's"})
    write(Actor.for_user(users_by_role[role]), deal, ann.pk)


def test_reopening_and_removing_contacts_follow_the_same_rule(salesperson, other_salesperson, ann):
    sol = Actor.for_user(other_salesperson)
    theirs = services.create_deal(
        actor=sol, data={"name": "Sol's", "contacts": [{"person": ann.pk, "role": "user"}]}
    )
    services.close_deal(actor=sol, deal=theirs, status="won", reason_id=None)
    sam = Actor.for_user(salesperson)
    with pytest.raises(PermissionDenied):
        services.reopen_deal(actor=sam, deal=theirs)
    with pytest.raises(PermissionDenied):
        services.remove_contact(actor=sam, deal=theirs, person_id=ann.pk)
    assert services.reopen_deal(actor=sol, deal=theirs).status == DealStatus.OPEN


def test_marketers_open_no_deals_and_salespeople_only_their_own(
    marketer, salesperson, other_salesperson, manager
):
    with pytest.raises(PermissionDenied):
        services.create_deal(actor=Actor.for_user(marketer), data={"name": "X"})
    sam = Actor.for_user(salesperson)
    with pytest.raises(ValidationError) as err:
        services.create_deal(actor=sam, data={"name": "X", "owner": other_salesperson.pk})
    assert "owner" in err.value.message_dict
    with pytest.raises(ValidationError):
        services.create_deal(actor=sam, data={"name": "X", "owner": None})
    mine = services.create_deal(actor=sam, data={"name": "Mine"})
    with pytest.raises(ValidationError) as err:
        services.update_deal(actor=sam, deal=mine, data={"owner": other_salesperson.pk})
    assert "owner" in err.value.message_dict
    # A manager assigns deals to salespeople (not to a marketer: they cannot work them).
    max_ = Actor.for_user(manager)
    given = services.create_deal(
        actor=max_, data={"name": "For Sol", "owner": other_salesperson.pk}
    )
    assert given.owner == other_salesperson
    with pytest.raises(ValidationError) as err:
        services.update_deal(actor=max_, deal=given, data={"owner": marketer.pk})
    assert "owner" in err.value.message_dict


def test_a_read_only_token_writes_nothing(system, manager):
    token, _ = create_token(actor=system, user=manager, name="ro", scope=TokenScope.READ)
    with pytest.raises(PermissionDenied):
        services.create_deal(actor=Actor.for_token(token), data={"name": "X"})


SETUP: list[tuple[str, Callable[[Actor], Any]]] = [
    ("create_pipeline", lambda a: pipelines.create_pipeline(actor=a, data={"name": "New"})),
    (
        "update_pipeline",
        lambda a: pipelines.update_pipeline(
            actor=a, pipeline=pipelines.default_pipeline(), data={"name": "Renamed"}
        ),
    ),
    (
        "add_stage",
        lambda a: pipelines.add_stage(
            actor=a, pipeline=pipelines.default_pipeline(), data={"name": "Contract"}
        ),
    ),
    (
        "update_stage",
        lambda a: pipelines.update_stage(
            actor=a,
            stage=pipelines.default_pipeline().stages.first(),
            data={"probability": 15},
        ),
    ),
    (
        "move_stage",
        lambda a: pipelines.move_stage(
            actor=a, stage=pipelines.default_pipeline().stages.last(), direction="up"
        ),
    ),
    (
        "create_reason",
        lambda a: pipelines.create_reason(actor=a, data={"kind": "won", "name": "Q"}),
    ),
    (
        "update_reason",
        lambda a: pipelines.update_reason(
            actor=a, reason=pipelines.active_reasons("won")[0], data={"name": "Fit"}
        ),
    ),
    (
        "move_reason",
        lambda a: pipelines.move_reason(
            actor=a, reason=pipelines.active_reasons("won")[0], direction="down"
        ),
    ),
]


@pytest.mark.parametrize(("name", "call"), SETUP, ids=[s[0] for s in SETUP])
@pytest.mark.parametrize("role", ["salesperson", "marketer"])
def test_only_sales_management_sets_up_pipelines_and_reasons(users_by_role, role, name, call):
    pipelines.ensure_defaults()
    with pytest.raises(PermissionDenied):
        call(Actor.for_user(users_by_role[role]))


@pytest.mark.parametrize(("name", "call"), SETUP, ids=[s[0] for s in SETUP])
@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_set_up_pipelines_and_reasons(users_by_role, role, name, call):
    pipelines.ensure_defaults()
    call(Actor.for_user(users_by_role[role]))


def test_pipeline_rules_name_the_field(manager):
    max_ = Actor.for_user(manager)
    sales = pipelines.ensure_defaults()
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: pipelines.create_pipeline(actor=max_, data={"name": " "}), "name"),
        (lambda: pipelines.create_pipeline(actor=max_, data={"name": "SALES"}), "name"),
        (
            lambda: pipelines.create_pipeline(
                actor=max_, data={"name": "R", "stages": [{"name": "A"}, {"name": "a"}]}
            ),
            "stages.1.name",
        ),
        (
            lambda: pipelines.create_pipeline(
                actor=max_, data={"name": "R", "stages": [{"name": "A", "probability": 101}]}
            ),
            "stages.0.probability",
        ),
        (lambda: pipelines.create_pipeline(actor=max_, data={"name": "R", "stages": []}), "stages"),
        (
            lambda: pipelines.update_pipeline(
                actor=max_, pipeline=sales, data={"is_active": False}
            ),
            "is_active",
        ),
        (
            lambda: pipelines.update_pipeline(
                actor=max_, pipeline=sales, data={"is_default": False}
            ),
            "is_default",
        ),
        (
            lambda: pipelines.add_stage(actor=max_, pipeline=sales, data={"name": "proposal"}),
            "name",
        ),
        (
            lambda: pipelines.update_stage(
                actor=max_, stage=sales.stages.first(), data={"probability": -1}
            ),
            "probability",
        ),
        (lambda: pipelines.reorder_stages(actor=max_, pipeline=sales, ids=[1]), "ids"),
        (lambda: pipelines.create_reason(actor=max_, data={"kind": "tie", "name": "X"}), "kind"),
        (
            lambda: pipelines.create_reason(actor=max_, data={"kind": "lost", "name": "price"}),
            "name",
        ),
    ]
    for call, field in cases:
        with pytest.raises(ValidationError) as err:
            call()
        assert field in err.value.message_dict, (field, err.value.message_dict)


def test_the_last_active_stage_stays(manager):
    max_ = Actor.for_user(manager)
    solo = pipelines.create_pipeline(
        actor=max_, data={"name": "Solo", "stages": [{"name": "Only", "probability": 50}]}
    )
    with pytest.raises(ValidationError) as err:
        pipelines.update_stage(actor=max_, stage=solo.stages.get(), data={"is_active": False})
    assert "is_active" in err.value.message_dict


def test_a_pipeline_with_open_deals_is_not_archived(manager):
    max_ = Actor.for_user(manager)
    pipelines.ensure_defaults()
    other = pipelines.create_pipeline(actor=max_, data={"name": "Other"})
    services.create_deal(actor=max_, data={"name": "D", "pipeline": other.pk})
    with pytest.raises(ValidationError) as err:
        pipelines.update_pipeline(actor=max_, pipeline=other, data={"is_active": False})
    assert "is_active" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.create_deal(actor=max_, data={"name": "D", "pipeline": 987654})
    assert "pipeline" in err.value.message_dict

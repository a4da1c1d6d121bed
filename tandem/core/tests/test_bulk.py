"""`core.bulk`: instances built for the bulk paths are the instances Django builds, and
`insert_new` writes them as `save()` would."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from tandem.core.bulk import build, insert_new
from tandem.core.models import AuditEvent, RateCounter

pytestmark = pytest.mark.django_db


def fields_of(obj: object) -> dict:
    return {k: v for k, v in vars(obj).items() if k != "_state"}


@pytest.fixture
def user():
    return get_user_model().objects.create_user(username="builder", password="x" * 12)


def test_a_built_instance_is_the_one_django_builds(user):
    values = dict(actor=user, actor_label="Builder", event="created", target_type="t", target_id=4)
    built, made = build(AuditEvent, **values), AuditEvent(**values)
    assert fields_of(built) == fields_of(made)
    assert built.actor_id == user.pk
    assert built._state.adding and built._state.db is None
    assert built.pk is None


def test_a_related_instance_is_kept_and_read_without_a_query(user):
    built = build(AuditEvent, actor=user, actor_label="B", event="e", target_type="t", target_id=1)
    with CaptureQueriesContext(connection) as queries:
        assert built.actor is user
    assert len(queries) == 0


def test_fields_given_by_attname_or_none(user):
    by_id = build(
        AuditEvent, actor_id=user.pk, actor_label="B", event="e", target_type="t", target_id=1
    )
    assert by_id.actor_id == user.pk and by_id.actor == user
    nobody = build(AuditEvent, actor=None, actor_label="B", event="e", target_type="t", target_id=1)
    assert nobody.actor_id is None and nobody.actor is None


def test_a_callable_default_is_called_for_each_instance_and_a_given_value_kept():
    one, two = (build(AuditEvent, event="e", target_type="t", target_id=i) for i in (1, 2))
    assert one.changes == {} and two.changes == {}
    one.changes["x"] = [1, 2]
    assert two.changes == {}  # not one dict shared
    given = {"name": ["a", "b"]}
    assert (
        build(AuditEvent, event="e", target_type="t", target_id=3, changes=given).changes is given
    )


def test_defaults_of_fields_not_given():
    counter = build(RateCounter, key="k")
    assert counter.hits == 0 and counter.key == "k"


def test_the_wrong_related_type_and_unknown_names_fail_as_in_django():
    with pytest.raises(ValueError, match="actor"):
        build(AuditEvent, actor="someone", event="e", target_type="t", target_id=1)
    with pytest.raises(TypeError, match="colour"):
        build(AuditEvent, colour="red")


def test_receivers_of_post_init_are_sent_as_django_sends_them():
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=RateCounter)
    try:
        counter = build(RateCounter, key="k")
    finally:
        post_init.disconnect(receiver, sender=RateCounter)
    assert seen == [counter]


def test_built_instances_are_inserted_as_saved(user):
    rows = [
        build(AuditEvent, actor=user, actor_label="B", event="e", target_type="t", target_id=i)
        for i in range(3)
    ]
    with transaction.atomic():
        insert_new(rows)
    assert all(row.pk and not row._state.adding and row.at for row in rows)
    stored = AuditEvent.objects.filter(pk__in=[row.pk for row in rows]).order_by("target_id")
    assert [(e.actor_id, e.target_id, e.changes) for e in stored] == [
        (user.pk, i, {}) for i in range(3)
    ]


def test_each_row_keeps_its_own_time_when_times_repeat_and_alternate(user):
    """SQLite's conversion keeps the last time converted: rows with the same, equal,
    alternating and other-zone times each store their own."""
    t1 = dt.datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=dt.UTC)
    t2 = dt.datetime(2026, 1, 2, 3, 4, 5, 700000, tzinfo=dt.UTC)
    times = [t1, t1, t2, t1, t2.replace(), t1.astimezone(ZoneInfo("Europe/Paris")), None, t2]
    rows = [
        build(AuditEvent, actor=user, actor_label="B", event="e", target_type="t", target_id=i)
        for i in range(len(times))
    ]
    for row, at in zip(rows, times, strict=True):
        row.at = at
    with transaction.atomic():
        insert_new(rows, backdated=True)
    stored = AuditEvent.objects.filter(pk__in=[r.pk for r in rows]).order_by("target_id")
    # None is not kept (a stamped field): the insert's time, as save() sets it.
    assert [e.at for e in stored if e.target_id != 6] == [t for t in times if t is not None]

"""The notifications API: mine only, unread filter, paging like /api/v1/people, marking read."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from tandem.accounts.models import TokenScope
from tandem.accounts.services import create_token
from tandem.notifications import services
from tandem.notifications.models import Notification

START = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def tell(user, n=1, prefix="lead"):
    for i in range(n):
        with time_machine.travel(START + dt.timedelta(minutes=i), tick=False):
            services.notify(
                [user], kind="handoff", title=f"Lead {i}", key=f"{prefix}:{i}", url=f"/people/{i}/"
            )


@pytest.fixture
def as_user(client, system):
    def make(user, scope=TokenScope.READ_WRITE):
        _, raw = create_token(actor=system, user=user, name="t", scope=scope)

        def call(method: str, path: str, body=None):
            return getattr(client, method)(
                "/api/v1" + path,
                body,
                content_type="application/json",
                headers={"Authorization": f"Bearer {raw}"},
            )

        return call

    return make


def test_the_list_is_mine_newest_first_filtered_and_paged(as_user, salesperson, other_salesperson):
    tell(salesperson, 5)
    tell(other_salesperson, 3, prefix="theirs")
    Notification.objects.filter(user=salesperson, key__in=["lead:4", "lead:2"]).update(
        read_at=START
    )
    api = as_user(salesperson)
    body = api("get", "/notifications?limit=2").json()
    assert [n["title"] for n in body["items"]] == ["Lead 4", "Lead 3"]
    assert (body["count"], body["count_exact"], body["limit"], body["offset"]) == (5, True, 2, 0)
    first = body["items"][0]
    assert first["is_read"] is True and first["read_at"] is not None
    assert first["url"] == "/people/4/" and first["kind"] == "handoff" and first["key"] == "lead:4"
    deeper = api("get", f"/notifications?limit=2&cursor={body['next_cursor']}").json()
    assert [n["title"] for n in deeper["items"]] == ["Lead 2", "Lead 1"]
    by_offset = api("get", "/notifications?limit=2&offset=4").json()
    assert [n["title"] for n in by_offset["items"]] == ["Lead 0"]
    assert by_offset["next_cursor"] is None

    unread = api("get", "/notifications?unread=true").json()
    assert [n["title"] for n in unread["items"]] == ["Lead 3", "Lead 1", "Lead 0"]
    assert unread["count"] == 3
    assert api("get", "/notifications/unread-count").json() == {"unread": 3}


def test_bad_paging_values_name_the_field(as_user, salesperson):
    api = as_user(salesperson)
    for query, field in (
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=xyz", "cursor"),
        ("unread=maybe", "unread"),
    ):
        response = api("get", f"/notifications?{query}")
        assert response.status_code == 422, query
        assert response.json()["detail"][0]["loc"][-1] == field


def test_marking_one_and_all_read(as_user, salesperson, other_salesperson):
    tell(salesperson, 3)
    tell(other_salesperson, 2, prefix="theirs")
    api = as_user(salesperson)
    one = Notification.objects.filter(user=salesperson).first()
    body = api("post", f"/notifications/{one.pk}/read").json()
    assert body["is_read"] is True and body["id"] == one.pk
    first_read = body["read_at"]
    assert api("post", f"/notifications/{one.pk}/read").json()["read_at"] == first_read
    assert api("post", "/notifications/read-all").json() == {"marked": 2}
    assert api("post", "/notifications/read-all").json() == {"marked": 0}
    assert api("get", "/notifications/unread-count").json() == {"unread": 0}
    assert services.unread_count(other_salesperson) == 2


def test_another_users_notification_is_not_found_for_every_role(
    as_user, users_by_role, other_salesperson
):
    tell(other_salesperson, 1)
    theirs = Notification.objects.get()
    for role, user in users_by_role.items():
        if user == other_salesperson:
            continue
        api = as_user(user)
        assert api("post", f"/notifications/{theirs.pk}/read").status_code == 404, role
        assert api("get", "/notifications").json()["items"] == [], role
        assert api("get", "/notifications/unread-count").json() == {"unread": 0}, role
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_read_only_token_lists_but_does_not_mark_read(as_user, salesperson):
    tell(salesperson, 2)
    api = as_user(salesperson, TokenScope.READ)
    assert len(api("get", "/notifications").json()["items"]) == 2
    assert api("get", "/notifications/unread-count").json() == {"unread": 2}
    note = Notification.objects.first()
    assert api("post", f"/notifications/{note.pk}/read").status_code == 403
    assert api("post", "/notifications/read-all").status_code == 403
    assert services.unread_count(salesperson) == 2


def test_the_list_costs_the_same_queries_for_one_or_fifty(
    as_user, salesperson, django_assert_num_queries
):
    api = as_user(salesperson)
    api("get", "/notifications/unread-count")  # notes the token's first use
    for n, prefix in ((1, "a"), (49, "b")):
        tell(salesperson, n, prefix=prefix)
        # the token with its user, the capped count, the page
        with django_assert_num_queries(3):
            assert api("get", "/notifications?limit=50").status_code == 200

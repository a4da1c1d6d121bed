"""Rate limits counted in the database: exact for small limits, in leases for busy ones."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tandem.core import ratelimit
from tandem.core.models import RateCounter

pytestmark = pytest.mark.django_db


def allowed_of(key: str, limit: int, tries: int) -> int:
    return sum(ratelimit.hit(key, limit=limit, window_seconds=3600).allowed for _ in range(tries))


def test_a_small_limit_is_one_exact_counter():
    assert allowed_of("login:ip:192.0.2.1", 20, 25) == 20
    assert RateCounter.objects.filter(key__startswith="login:ip:192.0.2.1").count() == 1


def test_a_busy_limit_is_counted_in_leases_and_holds_exactly_in_one_process():
    """A campaign burst writes the form's counter once per lease, not once per post."""
    limit = 800  # leases of 8
    with CaptureQueriesContext(connection) as queries:
        allowed = allowed_of("form:key:guide", limit, 800)
    assert allowed == limit
    upserts = [q for q in queries.captured_queries if "ON CONFLICT" in q["sql"]]
    assert len(upserts) == 800 // ratelimit.lease_size(limit) == 100
    assert allowed_of("form:key:guide", limit, 50) == 0  # the limit holds
    assert RateCounter.objects.filter(key__startswith="form:key:guide").count() == 1


def test_several_processes_leasing_never_get_more_than_the_limit_together(monkeypatch):
    limit = 1000  # leases of 10
    processes = [ratelimit._Leases() for _ in range(3)]  # each web process's hits in hand
    allowed = 0
    for i in range(1500):
        monkeypatch.setattr(ratelimit, "_leases", processes[i % 3])
        allowed += ratelimit.hit("form:key:guide", limit=limit, window_seconds=3600).allowed
    assert allowed <= limit
    # Refused a little early at most: by the hits the other processes hold unspent.
    assert allowed >= limit - 2 * ratelimit.lease_size(limit)


def test_a_lease_is_spent_only_in_its_own_window(time_machine):
    time_machine.move_to("2026-12-07 10:00:00+00:00", tick=False)
    assert allowed_of("form:key:guide", 500, 1) == 1  # leases 5, holds 4
    time_machine.move_to("2026-12-07 11:00:00+00:00", tick=False)
    assert allowed_of("form:key:guide", 500, 1) == 1
    # The new window took a lease of its own, in a counter of its own.
    assert sorted(RateCounter.objects.values_list("hits", flat=True)) == [5, 5]


def test_a_refund_of_a_leased_hit_goes_back_to_the_lease():
    limit = 400  # leases of 4
    assert allowed_of("login:ip:192.0.2.9", limit, 4) == 4
    ratelimit.refund("login:ip:192.0.2.9", window_seconds=3600)
    assert allowed_of("login:ip:192.0.2.9", limit, 1) == 1  # the refunded one, no new lease
    assert RateCounter.objects.get(key="login:ip:192.0.2.9").hits == 4


def test_several_keys_in_one_hit_each_get_their_own_result():
    results = ratelimit.hit_many([("a", 1), ("b", 5000)], window_seconds=60)
    assert [r.allowed for r in results] == [True, True]
    results = ratelimit.hit_many([("a", 1), ("b", 5000)], window_seconds=60)
    assert [r.allowed for r in results] == [False, True]
    with pytest.raises(ValueError):
        ratelimit.hit_many([("a", 1), ("a", 2)], window_seconds=60)


def test_two_leases_taken_at_once_by_one_process_are_both_spent():
    """Two threads of a process found no hit in hand and each took a lease: none of the
    hits counted against the limit is dropped."""
    leases = ratelimit._Leases()
    leases.keep("form:key:guide", 600, 3)
    leases.keep("form:key:guide", 600, 2)
    assert [leases.take("form:key:guide", 600) for _ in range(6)] == [True] * 5 + [False]
    leases.keep("form:key:guide", 660, 1)  # the next window's lease replaces what is left
    assert [leases.take("form:key:guide", 660) for _ in range(2)] == [True, False]

"""Rate limits counted in the database: exact for small limits, sharded for busy ones."""

from __future__ import annotations

import random

import pytest

from tandem.core import ratelimit
from tandem.core.models import RateCounter

pytestmark = pytest.mark.django_db


def allowed_of(key: str, limit: int, tries: int) -> int:
    return sum(ratelimit.hit(key, limit=limit, window_seconds=3600).allowed for _ in range(tries))


def test_a_small_limit_is_one_exact_counter():
    assert allowed_of("login:ip:192.0.2.1", 20, 25) == 20
    assert RateCounter.objects.filter(key__startswith="login:ip:192.0.2.1").count() == 1


def test_a_busy_limit_is_spread_over_shards_and_never_allows_more_than_it():
    """A campaign burst does not queue on one counter row, and the limit still holds."""
    random.seed(7)
    limit = 800  # 16 shards of 50
    allowed = allowed_of("form:key:guide", limit, 1000)
    assert allowed <= limit
    assert allowed >= 0.85 * limit  # refused a little early at most, when one shard fills
    counters = RateCounter.objects.filter(key__startswith="form:key:guide#")
    assert counters.count() == 16
    assert sum(counters.values_list("hits", flat=True)) == 1000


def test_several_keys_in_one_hit_each_get_their_own_result():
    results = ratelimit.hit_many([("a", 1), ("b", 5000)], window_seconds=60)
    assert [r.allowed for r in results] == [True, True]
    results = ratelimit.hit_many([("a", 1), ("b", 5000)], window_seconds=60)
    assert [r.allowed for r in results] == [False, True]
    with pytest.raises(ValueError):
        ratelimit.hit_many([("a", 1), ("a", 2)], window_seconds=60)

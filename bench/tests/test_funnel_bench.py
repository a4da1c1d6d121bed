"""bench.funnel's data: each person's stage today is where their history ends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import OuterRef, Subquery

from bench import funnel as funnel_bench
from tandem.people.models import Person, StageChange
from tandem.reports import funnel


@pytest.mark.django_db(transaction=True)
def test_the_fill_is_consistent_and_the_funnel_reads_it():
    funnel_bench.fill(300)
    last = StageChange.objects.filter(person=OuterRef("pk")).order_by("-changed_at", "-id")
    people = Person.objects.annotate(last=Subquery(last.values("to_stage")[:1]))
    assert people.count() == 300
    assert [p.pk for p in people if p.stage != p.last] == []
    result = funnel.build(
        funnel.parse_filters({"from": "2023-11", "to": "2026-10"}, today=dt.date(2026, 11, 1))
    )
    assert result.total.entered == 299  # the last one is created on 1 November
    assert result.total.reached[0] >= result.total.reached[1] >= result.total.reached[5] > 0
    assert all(v.people > 0 for v in result.velocity)

"""The consent bench's data, and the may_email filter agreeing with the rule person by person."""

from __future__ import annotations

import pytest

from bench.consent import seed
from bench.generate import generate
from bench.load import load
from tandem.capture import consent as consents
from tandem.capture.models import Consent, ConsentStatus, Suppression
from tandem.people.filters import PersonFilter
from tandem.people.models import Person
from tandem.people.queries import people_for_list


@pytest.mark.django_db(transaction=True)  # the loader's VACUUM and ANALYZE run outside one
def test_seeded_consents_and_the_filter_matches_the_rule_for_each_person(tmp_path):
    generate(people=1000, companies=50, out=tmp_path, seed=2)
    load(tmp_path, log=lambda _: None)
    seed()
    assert seed() == {}  # once only
    statuses = set(Consent.objects.values_list("status", flat=True))
    assert statuses == {ConsentStatus.GRANTED, ConsentStatus.PENDING, ConsentStatus.WITHDRAWN}
    assert Suppression.objects.exists()

    found = set(
        people_for_list(viewer=None, filters=PersonFilter(may_email="newsletter")).values_list(
            "id", flat=True
        )
    )
    expected = {
        p.pk
        for p in Person.objects.filter(deleted_at__isnull=True)
        if consents.may_send_marketing(p)
        and Consent.objects.filter(
            person=p, purpose__key="newsletter", status=ConsentStatus.GRANTED
        ).exists()
    }
    assert found == expected and 200 < len(found) < 300  # 30% granted, 1% of them bounced

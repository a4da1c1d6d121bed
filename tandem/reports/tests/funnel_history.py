"""A hand-built stage history for the funnel tests, with the figures worked out by hand.

January 2026 (UTC), five people:
    P1 lead 5 Jan → mql 7 Jan (2 d) → sal 10 Jan (3 d) → opportunity 20 Jan (10 d)
       → customer 19 Feb (30 d)
    P2 subscriber 3 Jan → lead 4 Jan (1 d) → mql 8 Jan (4 d) → disqualified 9 Jan
    P3 lead 10 Jan → opportunity 16 Jan (6 d): skips mql and sal
    P4 lead 12 Jan → mql 13 Jan (1 d) → recycled 20 Jan → lead 1 Feb → mql 10 Feb
    P5 lead 20 Jan, still a lead
February 2026, one person:
    P6 lead 2 Feb → mql 4 Feb (2 d) → sal 9 Feb (5 d)

Reached (stage or later): Jan 5/5/4/2/2/1, Feb 1/1/1/1/0/0, all 6/6/5/3/2/1.
Days in stage, from entering it to reaching any later one:
    subscriber [1]            median 1,  p90 1
    lead       [1, 2, 2, 4, 6] median 2,  p90 4 + 0.6 × 2 = 5.2
    mql        [3, 5]         median 4,  p90 3 + 0.9 × 2 = 4.8   (P2, P4 never went on)
    sal        [10]           median 10, p90 10                  (P3 skipped it)
    opportunity [30]          median 30, p90 30
"""

from __future__ import annotations

import datetime as dt

from tandem.accounts.models import User
from tandem.campaigns.models import Campaign, Touchpoint
from tandem.people.models import Company, Person, StageChange

UTC = dt.UTC


def at(month: int, day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=UTC)


def person_with_history(
    name: str,
    moves: list[tuple[str, dt.datetime]],
    *,
    created_at: dt.datetime | None = None,
    **fields,
) -> Person:
    """A person whose history is `moves` (stage, when), created at the first move."""
    person = Person.objects.create(first_name=name, stage=moves[-1][0], **fields)
    Person.objects.filter(pk=person.pk).update(created_at=created_at or moves[0][1])
    before = ""
    for stage, when in moves:
        StageChange.objects.create(
            person=person, from_stage=before, to_stage=stage, changed_at=when, actor_label="test"
        )
        before = stage
    person.refresh_from_db()
    return person


def build_history(owner: User | None = None) -> dict[str, Person]:
    acme = Company.objects.create(
        name="Acme", name_key="acme", industry="Software", size="51-200", country="DE"
    )
    shop = Company.objects.create(
        name="Shop", name_key="shop", industry="Retail", size="1-10", country="FR"
    )
    people = {
        "p1": person_with_history(
            "P1",
            [
                ("lead", at(1, 5)),
                ("mql", at(1, 7)),
                ("sal", at(1, 10)),
                ("opportunity", at(1, 20)),
                ("customer", at(2, 19)),
            ],
            source="webinar",
            company=acme,
            owner=owner,
        ),
        "p2": person_with_history(
            "P2",
            [
                ("subscriber", at(1, 3)),
                ("lead", at(1, 4)),
                ("mql", at(1, 8)),
                ("disqualified", at(1, 9)),
            ],
            source="newsletter",
            company=shop,
        ),
        "p3": person_with_history(
            "P3", [("lead", at(1, 10)), ("opportunity", at(1, 16))], source="webinar", company=acme
        ),
        "p4": person_with_history(
            "P4",
            [
                ("lead", at(1, 12)),
                ("mql", at(1, 13)),
                ("recycled", at(1, 20)),
                ("lead", at(2, 1)),
                ("mql", at(2, 10)),
            ],
            source="event",
        ),
        "p5": person_with_history("P5", [("lead", at(1, 20))], source="event", owner=owner),
        "p6": person_with_history(
            "P6",
            [("lead", at(2, 2)), ("mql", at(2, 4)), ("sal", at(2, 9))],
            source="webinar",
            company=shop,
        ),
    }
    return people


def touch(person: Person, campaign: Campaign) -> Touchpoint:
    return Touchpoint.objects.create(
        person=person, kind="form_fill", occurred_at=person.created_at, campaign=campaign
    )

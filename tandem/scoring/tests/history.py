"""A deterministic funnel history for predictive scoring's tests and bench (bench/scoring_train.py).

People are written set-based (bulk_create), with their stage changes,
touchpoints, activities and custom fields, so 100k people load in seconds. Who
converts depends on a few features (seniority, industry, form fills, the first
numeric custom field) plus noise; the other numeric fields are noise. Sales
meetings are logged only *after* a lead became an opportunity, so a model that
counted them would learn the label itself (the cut-off test).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from tandem.campaigns.models import Campaign, Touchpoint
from tandem.people.models import Activity, Company, CustomField, Person, StageChange

DAY = dt.timedelta(days=1)
INDUSTRIES = ["Software", "Finance", "Retail", "Manufacturing", "Health", "Logistics"]
SIZES = ["1-10", "11-50", "51-200", "201-1000", "1001+"]
TITLES = ["Head of Marketing", "CEO", "Marketing Manager", "Analyst", "Assistant", "IT Director"]
COUNTRIES = ["DE", "FR", "AT", "CH", "NL", "GB"]
SOURCES = ["web", "event", "import", "referral"]


@dataclass
class History:
    people: int
    positives: int
    negatives: int
    in_window: int


def make_history(
    *,
    people: int,
    numeric_fields: int = 3,
    seed: int = 1,
    now: dt.datetime | None = None,
    days: int = 400,
    random_labels: bool = False,
    leak_field: bool = False,
    batch: int = 5000,
) -> History:
    """Write `people` people with a funnel history ending before `now`.

    `random_labels` makes outcomes pure noise (no feature predicts them);
    `leak_field` adds a custom field "won_deal_value" filled only for positives.
    """
    now = now or dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
    rng = np.random.default_rng(seed)
    keys = [f"metric_{k:03d}" for k in range(numeric_fields)]
    CustomField.objects.bulk_create(
        [
            CustomField(entity="person", key=key, label=f"Metric {k}", field_type="number")
            for k, key in enumerate(keys)
        ]
        + [
            CustomField(
                entity="person",
                key="interest",
                label="Interest",
                field_type="choice",
                choices=["crm", "erp", "bi"],
            )
        ]
        + (
            [
                CustomField(
                    entity="person",
                    key="won_deal_value",
                    label="Won deal value",
                    field_type="number",
                )
            ]
            if leak_field
            else []
        )
    )
    campaigns = Campaign.objects.bulk_create(
        [Campaign(name=f"Campaign {c}", key=f"campaign-{c}") for c in range(10)]
    )
    companies = Company.objects.bulk_create(
        [
            Company(
                name=f"Company {c}",
                name_key=f"company {c}",
                industry=INDUSTRIES[c % len(INDUSTRIES)],
                size=SIZES[(c * 7) % len(SIZES)],
                country=COUNTRIES[c % len(COUNTRIES)],
            )
            for c in range(max(1, people // 5))
        ],
        batch_size=batch,
    )
    counts = History(people=people, positives=0, negatives=0, in_window=0)
    for start in range(0, people, batch):
        with transaction.atomic():
            _write_batch(
                rng, start, min(batch, people - start), keys, campaigns, companies, now, days,
                random_labels, leak_field, counts,
            )  # fmt: skip
    return counts


def _write_batch(rng, start, n, keys, campaigns, companies, now, days, random_labels, leak, counts):
    title = rng.integers(0, len(TITLES), n)
    company = rng.integers(0, len(companies), n)
    metrics = rng.normal(0, 1, (n, len(keys)))
    fills = rng.poisson(1.5, n)
    created = rng.uniform(0, days, n)  # days before now
    senior = np.isin(title, [0, 1, 5])
    industry_good = np.isin(company % len(INDUSTRIES), [0, 1])
    signal = (
        1.3 * senior + 0.9 * industry_good + 0.5 * fills + (0.7 * metrics[:, 0] if len(keys) else 0)
    )
    chance = 1 / (1 + np.exp(-(signal - 2.2)))
    if random_labels:
        chance = np.full(n, 0.35)
    positive = rng.uniform(0, 1, n) < chance
    disqualify = rng.uniform(0, 1, n) < 0.4
    people = []
    for i in range(n):
        custom = {key: round(float(metrics[i, k]), 3) for k, key in enumerate(keys)}
        custom["interest"] = ["crm", "erp", "bi"][int(rng.integers(0, 3))]
        if leak and positive[i]:
            custom["won_deal_value"] = int(rng.integers(1000, 50000))
        number = start + i
        people.append(
            Person(
                first_name=f"P{number}",
                last_name=f"History{number}",
                first_name_key=f"p{number}",
                last_name_key=f"history{number}",
                email=f"p{number}@" + ("gmail.com" if number % 4 == 0 else "example.com"),
                phone="+4930123456" if number % 3 else "",
                title=TITLES[title[i]],
                company=companies[int(company[i])],
                country=COUNTRIES[number % len(COUNTRIES)],
                source=SOURCES[number % len(SOURCES)],
                stage="lead",
                custom_fields=custom,
            )
        )
    Person.objects.bulk_create(people)
    changes, touches, activities = [], [], []
    stage_of: dict[int, tuple[str, dt.datetime]] = {}
    for i, person in enumerate(people):
        born = now - dt.timedelta(days=float(created[i]))
        changes.append(
            StageChange(
                person=person, from_stage="", to_stage="lead", changed_at=born, actor_label="bench"
            )
        )
        for f in range(int(fills[i])):
            touches.append(
                Touchpoint(
                    person=person,
                    kind="form_fill",
                    occurred_at=born + dt.timedelta(hours=f + 1),
                    campaign=campaigns[(i + f) % len(campaigns)],
                )
            )
        touches.append(
            Touchpoint(person=person, kind="page_visit", occurred_at=born, campaign=None)
        )
        final, at = "lead", born
        if positive[i] and created[i] > 45:
            for to_stage, after in (("mql", 5), ("sal", 8), ("opportunity", 20)):
                changes.append(
                    StageChange(person=person, from_stage=final, to_stage=to_stage,
                                changed_at=born + after * DAY, actor_label="bench")
                )  # fmt: skip
                final, at = to_stage, born + after * DAY
            # What sales does after the decision: must not reach the model.
            for m in range(3):
                moment = born + (21 + m) * DAY
                touches.append(Touchpoint(person=person, kind="meeting", occurred_at=moment))
                activities.append(
                    Activity(
                        kind="meeting",
                        person=person,
                        occurred_at=moment,
                        actor_label="bench",
                        subject="Demo",
                    )
                )
            counts.positives += 1
        elif disqualify[i] and created[i] > 40:
            moment = born + 30 * DAY
            changes.append(
                StageChange(person=person, from_stage="lead", to_stage="disqualified",
                            changed_at=moment, actor_label="bench", reason="No budget")
            )  # fmt: skip
            final, at = "disqualified", moment
            counts.negatives += 1
        elif created[i] >= 90:
            counts.negatives += 1
        else:
            counts.in_window += 1
        stage_of[person.pk] = (final, at)
    StageChange.objects.bulk_create(changes)
    Touchpoint.objects.bulk_create(touches)
    Activity.objects.bulk_create(activities)
    for stage in {s for s, _ in stage_of.values()}:
        ids = [pk for pk, (s, _) in stage_of.items() if s == stage]
        Person.objects.filter(pk__in=ids).update(stage=stage)

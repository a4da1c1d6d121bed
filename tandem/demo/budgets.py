"""The demo's marketing money (issue 21): programmes over the campaigns, planned budgets,
the cost lines of the last twelve months, and the customer days (an offline campaign).

Written after the campaigns and touchpoints of tandem/demo/engagement.py, through the
campaigns app's public services: `create_campaign` and `update_campaign` (parent,
planned budget), `add_campaign_cost` (one line each, audited on the campaign), and
`build_touchpoint` / `record_past_touchpoints` for the customer days' visitors.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from tandem.accounts.actor import Actor
from tandem.campaigns.budgets import add_campaign_cost
from tandem.campaigns.models import Campaign, CampaignKind, Touchpoint, TouchpointKind
from tandem.campaigns.services import (
    build_touchpoint,
    create_campaign,
    record_past_touchpoints,
    update_campaign,
)
from tandem.people.models import FUNNEL_ORDER, Person, Stage, StageChange

CUSTOMER_DAYS = "customer-days"


@dataclass(frozen=True)
class Programme:
    key: str
    name: str
    kind: str
    description: str
    reserve: int  # planned on the programme beyond its campaigns' own budgets
    children: tuple[tuple[str, int], ...]  # (campaign key, planned budget)


PROGRAMMES = (
    Programme(
        "digital-programme",
        "Digital marketing",
        CampaignKind.OTHER,
        "Always-on demand: search ads, the newsletter, the guides and the webinars.",
        5000,
        (
            ("paid-search", 26000),
            ("monthly-newsletter", 6000),
            ("buyers-guide-2026", 9000),
            ("webinar-series", 12000),
        ),
    ),
    Programme(
        "events-programme",
        "Events and trade shows",
        CampaignKind.EVENT,
        "Where we meet buyers in person: trade shows and our own customer days.",
        8000,
        (
            ("logistics-expo-spring", 30000),
            ("industry-forum-autumn", 9000),
            ("logistics-expo-2", 38000),
            (CUSTOMER_DAYS, 16000),
        ),
    ),
)
STANDALONE_BUDGETS = (("partner-programme", 10000),)
# Customer days: (days before the demo's anchor, city).
SESSIONS = ((300, "Berlin"), (120, "Vienna"))


def _month_starts(now: dt.datetime, months: int) -> list[dt.date]:
    first = now.date().replace(day=1)
    out = []
    for _ in range(months):
        first = (first - dt.timedelta(days=1)).replace(day=1)
        out.append(first)
    return sorted(out)


class Budgets:
    """Programmes, budgets, cost lines and the customer days of the demo."""

    def __init__(self, *, rng: random.Random, now: dt.datetime, marketer: Actor):
        self.rng, self.now, self.marketer = rng, now, marketer

    def write(self) -> dict[str, int]:
        campaigns = {c.key: c for c in Campaign.objects.all()}
        # A campaign a database already has by its key is kept as it is (as engagement.py).
        campaigns[CUSTOMER_DAYS] = campaigns.get(CUSTOMER_DAYS) or create_campaign(
            actor=self.marketer,
            name="Customer days",
            key=CUSTOMER_DAYS,
            kind=CampaignKind.EVENT,
            description="A day of talks and workshops with customers and prospects: "
            + ", then ".join(city for _, city in SESSIONS)
            + ".",
            starts_on=(self.now - dt.timedelta(days=SESSIONS[0][0])).date(),
            ends_on=(self.now - dt.timedelta(days=SESSIONS[-1][0])).date(),
        )
        for programme in PROGRAMMES:
            parent = campaigns.get(programme.key) or create_campaign(
                actor=self.marketer,
                name=programme.name,
                key=programme.key,
                kind=programme.kind,
                description=programme.description,
                planned_budget=Decimal(
                    programme.reserve + sum(budget for _, budget in programme.children)
                ),
            )
            campaigns[programme.key] = parent
            for key, budget in programme.children:
                if key in campaigns:
                    update_campaign(
                        actor=self.marketer,
                        campaign=campaigns[key],
                        data={"parent": parent.pk, "planned_budget": Decimal(budget)},
                    )
        for key, budget in STANDALONE_BUDGETS:
            if key in campaigns:
                update_campaign(
                    actor=self.marketer,
                    campaign=campaigns[key],
                    data={"planned_budget": Decimal(budget)},
                )
        lines = self.write_costs(campaigns)
        visits = self.write_customer_days(campaigns[CUSTOMER_DAYS])
        return {"programmes": len(PROGRAMMES), "cost_lines": lines, "customer_day_visits": visits}

    # cost lines

    def _cost(self, campaign: Campaign, on: dt.date, low: int, high: int, note: str) -> int:
        if on > self.now.date() or (campaign.starts_on and on < campaign.starts_on):
            return 0
        cents = self.rng.randint(low * 100, high * 100)
        add_campaign_cost(
            actor=self.marketer,
            campaign=campaign,
            data={"spent_on": on, "amount": Decimal(cents) / 100, "note": note},
        )
        return 1

    def write_costs(self, campaigns: dict[str, Campaign]) -> int:
        rng, lines = self.rng, 0
        months = _month_starts(self.now, 12)
        monthly = (
            ("paid-search", 1500, 2600, "Search ads, {month}"),
            ("monthly-newsletter", 280, 460, "Email platform and design, {month}"),
            ("webinar-series", 600, 1100, "Webinar platform and promotion, {month}"),
        )
        for key, low, high, note in monthly:
            for month in months:
                on = month + dt.timedelta(days=rng.randint(0, 6))
                label = note.format(month=month.strftime("%B %Y"))
                lines += self._cost(campaigns[key], on, low, high, label)
        guide = campaigns.get("buyers-guide-2026")
        if guide is not None:
            written = self.now.date() - dt.timedelta(days=330)
            lines += self._cost(guide, written, 3800, 4800, "Writing and design of the guide")
            for month in months[2::4]:
                lines += self._cost(guide, month, 600, 1200, "Promoting the guide on LinkedIn")
        for key in ("logistics-expo-spring", "industry-forum-autumn", "logistics-expo-2"):
            show = campaigns.get(key)
            if show is None or show.starts_on is None:
                continue
            big = key != "industry-forum-autumn"
            items = (
                (-60, 9000 if big else 2500, 14000 if big else 4000, "Booth space"),
                (-20, 4000 if big else 900, 8000 if big else 1500, "Booth build and print"),
                (0, 1800, 3500, "Travel and hotels"),
                (0, 400, 900, "Badge scanners and catering"),
            )
            for offset, low, high, note in items:
                on = show.starts_on + dt.timedelta(days=offset)
                lines += self._cost(show, max(on, show.starts_on), low, high, note)
        days = campaigns[CUSTOMER_DAYS]
        for before, city in SESSIONS:
            on = (self.now - dt.timedelta(days=before)).date()
            lines += self._cost(days, on, 3500, 5500, f"Venue and catering, {city}")
            lines += self._cost(days, on, 900, 1800, f"Speakers' travel, {city}")
        partners = campaigns.get("partner-programme")
        if partners is not None:
            for month in months[1::3]:
                lines += self._cost(partners, month, 1200, 3200, "Referral commissions")
        return lines

    # the customer days' visitors (offline touchpoints)

    def write_customer_days(self, campaign: Campaign) -> int:
        """Visitors of each session: people in the funnel at mql or beyond on that day
        (not dropped out), about one in five, each with an event visit."""
        rng = self.rng
        reached: dict[int, list[tuple[dt.datetime, str]]] = {}
        for person_id, at, to in StageChange.objects.order_by("changed_at", "id").values_list(
            "person_id", "changed_at", "to_stage"
        ):
            reached.setdefault(person_id, []).append((at, to))
        people = dict(
            Person.objects.filter(deleted_at__isnull=True).values_list("pk", "created_at")
        )
        rows: list[Touchpoint] = []
        for before, city in SESSIONS:
            day = self.now - dt.timedelta(days=before)
            at = day.replace(hour=10) + dt.timedelta(minutes=rng.randint(0, 120))
            for person_id in sorted(people):
                if people[person_id] >= at:
                    continue
                stage = next(
                    (to for when, to in reversed(reached.get(person_id, [])) if when <= at), ""
                )
                if FUNNEL_ORDER.get(stage, -1) < FUNNEL_ORDER[Stage.MQL]:
                    continue
                if rng.random() < 0.22:
                    rows.append(
                        build_touchpoint(
                            person_id=person_id,
                            kind=TouchpointKind.EVENT_VISIT,
                            occurred_at=at + dt.timedelta(minutes=rng.randint(0, 90)),
                            campaign=campaign,
                            channel="event",
                            location=city,
                        )
                    )
        record_past_touchpoints(rows)
        return len(rows)

"""The demo's deals (issue 21): two pipelines, a few hundred deals that follow the people's
own history, and the sales touches before them.

Written after the people, campaigns and the sales desk (tandem/demo/handoffs.py), through
the deals app's public services (`create_pipeline`, `create_deal` with `created_at`,
`close_deal` with `closed_at`) and the campaigns app's (`build_touchpoint`,
`record_past_touchpoints`), each deal by its owner. The deals agree with the funnel the
demo history already holds, so opening or winning them moves nobody in the past:

- customers and advocates bought: a won "New business" deal opened when they became
  an opportunity and won when they became a customer (colleagues of the same company
  who became opportunities within six months are on the same deal);
- people still at `opportunity` have an open deal, in any stage, or a lost one when
  their opportunity is old;
- people disqualified after being an opportunity lost their deal then, with a reason;
- a third of the customers opened an "Expansion" deal since (open, won or lost);
- half of the leads the sales desk accepted today get a deal today: opening it moves
  them from `sal` to `opportunity` (as a salesperson does it on the deal page).

Before each deal its contacts had sales touches: calls and meetings with the owner
(offline, credited to them) and a look at the pricing page, some from a search ad.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tandem.accounts.actor import Actor
from tandem.accounts.models import User
from tandem.campaigns.models import Campaign, Touchpoint, TouchpointKind
from tandem.campaigns.services import build_touchpoint, record_past_touchpoints
from tandem.deals.models import CloseReason, ContactRole, DealStatus, Pipeline, PipelineStage
from tandem.deals.pipelines import create_pipeline, ensure_default_reasons
from tandem.deals.services import close_deal, create_deal
from tandem.people.models import Company, Person, Stage, StageChange
from tandem.routing.models import Handoff, HandoffStatus

SITE = "https://www.ourcompany.example"
PIPELINES = (
    (
        "New business",
        (("Qualification", 10), ("Discovery", 25), ("Demo", 40), ("Proposal", 60),
         ("Negotiation", 80)),
    ),
    ("Expansion", (("Scoping", 20), ("Proposal", 55), ("Negotiation", 80))),
)  # fmt: skip
# What a first deal is worth by company size (EUR), and the products sold.
SIZE_AMOUNT = {"1-10": 6000, "11-50": 14000, "51-200": 32000, "201-1000": 62000, "1001+": 110000}
PRODUCTS = ("Warehouse suite", "Inventory platform", "Fleet planning", "Dock scheduling")
EXPANSIONS = ("more seats", "second site", "analytics add-on", "premium support")
# Units of base currency (EUR) per unit of the deal's currency, by company country.
CURRENCIES = {"US": ("USD", "0.9200"), "CA": ("CAD", "0.6600"), "GB": ("GBP", "1.1700")}
COMPETITORS = ("Salesforce", "HubSpot", "Pipedrive", "Odoo", "a spreadsheet and email")
LOST_NOTES = {
    "Price": "Our offer was 20 % above their budget; they would not phase it.",
    "Competitor": "They went with the tool their parent company uses.",
    "No budget": "Budget frozen until next fiscal year.",
    "Timing": "A migration project took priority; ask again in six months.",
    "No decision": "The project stalled; the champion left.",
    "Missing features": "Needed a customs module we do not have.",
    "Went silent": "No answer after the proposal, three follow-ups.",
}
SECOND_ROLES = (ContactRole.CHAMPION, ContactRole.TECHNICAL_BUYER, ContactRole.USER,
                ContactRole.INFLUENCER, ContactRole.ECONOMIC_BUYER)  # fmt: skip
EXECUTIVE = ("CEO", "Managing Director", "CFO", "COO", "CTO", "VP", "Head")


@dataclass
class _Plan:
    """One deal as planned."""

    pipeline: str
    company: Company
    contacts: list[Person]
    owner: User
    created_at: dt.datetime | None  # None: now (a deal opened today)
    status: str
    closed_at: dt.datetime | None = None
    stage: int = 0  # index into the pipeline's stages (open deals; closed: where they were)
    extras: dict[str, Any] = field(default_factory=dict)


class Revenue:
    """Plans and writes the demo's pipelines, deals and sales touches."""

    def __init__(
        self,
        *,
        rng: random.Random,
        now: dt.datetime,
        manager: User,
        sales: list[User],
    ):
        self.rng, self.now, self.manager, self.sales = rng, now, manager, sales

    # pipelines

    def write_pipelines(self) -> dict[str, list[PipelineStage]]:
        """Both pipelines (New business the default), their stages in order."""
        actor = Actor.for_user(self.manager)
        out = {}
        for i, (name, stages) in enumerate(PIPELINES):
            pipeline = Pipeline.objects.filter(name=name).first() or create_pipeline(
                actor=actor,
                data={
                    "name": name,
                    "is_default": i == 0,
                    "stages": [{"name": s, "probability": p} for s, p in stages],
                },
            )
            out[name] = list(
                pipeline.stages.filter(is_active=True)
                .select_related("pipeline")
                .order_by("position", "id")
            )
        ensure_default_reasons()
        return out

    # planning from the people's history

    def _owner(self, person: Person, company: Company) -> User:
        for user in (company.owner, person.owner):
            if user is not None and user in self.sales:
                return user
        return self.rng.choice(self.sales)

    def plan(self) -> list[_Plan]:
        rng, now = self.rng, self.now
        reached: dict[int, dict[str, dt.datetime]] = defaultdict(dict)
        for person_id, to, at in StageChange.objects.order_by("changed_at", "id").values_list(
            "person_id", "to_stage", "changed_at"
        ):
            reached[person_id].setdefault(to, at)
        people = list(
            Person.objects.filter(deleted_at__isnull=True, company__isnull=False)
            .select_related("company", "company__owner", "owner")
            .order_by("id")
        )
        groups: dict[tuple[str, int | None], list[Person]] = defaultdict(list)
        for person in people:
            steps = reached.get(person.pk, {})
            if Stage.OPPORTUNITY not in steps:
                continue
            if person.stage in (Stage.CUSTOMER, Stage.ADVOCATE) and Stage.CUSTOMER in steps:
                groups[("won", person.company_id)].append(person)
            elif person.stage == Stage.OPPORTUNITY:
                groups[("open", person.company_id)].append(person)
            elif person.stage == Stage.DISQUALIFIED and Stage.DISQUALIFIED in steps:
                groups[("lost", person.company_id)].append(person)
        plans: list[_Plan] = []
        for (kind, _), members in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            members.sort(key=lambda p: (reached[p.pk][Stage.OPPORTUNITY], p.pk))
            # Colleagues who became opportunities within six months share a deal.
            clusters: list[list[Person]] = []
            for person in members:
                opened = reached[person.pk][Stage.OPPORTUNITY]
                if (
                    clusters
                    and len(clusters[-1]) < 3
                    and opened - reached[clusters[-1][0].pk][Stage.OPPORTUNITY]
                    <= dt.timedelta(days=180)
                ):
                    clusters[-1].append(person)
                else:
                    clusters.append([person])
            for cluster in clusters:
                company = cluster[0].company
                assert company is not None
                created = max(reached[p.pk][Stage.OPPORTUNITY] for p in cluster)
                plan = _Plan(
                    pipeline="New business",
                    company=company,
                    contacts=cluster,
                    owner=self._owner(cluster[0], company),
                    created_at=created,
                    status=DealStatus.OPEN,
                )
                if kind == "won":
                    plan.status = DealStatus.WON
                    plan.closed_at = max(reached[p.pk][Stage.CUSTOMER] for p in cluster)
                    plan.stage = -1
                    plans.append(plan)
                    if rng.random() < 0.33:
                        expansion = self._expansion(plan)
                        if expansion is not None:
                            plans.append(expansion)
                elif kind == "lost":
                    plan.status = DealStatus.LOST
                    plan.closed_at = max(reached[p.pk][Stage.DISQUALIFIED] for p in cluster)
                    plan.stage = rng.randrange(5)
                    plans.append(plan)
                else:
                    if created < now - dt.timedelta(days=120) and rng.random() < 0.4:
                        plan.status = DealStatus.LOST
                        plan.closed_at = created + dt.timedelta(days=rng.uniform(20, 100))
                        plan.stage = rng.randrange(5)
                    else:
                        plan.stage = rng.choices(range(5), weights=(3, 3, 2, 2, 1))[0]
                    plans.append(plan)
        plans.extend(self._from_accepted_leads())
        return plans

    def _expansion(self, won: _Plan) -> _Plan | None:
        """An upsell some time after the first deal was won (open, won or lost)."""
        rng, now = self.rng, self.now
        assert won.closed_at is not None
        created = won.closed_at + dt.timedelta(days=rng.uniform(30, 240))
        if created > now - dt.timedelta(days=2):
            return None
        plan = _Plan(
            pipeline="Expansion",
            company=won.company,
            contacts=won.contacts[:2],
            owner=won.owner,
            created_at=created,
            status=DealStatus.OPEN,
            stage=rng.randrange(3),
        )
        closes = created + dt.timedelta(days=rng.uniform(14, 90))
        if closes < now - dt.timedelta(days=1):
            plan.status = rng.choices((DealStatus.WON, DealStatus.LOST, DealStatus.OPEN),
                                      weights=(5, 3, 2))[0]  # fmt: skip
            if plan.status != DealStatus.OPEN:
                plan.closed_at = closes
                plan.stage = 2 if plan.status == DealStatus.WON else plan.stage
        return plan

    def _from_accepted_leads(self) -> list[_Plan]:
        """Half the leads accepted today with a company: a deal in its first stages, now."""
        plans = []
        accepted = (
            Handoff.objects.filter(is_current=True, status=HandoffStatus.ACCEPTED)
            .select_related("person", "person__company", "owner")
            .order_by("routed_at", "id")
        )
        for handoff in accepted:
            person, owner = handoff.person, handoff.owner
            if person.company is None or owner is None or person.stage != Stage.SAL:
                continue
            if self.rng.random() < 0.5:
                plans.append(
                    _Plan(
                        pipeline="New business",
                        company=person.company,
                        contacts=[person],
                        owner=owner if owner in self.sales else self._owner(person, person.company),
                        created_at=None,
                        status=DealStatus.OPEN,
                        stage=self.rng.choice((0, 0, 1)),
                    )
                )
        return plans

    # writing

    def _amount(self, plan: _Plan) -> tuple[Decimal, str, Decimal | None]:
        rng = self.rng
        base = SIZE_AMOUNT.get(plan.company.size, 14000)
        if plan.pipeline == "Expansion":
            base = base // 3
        amount = Decimal(round(base * rng.uniform(0.6, 1.6), -2))
        currency, rate = CURRENCIES.get(plan.company.country, ("EUR", ""))
        if currency == "EUR" and rng.random() < 0.04:
            currency, rate = "USD", "0.9300"
        if currency == "EUR":
            return amount, currency, None
        # The rate of the day the deal was opened: a little movement around the usual one.
        drift = Decimal(rng.randint(-250, 250)) / 10000
        return amount, currency, (Decimal(rate) + drift).quantize(Decimal("0.0001"))

    def _name(self, plan: _Plan) -> str:
        company = plan.company.name
        if plan.pipeline == "Expansion":
            return f"{company}: {self.rng.choice(EXPANSIONS)}"
        return f"{company}: {self.rng.choice(PRODUCTS)}"

    def _contacts(self, plan: _Plan) -> list[dict[str, Any]]:
        out = []
        for i, person in enumerate(plan.contacts):
            if i == 0:
                role = (
                    ContactRole.DECISION_MAKER
                    if person.title.startswith(EXECUTIVE)
                    else ContactRole.CHAMPION
                )
            else:
                role = self.rng.choice(SECOND_ROLES)
            out.append({"person": person, "role": role, "is_primary": i == 0})
        return out

    def write(self, stages: dict[str, list[PipelineStage]]) -> dict[str, int]:
        rng = self.rng
        plans = self.plan()
        reasons = {
            kind: {r.name: r.pk for r in CloseReason.objects.filter(kind=kind, is_active=True)}
            for kind in (DealStatus.WON, DealStatus.LOST)
        }
        counts = {"deals": 0, "deals_won": 0, "deals_lost": 0, "deals_open": 0}
        for plan in plans:
            actor = Actor.for_user(plan.owner)
            pipeline_stages = stages[plan.pipeline]
            amount, currency, rate = self._amount(plan)
            created = plan.created_at
            if plan.status == DealStatus.OPEN:
                expected = self.now.date() + dt.timedelta(days=rng.randint(7, 120))
            else:
                assert plan.closed_at is not None
                expected = plan.closed_at.date() + dt.timedelta(days=rng.randint(-10, 20))
            # The services take ids or the rows themselves: rows save a look-up each.
            data: dict[str, Any] = {
                "name": self._name(plan),
                "pipeline": pipeline_stages[plan.stage].pipeline,
                "stage": pipeline_stages[plan.stage],
                "company": plan.company,
                "owner": plan.owner,
                "amount": amount,
                "currency": currency,
                "expected_close_on": expected,
                "contacts": self._contacts(plan),
            }
            if rate is not None:
                data["exchange_rate"] = rate
            if created is not None:
                data["created_at"] = created
            deal = create_deal(actor=actor, data=data)
            counts["deals"] += 1
            counts[f"deals_{plan.status}"] += 1
            if plan.status == DealStatus.WON:
                competitor = rng.choice(COMPETITORS) if rng.random() < 0.35 else ""
                name = rng.choice(sorted(reasons[DealStatus.WON]))
                close_deal(
                    actor=actor,
                    deal=deal,
                    status=DealStatus.WON,
                    reason_id=reasons[DealStatus.WON][name],
                    competitor=competitor,
                    note=f"Chosen over {competitor}." if competitor else "",
                    closed_at=plan.closed_at,
                )
            elif plan.status == DealStatus.LOST:
                name = rng.choice(sorted(reasons[DealStatus.LOST]))
                competitor = (
                    rng.choice(COMPETITORS[:4])
                    if name == "Competitor" or (name == "Price" and rng.random() < 0.5)
                    else ""
                )
                close_deal(
                    actor=actor,
                    deal=deal,
                    status=DealStatus.LOST,
                    reason_id=reasons[DealStatus.LOST][name],
                    competitor=competitor,
                    note=LOST_NOTES.get(name, ""),
                    closed_at=plan.closed_at,
                )
        counts["sales_touchpoints"] = self.write_touches(plans)
        return counts

    # the sales touches before each deal

    def write_touches(self, plans: list[_Plan]) -> int:
        """Calls, meetings and a pricing-page visit before each past deal was opened."""
        rng = self.rng
        paid = Campaign.objects.filter(key="paid-search").first()
        rows: list[Touchpoint] = []
        for plan in plans:
            if plan.created_at is None:
                continue  # opened today: its lead's touches are there already
            for person in plan.contacts:
                start = person.created_at
                window = plan.created_at - start
                if window <= dt.timedelta(hours=1):
                    continue
                touches = [(TouchpointKind.CALL, 0.9), (TouchpointKind.MEETING, 0.75)]
                if plan.pipeline == "New business":
                    touches.append((TouchpointKind.MEETING, 0.35))
                for kind, chance in touches:
                    if rng.random() < chance:
                        at = plan.created_at - window * rng.uniform(0.02, 0.5)
                        rows.append(
                            build_touchpoint(
                                person_id=person.pk,
                                kind=kind,
                                occurred_at=at,
                                channel="sales",
                                credited_to_id=plan.owner.pk,
                                location=plan.company.name if kind == "meeting" else "",
                                note="Discovery call"
                                if kind == TouchpointKind.CALL
                                else "Meeting on site",
                            )
                        )
                if rng.random() < 0.6:
                    at = plan.created_at - window * rng.uniform(0.01, 0.2)
                    ad = paid is not None and rng.random() < 0.3
                    utm = {
                        "utm_source": "google",
                        "utm_medium": "cpc",
                        "utm_campaign": "paid-search",
                    }
                    rows.append(
                        build_touchpoint(
                            person_id=person.pk,
                            kind=TouchpointKind.PAGE_VISIT,
                            occurred_at=at,
                            campaign=paid if ad else None,
                            channel="paid" if ad else "web",
                            page_url=f"{SITE}/pricing",
                            utm=utm if ad else None,
                        )
                    )
        record_past_touchpoints(rows)
        return len(rows)


def write(*, users: dict[str, User], rng: random.Random, now: dt.datetime) -> dict[str, int]:
    sales = [u for u in users.values() if u.role == "salesperson"]
    sales.sort(key=lambda u: u.username)
    revenue = Revenue(rng=rng, now=now, manager=users["manager"], sales=sales)
    stages = revenue.write_pipelines()
    counts = revenue.write(stages)
    counts["pipelines"] = len(stages)
    return counts

"""The demo company: users per role, ~300 companies, ~3,000 people, 18 months of history.

Deterministic: one `random.Random(seed)` drives every choice, and all dates
hang off one anchor time, so the same seed gives the same company. Idempotent:
a `demo_loaded` audit event marks a loaded demo and a second run does nothing.

This module only decides what the company looks like, as plain data; every
row is written by the apps' public services. Users and teams go through
accounts' services. Companies and people, with their 18 months of history
(emails, phones, a chain of stage changes with actors and reasons, activities,
and the audit events of all of it, each dated when it happened), go through
`people.bulk.create_companies_with_history` and `create_people_with_history`:
what the one-by-one services would have written, in a handful of INSERTs
(the services one by one would need ~60,000 queries). Campaigns, their
touchpoints and the newsletter consents are planned and written in
tandem/demo/engagement.py; the gated guide's form in capture/demo.py; the
sales desk in tandem/demo/handoffs.py; programmes, budgets, costs and the customer
days in tandem/demo/budgets.py; pipelines and deals in tandem/demo/revenue.py.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import phonenumbers
from django.db import transaction
from django.utils import timezone

from tandem.accounts.actor import Actor
from tandem.accounts.models import Role, Team, User
from tandem.accounts.services import create_team, create_user
from tandem.capture.demo import ensure_demo_guide_form
from tandem.core.audit import record_audit
from tandem.core.models import AuditEvent
from tandem.demo import handoffs, revenue
from tandem.demo.budgets import Budgets
from tandem.demo.engagement import Engagement
from tandem.demo.words import (
    ACTIVITY_COUNTS,
    ACTIVITY_TEXT,
    COMPANY_HEADS,
    COMPANY_TAILS,
    COUNTRIES,
    DAYS_TO,
    DISQUALIFY_REASONS,
    FINAL_STAGES,
    FORWARD_REASONS,
    FUNNEL,
    INBOUND,
    INDUSTRIES,
    OUTCOMES,
    PERSONAL_DOMAINS,
    RECYCLE_REASONS,
    SEND_BACK_REASONS,
    SIZES,
    SOURCES,
    TITLES,
)
from tandem.people.bulk import (
    PastActivity,
    PastCompany,
    PastPerson,
    PastStep,
    create_companies_with_history,
    create_people_with_history,
)
from tandem.people.models import FUNNEL_ORDER, ActivityKind, Company, Person, PhoneKind, Stage
from tandem.scoring.demo import load_demo_rules

T = TypeVar("T")

DEMO_SEED = 20261123
DEMO_PASSWORD = "tandem-demo"  # noqa: S105 (printed on purpose: demo logins)
MARKER_EVENT = "demo_loaded"
HISTORY_DAYS = 548  # 18 months


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    team: str
    first_name: str
    last_name: str


DEMO_LOGINS = (
    DemoLogin("admin", Role.ADMIN, "Management", "Robin", "Hayes"),
    # The sales manager: hears of breached SLAs, answers for the team's leads (issue 20).
    DemoLogin("manager", Role.MANAGER, "Sales", "Morgan", "Ellis"),
    DemoLogin("marketer", Role.MARKETER, "Marketing", "Maya", "Fischer"),
    DemoLogin("sales1", Role.SALESPERSON, "Sales", "Sam", "Ortega"),
    DemoLogin("sales2", Role.SALESPERSON, "Sales", "Priya", "Nair"),
    DemoLogin("sales3", Role.SALESPERSON, "Sales", "Jonas", "Weber"),
)
TEAMS = (
    ("Management", "The owners."),
    ("Marketing", "Campaigns, content, forms and events."),
    ("Sales", "Accepts leads, calls, meets and closes."),
)


# --- helpers --------------------------------------------------------------------------


def _weighted(rng: random.Random, items: Sequence[tuple[T, int]]) -> T:
    return rng.choices([i for i, _ in items], weights=[w for _, w in items])[0]


def _ascii(value: str) -> str:
    """ASCII letters for an email local part: "Jörg Müller" → "jorg", "muller"."""
    value = value.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("Å", "A")
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in ".-")).lower()


def _slug(value: str) -> str:
    return "".join(c for c in _ascii(value.replace(" ", "-")) if c.isalnum() or c == "-")


def _postcode(rng: random.Random, pattern: str) -> str:
    out = []
    for c in pattern:
        if c == "#":
            out.append(str(rng.randint(0, 9)))
        elif c == "A":
            out.append(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ"))
        else:
            out.append(c)
    return "".join(out)


class _Phones:
    """Well-formed numbers that phonenumbers accepts, unique across the demo."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def make(self, country: str, kind: str) -> str:
        number_type = (
            phonenumbers.PhoneNumberType.MOBILE
            if kind == PhoneKind.MOBILE
            else phonenumbers.PhoneNumberType.FIXED_LINE
        )
        example = phonenumbers.example_number_for_type(country, number_type)
        assert example is not None
        national = str(example.national_number)
        for _ in range(50):
            tail = "".join(str(self.rng.randint(0, 9)) for _ in range(5))
            candidate = phonenumbers.PhoneNumber(
                country_code=example.country_code, national_number=int(national[:-5] + tail)
            )
            e164 = phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
            if e164 not in self.used and phonenumbers.is_valid_number(candidate):
                self.used.add(e164)
                # Typed the way people type them: mostly international, some national.
                fmt = (
                    phonenumbers.PhoneNumberFormat.NATIONAL
                    if self.rng.random() < 0.3
                    else phonenumbers.PhoneNumberFormat.INTERNATIONAL
                )
                return phonenumbers.format_number(candidate, fmt)
        raise RuntimeError(f"no valid {kind} number found for {country}")


@dataclass
class _Step:
    to_stage: str
    at: dt.datetime
    actor: Actor
    reason: str


@dataclass
class _CompanyPlan:
    name: str
    domain: str
    industry: str
    size: str
    country: str
    owner: User | None

    def data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "domain": self.domain,
            "industry": self.industry,
            "size": self.size,
            "country": self.country,
            "owner": self.owner,
        }


@dataclass
class _PersonPlan:
    """One person as planned: their fields, company (an index), and their raw-time history."""

    data: dict[str, Any]
    company: int | None
    email: str
    phone: str
    extra_email: str
    extra_phone: str
    steps: list[_Step]
    final: str
    source: str
    owner_actor: Actor
    activities: list[PastActivity] = field(default_factory=list)


@dataclass
class DemoResult:
    loaded: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)


# --- the builder ----------------------------------------------------------------------


class DemoBuilder:
    def __init__(self, *, seed: int = DEMO_SEED, now: dt.datetime | None = None):
        self.rng = random.Random(seed)
        anchor = now or timezone.now()
        # Midnight UTC: every event lies before it, and office hours fit in each day.
        self.now = anchor.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.start = self.now - dt.timedelta(days=HISTORY_DAYS)
        self.system = Actor.system("demo")
        self.web_form = Actor.system("web form")
        self.phones = _Phones(self.rng)
        self.emails: set[str] = set()
        self.company_notes = 0

    def _office(self, at: dt.datetime) -> dt.datetime:
        """The same day, squeezed into 08:00–18:00.

        Strictly increasing, so every order among the raw times (created before
        the first move, activities after creation) holds after it too.
        """
        day = at.replace(hour=0, minute=0, second=0, microsecond=0)
        return day + dt.timedelta(hours=8) + (at - day) * 10 / 24

    # users and teams, through the services

    def build_users(self) -> dict[str, User]:
        teams: dict[str, Team] = {
            name: Team.objects.filter(name__iexact=name).first()
            or create_team(actor=self.system, name=name, description=description)
            for name, description in TEAMS
        }
        users = {}
        for login in DEMO_LOGINS:
            users[login.username] = create_user(
                actor=self.system,
                username=login.username,
                password=DEMO_PASSWORD,
                data={
                    "first_name": login.first_name,
                    "last_name": login.last_name,
                    "email": f"{login.first_name}.{login.last_name}@ourcompany.example".lower(),
                    "role": login.role,
                    "team": teams[login.team],
                },
            )
        return users

    # companies: plain data, written with their history once the people are planned

    def build_companies(self, count: int, sales: list[User]) -> list[_CompanyPlan]:
        rng = self.rng
        names: set[str] = set()
        companies: list[_CompanyPlan] = []
        while len(companies) < count:
            country = _weighted(rng, [(c, c.weight) for c in COUNTRIES])
            word, industry, _ = rng.choices(INDUSTRIES, weights=[w for *_, w in INDUSTRIES])[0]
            base = rng.choice(COMPANY_HEADS) + rng.choice(COMPANY_TAILS)
            name = f"{base} {word}" if rng.random() < 0.7 else base
            if name in names:
                continue
            names.add(name)
            legal = rng.choice(country.legal_forms)
            companies.append(
                _CompanyPlan(
                    name=f"{name} {legal}",
                    domain=f"{_slug(name)}.example",
                    industry=industry,
                    size=_weighted(rng, SIZES),
                    country=country.code,
                    owner=rng.choice(sales) if rng.random() < 0.6 else None,
                )
            )
        return companies

    # people, with their history

    def _path(self, final: str, source: str) -> list[tuple[str, str]]:
        """(stage, reason) moves after creation; the first item is the created stage."""
        rng = self.rng
        start: str = (
            Stage.SUBSCRIBER
            if final == Stage.SUBSCRIBER or (source in INBOUND and rng.random() < 0.55)
            else Stage.LEAD
        )
        if final in (Stage.DISQUALIFIED, Stage.RECYCLED):
            last_funnel: str = (
                _weighted(
                    rng, [(Stage.LEAD, 5), (Stage.MQL, 3), (Stage.SAL, 2), (Stage.OPPORTUNITY, 1)]
                )
                if final == Stage.DISQUALIFIED
                else _weighted(rng, [(Stage.MQL, 3), (Stage.SAL, 3), (Stage.OPPORTUNITY, 2)])
            )
        else:
            last_funnel = final
        if FUNNEL_ORDER[last_funnel] < FUNNEL_ORDER[start]:
            start = last_funnel
        moves: list[tuple[str, str]] = [(start, "")]
        for stage in FUNNEL[FUNNEL_ORDER[start] + 1 : FUNNEL_ORDER[last_funnel] + 1]:
            moves.append((stage, rng.choice(FORWARD_REASONS[stage])))
            # Some handoffs come back from sales with a reason, then go again (J3).
            if stage == Stage.SAL and rng.random() < 0.15:
                moves.append((Stage.MQL, rng.choice(SEND_BACK_REASONS)))
                moves.append((Stage.SAL, rng.choice(FORWARD_REASONS[Stage.SAL])))
        if final == Stage.MQL and rng.random() < 0.12:  # sent back, now in nurture again
            moves.append((Stage.SAL, rng.choice(FORWARD_REASONS[Stage.SAL])))
            moves.append((Stage.MQL, rng.choice(SEND_BACK_REASONS)))
        if final == Stage.DISQUALIFIED:
            moves.append((final, rng.choice(DISQUALIFY_REASONS)))
        elif final == Stage.RECYCLED:
            moves.append((final, rng.choice(RECYCLE_REASONS)))
        return moves

    def _times(self, moves: list[tuple[str, str]]) -> list[dt.datetime]:
        """Creation time and one time per move, walking forward and never past `now`."""
        rng = self.rng
        gaps = [
            dt.timedelta(days=rng.uniform(*DAYS_TO.get(stage, (1, 20)))) for stage, _ in moves[1:]
        ]
        total = sum(gaps, dt.timedelta())
        span = self.now - self.start - dt.timedelta(hours=1)
        if total > span * 0.9:
            factor = (span * 0.9) / total
            gaps = [g * factor for g in gaps]
            total = sum(gaps, dt.timedelta())
        latest = span - total
        # More people arrive recently than 18 months ago: the company grows.
        created = self.start + latest * (rng.random() ** 0.8)
        times = [created]
        for gap in gaps:
            times.append(times[-1] + gap)
        return times

    def _email(self, first: str, last: str, domain: str) -> str:
        local = ".".join(p for p in (_ascii(first), _ascii(last.replace(" ", ""))) if p)
        local = local or "info"
        candidate, n = local, 1
        while f"{candidate}@{domain}" in self.emails:
            n += 1
            candidate = f"{local}{n}"
        address = f"{candidate}@{domain}"
        self.emails.add(address)
        if self.rng.random() < 0.1:  # typed with capitals; the normalised form is lower-case
            address = f"{candidate.title()}@{domain.capitalize()}"
        return address

    def build_people(
        self, count: int, companies: list[_CompanyPlan], users: dict[str, User]
    ) -> list[_PersonPlan]:
        rng = self.rng
        sales = [users[u.username] for u in DEMO_LOGINS if u.role == Role.SALESPERSON]
        marketer = Actor.for_user(users["marketer"])
        manager = Actor.for_user(users["manager"])
        by_country = {c.code: c for c in COUNTRIES}

        plans: list[_PersonPlan] = []
        for _ in range(count):
            index = rng.randrange(len(companies)) if rng.random() < 0.85 else None
            company = companies[index] if index is not None else None
            country = (
                by_country[company.country]
                if company
                else _weighted(rng, [(c, c.weight) for c in COUNTRIES])
            )
            source = _weighted(rng, SOURCES)
            final = _weighted(rng, FINAL_STAGES)
            moves = self._path(final, source)
            times = self._times(moves)
            deep = any(FUNNEL_ORDER.get(s, 0) >= FUNNEL_ORDER[Stage.SAL] for s, _ in moves)
            if deep:
                owner = company.owner if company and company.owner else rng.choice(sales)
            elif source in ("trade show", "sales prospecting", "referral") or rng.random() < 0.15:
                owner = rng.choice(sales)
            else:
                owner = None
            owner_actor = Actor.for_user(owner) if owner else marketer
            creator = (
                self.web_form
                if source in INBOUND
                else Actor.for_user(owner)
                if owner and source != "partner"
                else marketer
            )
            nameless = final == Stage.SUBSCRIBER and rng.random() < 0.05
            first = "" if nameless else rng.choice(country.first_names)
            last = "" if nameless else rng.choice(country.last_names)
            domain = company.domain if company else rng.choice(PERSONAL_DOMAINS)
            if nameless:
                first_for_email, last_for_email = rng.choice(country.first_names), ""
            else:
                first_for_email, last_for_email = first, last
            email = self._email(first_for_email, last_for_email, domain)
            city, region, pattern = rng.choice(country.cities)
            has_address = company is not None and rng.random() < 0.7
            number = str(rng.randint(1, 180))
            street_name = rng.choice(country.streets)
            street = (
                f"{number} {street_name}"
                if country.street_number_first
                else f"{street_name} {number}"
            )
            phone = ""
            if source not in ("newsletter",) and rng.random() < (0.85 if deep else 0.45):
                phone = self.phones.make(country.code, PhoneKind.WORK)
            data = {
                "first_name": first,
                "last_name": last,
                "title": "" if nameless or rng.random() < 0.1 else _weighted(rng, TITLES),
                "street": street if has_address else "",
                "city": city if has_address or rng.random() < 0.5 else "",
                "postcode": _postcode(rng, pattern) if has_address else "",
                "region": region if has_address else "",
                "country": country.code,
                "owner": owner,
                "source": source,
            }
            steps = [
                _Step(moves[0][0], times[0], creator, "Created"),
                *(
                    _Step(
                        stage,
                        at,
                        manager
                        if stage == Stage.ADVOCATE and rng.random() < 0.3
                        else marketer
                        if stage in (Stage.LEAD, Stage.MQL) and FUNNEL_ORDER.get(prev, 0) < 2
                        else owner_actor,
                        reason,
                    )
                    for (stage, reason), at, (prev, _) in zip(
                        moves[1:], times[1:], moves[:-1], strict=True
                    )
                ),
            ]
            extra_email = ""
            if not nameless and rng.random() < 0.15:
                extra_email = self._email(first, last, rng.choice(PERSONAL_DOMAINS))
            extra_phone = ""
            if phone and rng.random() < 0.15:
                extra_phone = self.phones.make(country.code, PhoneKind.MOBILE)
            plan = _PersonPlan(
                data=data,
                company=index,
                email=email,
                phone=phone,
                extra_email=extra_email,
                extra_phone=extra_phone,
                steps=steps,
                final=final,
                source=source,
                owner_actor=owner_actor,
            )
            plan.activities = self._activities(plan, marketer)
            plans.append(plan)
        return plans

    def write_people(self, plans: list[_PersonPlan], companies: list[Company]) -> list[Person]:
        """The planned people, with their history, through `create_people_with_history`."""
        return create_people_with_history(
            people=[
                PastPerson(
                    data={
                        **plan.data,
                        "company": companies[plan.company] if plan.company is not None else None,
                    },
                    steps=[
                        PastStep(step.to_stage, self._office(step.at), step.actor, step.reason)
                        for step in plan.steps
                    ],
                    email=plan.email,
                    phone=plan.phone,
                    more_emails=[plan.extra_email] if plan.extra_email else [],
                    more_phones=[(plan.extra_phone, PhoneKind.MOBILE)] if plan.extra_phone else [],
                    activities=plan.activities,
                )
                for plan in plans
            ]
        )

    def _activities(self, plan: _PersonPlan, marketer: Actor) -> list[PastActivity]:
        rng = self.rng
        steps = plan.steps
        low, high = ACTIVITY_COUNTS[plan.final]
        created = steps[0].at
        ended = plan.final in (Stage.DISQUALIFIED, Stage.RECYCLED)
        until = steps[-1].at if ended else self.now
        out = []
        for _ in range(rng.randint(low, high)):
            at = created + (until - created) * rng.random()
            deep = FUNNEL_ORDER.get(
                max((s for s in steps if s.at <= at), key=lambda s: s.at).to_stage, 0
            ) >= FUNNEL_ORDER[Stage.SAL] or (ended and rng.random() < 0.5)
            kind = (
                _weighted(
                    rng,
                    [
                        (ActivityKind.CALL, 4),
                        (ActivityKind.MEETING, 3),
                        (ActivityKind.EMAIL, 3),
                        (ActivityKind.NOTE, 2),
                    ],
                )
                if deep
                else _weighted(
                    rng, [(ActivityKind.EMAIL, 4), (ActivityKind.NOTE, 2), (ActivityKind.CALL, 1)]
                )
            )
            actor = plan.owner_actor if deep or kind == ActivityKind.CALL else marketer
            subject, body = rng.choice(ACTIVITY_TEXT[kind])
            out.append(
                PastActivity(
                    kind=kind,
                    at=self._office(at),
                    actor=actor,
                    subject=subject,
                    body=body,
                    outcome=rng.choice(OUTCOMES[kind]),
                )
            )
        return out

    def write_companies(
        self, companies: list[_CompanyPlan], people: list[_PersonPlan]
    ) -> list[Company]:
        """Each company dated a little before its first person (or on a random day), most
        owned ones with an account note, through `create_companies_with_history`."""
        rng = self.rng
        first_seen: dict[int, dt.datetime] = {}
        for plan in people:
            if plan.company is None:
                continue
            created_at = self._office(plan.steps[0].at)
            if plan.company not in first_seen or created_at < first_seen[plan.company]:
                first_seen[plan.company] = created_at
        past = []
        for index, company in enumerate(companies):
            created = first_seen.get(index) or (self.start + (self.now - self.start) * rng.random())
            at = created - dt.timedelta(hours=rng.randint(1, 72))
            notes = []
            if company.owner and rng.random() < 0.8:
                notes.append(
                    PastActivity(
                        kind=ActivityKind.NOTE,
                        at=max(
                            created, self._office(created + (self.now - created) * rng.random())
                        ),
                        actor=Actor.for_user(company.owner),
                        subject="Account plan",
                        body=rng.choice(
                            (
                                "Expand from one team to the whole site next year.",
                                "Key contact is the operations lead; finance signs off.",
                                "Renewal in the spring; plan a review two months before.",
                                "Interested in a pilot in a second country.",
                            )
                        ),
                    )
                )
            past.append(
                PastCompany(data=company.data(), at=at, actor=self.system, activities=notes)
            )
        self.company_notes = sum(len(c.activities) for c in past)
        return create_companies_with_history(companies=past)


def demo_is_loaded() -> bool:
    return AuditEvent.objects.filter(event=MARKER_EVENT).exists()


def load_demo(
    *,
    seed: int = DEMO_SEED,
    people: int = 3000,
    companies: int = 300,
    now: dt.datetime | None = None,
) -> DemoResult:
    """Load the demo company once; a second call reports it is already there.

    It never mixes into a database of real data: taken user names or existing
    people stop it with a message, and nothing is written.
    """
    builder = DemoBuilder(seed=seed, now=now)
    with transaction.atomic():
        if demo_is_loaded():
            # A demo loaded before the guide form existed gets it now (idempotent).
            ensure_demo_guide_form(builder.system)
            return DemoResult(False, "The demo company is already loaded; nothing changed.")
        taken = sorted(
            User.objects.filter(username__in=[u.username for u in DEMO_LOGINS]).values_list(
                "username", flat=True
            )
        )
        if taken:
            return DemoResult(
                False,
                f"Not loading the demo: the user name(s) {', '.join(taken)} are taken "
                "in this database, which is not a demo database.",
            )
        if Person.objects.exists():
            return DemoResult(
                False, "Not loading the demo: this database already holds people of its own."
            )
        users = builder.build_users()
        sales = [users[u.username] for u in DEMO_LOGINS if u.role == Role.SALESPERSON]
        company_plans = builder.build_companies(companies, sales)
        people_plans = builder.build_people(people, company_plans, users)
        company_rows = builder.write_companies(company_plans, people_plans)
        persons = builder.write_people(people_plans, company_rows)
        counts = {
            "people": len(people_plans),
            "emails": sum(1 + bool(p.extra_email) for p in people_plans),
            "phones": sum(bool(p.phone) + bool(p.extra_phone) for p in people_plans),
            "stage_changes": sum(len(p.steps) for p in people_plans),
            "activities": sum(len(p.activities) for p in people_plans),
            "company_notes": builder.company_notes,
        }
        guide = ensure_demo_guide_form(builder.system)  # the J1 form: key demo-guide
        counts["web_forms"] = 1
        counts |= Engagement(
            rng=builder.rng,
            start=builder.start,
            now=builder.now,
            system=builder.system,
            marketer=users["marketer"],
            guide=guide,
        ).write(people_plans, persons)
        # The review queue is not empty on the first visit: the scan a new database's
        # owner would run (the demo people include a few that are one human).
        from tandem.dedup.services import scan_all

        counts["duplicate_pairs"] = scan_all().found
        # The sales desk before the rules: leads the rules lift to MQL are routed by it.
        counts |= handoffs.write(
            system=builder.system, users=users, rng=builder.rng, now=builder.now
        )
        # Issue 21: programmes, budgets and costs over the campaigns, the customer days,
        # two pipelines and the deals that follow the people's history (some opened from
        # the leads the sales desk just accepted).
        counts |= Budgets(
            rng=builder.rng, now=builder.now, marketer=Actor.for_user(users["marketer"])
        ).write()
        counts |= revenue.write(users=users, rng=builder.rng, now=builder.now)
        load_demo_rules(builder.system)  # scoring: active rules, everyone scored on commit
        counts = {"users": len(users), "companies": len(company_rows), **counts}
        record_audit(
            actor=builder.system,
            event=MARKER_EVENT,
            target=users["admin"],
            changes={"seed": [None, seed], "anchor": [None, builder.now.isoformat()]},
        )
    return DemoResult(True, "Loaded the demo company.", counts)

"""Revenue bench data (issue 21): people, touchpoints, stage history, campaigns and deals.

    python -m bench.revenue_data --db sqlite|postgres [--people 1000000]
        [--touchpoints 5000000] [--deals 50000] [--fresh]

Fills a database with deterministic data made in set-based SQL (no random numbers:
every value is a formula of the row number) and keeps it, so the revenue benches
(bench/attribution.py, bench/funnel.py, bench/deal_board.py) reuse one fill:

- SQLite: the file `tandem.sqlite3` in `$TANDEM_BENCH_DIR/revenue-P-T-D/` (P, T, D
  the three counts), `TANDEM_BENCH_DIR` defaulting to `$TANDEM_DATA_DIR/bench`
  (`./data/bench`). Serve it with `TANDEM_DATA_DIR=<that folder>`.
- PostgreSQL: the database `tandem_revenue_P_T_D` on 127.0.0.1:5432.

A second run with the same counts reuses a filled database; `--fresh` drops it and
fills again. From another bench:

    from bench import revenue_data
    info = revenue_data.fill("sqlite", people=1_000_000, touchpoints=5_000_000,
                             deals=50_000, keep=True)
    # Django is now set up on that database; info.manager / info.password sign in.

What is in it (all in the year `START` .. `END`):
- users: 2 teams ("Revenue North", "Revenue South") of 8 salespeople and a manager,
  a marketer and an admin; `rev-manager`, `rev-marketer` and `rev-admin` have the
  password `PASSWORD`.
- companies: max(people / 10, 2 * deals), 10 people each (`people >= 3 * companies`);
  person p belongs to company 1 + (p - 1) % companies.
- 198 campaigns: 9 groups (paid search, paid social, newsletter, content, webinars,
  roadshow events, trade shows, outbound, partner referrals), each with 2 parents
  (H1, H2) and 20 children under them; planned budgets on all, 6 cost lines on every
  child (1,080 lines).
- touchpoints: half spread evenly over all people, half on the engaged fifth (the first
  two people of every company); kinds online (page visits, form fills, email clicks and
  opens) and offline (event visits, booth scans, calls, meetings, sales-sourced,
  referrals) with channel, utm_source/medium/campaign and the campaign; every touch
  within 45 days after the person entered. Companies whose id is a multiple of 25 have
  no touchpoint at all (their deals are "unattributed").
- stage history (people_stagechange, ~3 rows a person): subscriber (80 %) -> lead ->
  mql (70 %) -> sal (35 %), with exits to disqualified and recycled; every deal contact
  goes lead -> mql -> sal before the deal, -> opportunity when the deal is created and
  -> customer when it is won. people.stage is the last step.
- deals: deal d belongs to company 2d - 1 with 1-3 contacts (that company's first
  people: decision maker, champion, user), created 77-97 days after the company
  entered (after all its contacts' touches); 80 % in "New business" (5 stages),
  20 % in "Expansion" (3 stages); 35 % open in every stage, 25 % won, 40 % lost with
  reasons (and a competitor when lost to one); amounts 5k-100k EUR (expansion
  2k-32k), every tenth deal in USD at a rate of 0.90-0.93; stage history rows
  (deals_dealstagechange) for every move and close.
"""

# ruff: noqa: S608 — the SQL is built from the bench's own constants and counts, no input

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.common import database_label, machine_label, move_sequences, series_sql, use_database

START = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)
END = START + dt.timedelta(days=365)
PASSWORD = "bench-revenue-2026"  # a bench database's users, not a secret
MANAGER = "rev-manager"
MARKETER = "rev-marketer"
ADMIN = "rev-admin"
TEAMS = ("Revenue North", "Revenue South")
SALES_PER_TEAM = 8
DAY = 1440  # minutes

# Campaign groups: (key prefix, name, CampaignKind).
GROUPS = (
    ("paid-search", "Paid search", "paid"),
    ("paid-social", "Paid social", "social"),
    ("newsletter", "Newsletter", "email"),
    ("content", "Guides and white papers", "content"),
    ("webinar", "Webinars", "webinar"),
    ("roadshow", "Roadshow events", "event"),
    ("trade-show", "Trade shows", "trade_show"),
    ("outbound", "Outbound", "other"),
    ("referral", "Partner referrals", "referral"),
)
PARENTS = 2 * len(GROUPS)  # ids 1..18, children from 19
CHILDREN_PER_GROUP = 20
CAMPAIGNS = PARENTS + CHILDREN_PER_GROUP * len(GROUPS)

# Touch types: (kind, channel, utm_source, utm_medium, campaign group or -1). Repeats weigh.
TOUCH_TYPES = (
    ("page_visit", "web", "google", "organic", -1),
    ("page_visit", "paid", "google", "cpc", 0),
    ("page_visit", "paid", "linkedin", "paid_social", 1),
    ("email_click", "email", "newsletter", "email", 2),
    ("email_open", "email", "newsletter", "email", 2),
    ("form_fill", "web", "google", "organic", 3),
    ("form_fill", "web", "linkedin", "social", 4),
    ("event_visit", "event", "", "", 4),
    ("event_visit", "event", "", "", 5),
    ("booth_scan", "event", "", "", 6),
    ("call", "outbound", "", "", 7),
    ("meeting", "outbound", "", "", 7),
    ("sales_sourced", "outbound", "", "", 7),
    ("referral", "referral", "", "", 8),
    ("page_visit", "web", "", "direct", -1),
    ("email_click", "email", "newsletter", "email", 2),
    ("page_visit", "paid", "google", "cpc", 0),
    ("form_fill", "paid", "google", "cpc", 0),
)
OFFLINE_KINDS = ("event_visit", "booth_scan", "call", "meeting", "sales_sourced", "referral")
LOCATIONS = ("Berlin", "Munich", "Vienna", "Zurich", "Hamburg", "Amsterdam")

INDUSTRIES = ("Software", "Manufacturing", "Logistics", "Retail", "Finance", "Health")
SIZES = ("1-10", "11-50", "51-200", "201-1000", "1001+")
COUNTRIES = ("DE", "DE", "AT", "CH", "NL", "FR", "GB", "US")
TITLES = ("Head of IT", "VP Sales", "CEO", "IT Manager", "Engineer", "Analyst", "CFO")
SOURCES = ("website", "webinar", "trade show", "referral", "paid search", "linkedin")

PIPELINES = (
    (
        "New business",
        (
            ("Qualification", 10),
            ("Discovery", 20),
            ("Proposal", 50),
            ("Negotiation", 75),
            ("Contract sent", 90),
        ),
    ),
    ("Expansion", (("Scoping", 25), ("Proposal", 60), ("Negotiation", 80))),
)
WON_REASONS = ("Best product fit", "Price", "Relationship", "Time to value")
LOST_REASONS = ("Lost to competitor", "Price too high", "No decision", "Timing", "Missing feature")
COMPETITORS = ("Salesforce", "HubSpot", "Pipedrive", "Odoo")
ROLES = ("decision_maker", "champion", "user")


@dataclass
class Filled:
    """Where the data is and what it holds."""

    db: str
    location: str  # the SQLite file or the PostgreSQL database name
    people: int
    touchpoints: int
    deals: int
    companies: int
    seconds: float  # of this fill; 0 when a filled database was reused
    start: dt.datetime = START
    end: dt.datetime = END
    manager: str = MANAGER
    marketer: str = MARKETER
    admin: str = ADMIN
    password: str = PASSWORD


def companies_for(people: int, deals: int) -> int:
    return max(people // 10, 2 * deals, 1)


def pg_name(people: int, touchpoints: int, deals: int) -> str:
    return f"tandem_revenue_{people}_{touchpoints}_{deals}"


def sqlite_folder(people: int, touchpoints: int, deals: int) -> str:
    base = os.environ.get("TANDEM_BENCH_DIR") or os.path.join(
        os.environ.get("TANDEM_DATA_DIR") or os.path.join(os.getcwd(), "data"), "bench"
    )
    return os.path.abspath(os.path.join(base, f"revenue-{people}-{touchpoints}-{deals}"))


# SQL pieces per vendor -----------------------------------------------------------


class _Sql:
    def __init__(self, vendor: str) -> None:
        self.vendor = vendor
        self.pg = vendor == "postgresql"

    def series(self, count: int) -> str:
        return series_sql(self.vendor, count)

    def at(self, minutes: str) -> str:
        """The timestamp `minutes` (an integer expression) after START."""
        if self.pg:
            return f"(TIMESTAMPTZ '2025-12-01 00:00:00+00' + ({minutes}) * INTERVAL '1 minute')"
        return f"datetime('2025-12-01 00:00:00', '+' || ({minutes}) || ' minutes')"

    def day(self, days: str) -> str:
        """The date `days` after START."""
        if self.pg:
            return f"(DATE '2025-12-01' + ({days})::int)"
        return f"date('2025-12-01', '+' || ({days}) || ' days')"

    def plus_days(self, column: str, days: str) -> str:
        if self.pg:
            return f"({column} + ({days}) * INTERVAL '1 day')"
        return f"datetime({column}, '+' || ({days}) || ' days')"

    def money(self, cents: str) -> str:
        if self.pg:
            return f"(({cents})::numeric / 100)"
        return f"(({cents}) / 100.0)"


def _pick(values: tuple[str, ...] | list[str], expr: str) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"(CASE ({expr}) % {len(values)} {whens} END)"


def _pick_int(values: list[int], expr: str) -> str:
    whens = " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(values))
    return f"(CASE ({expr}) % {len(values)} {whens} END)"


def _company_entry(c: str) -> str:
    """Minutes after START a company's first person entered (day 0 to 249)."""
    return f"((({c}) * 7919) % 250 * {DAY} + (({c}) * 31) % {DAY})"


def _person_entry(p: str, c: str) -> str:
    return f"({_company_entry(c)} + (({p}) * 7) % 30 * {DAY} + (({p}) * 13) % {DAY})"


def _deal_created(d: str) -> str:
    return f"({_company_entry(f'2 * ({d}) - 1')} + (77 + (({d}) * 13) % 20) * {DAY} + (({d}) * 17) % 600)"


def _deal_closed(d: str) -> str:
    return f"({_deal_created(d)} + (5 + (({d}) * 17) % 14) * {DAY})"


def _deal_status(d: str) -> str:
    return f"(CASE WHEN (({d}) * 7) % 100 < 35 THEN 'open' WHEN (({d}) * 7) % 100 < 60 THEN 'won' ELSE 'lost' END)"


# Users, pipelines, reasons (a handful of rows, through the ORM) -------------------


def make_users() -> list[int]:
    """The sales teams, a marketer and an admin; returns the salespeople's ids."""
    from django.contrib.auth.hashers import make_password

    from tandem.accounts.models import Role, Team, User

    hashed = make_password(PASSWORD)
    teams = [Team.objects.get_or_create(name=name)[0] for name in TEAMS]
    for t, team in enumerate(teams):
        slug = team.name.split()[-1].lower()
        manager = MANAGER if t == 0 else f"rev-{slug}-manager"
        User.objects.get_or_create(
            username=manager,
            defaults={
                "role": Role.MANAGER,
                "team": team,
                "first_name": slug.title(),
                "last_name": "Manager",
                "password": hashed if t == 0 else "!",
            },
        )
        for i in range(1, SALES_PER_TEAM + 1):
            User.objects.get_or_create(
                username=f"rev-{slug}-{i:02d}",
                defaults={
                    "role": Role.SALESPERSON,
                    "team": team,
                    "first_name": f"Seller{i}",
                    "last_name": slug.title(),
                    "password": "!",
                },
            )
    User.objects.get_or_create(
        username=MARKETER,
        defaults={
            "role": Role.MARKETER,
            "first_name": "Mara",
            "last_name": "Marketing",
            "password": hashed,
        },
    )
    User.objects.get_or_create(
        username=ADMIN,
        defaults={
            "role": Role.ADMIN,
            "first_name": "Ada",
            "last_name": "Admin",
            "password": hashed,
            "is_staff": True,
        },
    )
    return list(
        User.objects.filter(role=Role.SALESPERSON, username__startswith="rev-")
        .order_by("id")
        .values_list("id", flat=True)
    )


def make_pipelines() -> tuple[list[list[int]], list[int], list[int]]:
    """Both pipelines' stage ids (in order), the won and the lost reason ids."""
    from tandem.deals.models import CloseReason, Pipeline, PipelineStage

    stages: list[list[int]] = []
    for position, (name, steps) in enumerate(PIPELINES):
        pipeline, _ = Pipeline.objects.get_or_create(
            name=name, defaults={"is_default": position == 0, "position": position}
        )
        ids = []
        for i, (stage, probability) in enumerate(steps, start=1):
            row, _ = PipelineStage.objects.get_or_create(
                pipeline=pipeline, name=stage, defaults={"position": i, "probability": probability}
            )
            ids.append(row.pk)
        stages.append(ids)
    reasons = []
    for kind, names in (("won", WON_REASONS), ("lost", LOST_REASONS)):
        reasons.append(
            [
                CloseReason.objects.get_or_create(kind=kind, name=name, defaults={"position": i})[
                    0
                ].pk
                for i, name in enumerate(names)
            ]
        )
    return stages, reasons[0], reasons[1]


# The set-based fill ---------------------------------------------------------------


def statements(
    vendor: str,
    *,
    people: int,
    touchpoints: int,
    deals: int,
    sales: list[int],
    marketer: int,
    stages: list[list[int]],
    won: list[int],
    lost: list[int],
) -> list[tuple[str, str]]:
    """(label, SQL) in order. Ids of companies, people, campaigns and deals are explicit."""
    q = _Sql(vendor)
    companies = companies_for(people, deals)
    empty = "'{}'"
    now = q.at(str(365 * DAY))
    out: list[tuple[str, str]] = []

    out.append(
        (
            "companies",
            f"""INSERT INTO people_company (id, name, name_key, domain, industry, size, country,
            owner_id, custom_fields, created_at, updated_at, deleted_at, import_job_id)
            SELECT n, 'Company ' || n, 'company ' || n, 'c' || n || '.example',
            {_pick(INDUSTRIES, "n")}, {_pick(SIZES, "n * 7")}, {_pick(COUNTRIES, "n * 3")},
            {_pick_int(sales, "n")}, {empty}, {q.at(_company_entry("n"))}, {now}, NULL, NULL
            FROM ({q.series(companies)}) AS s""",
        )
    )

    # People: entry time, whether they are a deal's contact, how far they get.
    contact = f"(c % 2 = 1 AND (c + 1) / 2 <= {deals} AND m < 1 + ((c + 1) / 2) % 3)"
    won_deal = f"({_deal_status('(c + 1) / 2')} = 'won')"
    sub = "((p * 31) % 10 < 8)"
    u = "((p * 7927) % 1000)"
    entry = _person_entry("p", "c")
    lead_t = f"({entry} + CASE WHEN {sub} THEN 2 * {DAY} ELSE 0 END)"
    mql_t = f"({lead_t} + (3 + p % 10) * {DAY})"
    sal_t = f"({mql_t} + (1 + p % 3) * {DAY})"
    opp_t = _deal_created("(c + 1) / 2")
    cust_t = _deal_closed("(c + 1) / 2")
    person_rows = f"""SELECT p, c, m FROM (SELECT n AS p, 1 + (n - 1) % {companies} AS c,
        (n - 1) / {companies} AS m FROM ({q.series(people)}) AS s0) AS s"""
    # (condition, from, to, minutes) for each step; the person's stage is the last that applies.
    steps = [
        (f"{sub}", "", "subscriber", entry),
        (f"NOT {sub}", "", "lead", entry),
        (f"{sub}", "subscriber", "lead", lead_t),
        (f"NOT {contact} AND {u} < 80", "lead", "disqualified", f"({lead_t} + 10 * {DAY})"),
        (f"({contact} OR {u} >= 300)", "lead", "mql", mql_t),
        (
            f"NOT {contact} AND {u} >= 300 AND {u} < 360",
            "mql",
            "disqualified",
            f"({mql_t} + 5 * {DAY})",
        ),
        (f"({contact} OR {u} >= 650)", "mql", "sal", sal_t),
        (
            f"NOT {contact} AND {u} >= 650 AND {u} < 700",
            "sal",
            "recycled",
            f"({sal_t} + 20 * {DAY})",
        ),
        (contact, "sal", "opportunity", opp_t),
        (f"{contact} AND {won_deal}", "opportunity", "customer", cust_t),
    ]
    stage_case = (
        "CASE "
        + " ".join(f"WHEN {cond} THEN '{to}'" for cond, _, to, _ in reversed(steps))
        + " END"
    )
    changed_case = (
        "CASE "
        + " ".join(f"WHEN {cond} THEN {minutes}" for cond, _, _, minutes in reversed(steps))
        + " END"
    )
    owned = f"({contact} OR {u} >= 650)"
    out.append(
        (
            "people",
            f"""INSERT INTO people_person (id, first_name, last_name, first_name_key, last_name_key,
            email, phone, title, company_id, street, city, postcode, region, country, owner_id,
            stage, stage_changed_at, source, custom_fields, created_at, updated_at, deleted_at,
            merged_into_id, import_job_id)
            SELECT p, 'First' || p, 'Last' || p, 'first' || p, 'last' || p,
            'p' || p || '@c' || c || '.example', '', {_pick(TITLES, "p * 11")}, c, '',
            {_pick(LOCATIONS, "c")}, '10115', '', 'DE',
            CASE WHEN {owned} THEN {_pick_int(sales, "c")} ELSE NULL END,
            {stage_case}, {q.at(changed_case)}, {_pick(SOURCES, "p * 3")}, {empty},
            {q.at(entry)}, {q.at(changed_case)}, NULL, NULL, NULL
            FROM ({person_rows}) AS r""",
        )
    )
    for cond, from_stage, to_stage, minutes in steps:
        out.append(
            (
                f"stage changes -> {to_stage}",
                f"""INSERT INTO people_stagechange (person_id, from_stage, to_stage, changed_at,
                actor_id, actor_label, reason)
                SELECT p, '{from_stage}', '{to_stage}', {q.at(minutes)},
                NULL, 'bench', ''
                FROM ({person_rows}) AS r WHERE {cond}""",
            )
        )

    # Campaigns: parents 1..18 (two per group), children 19..198.
    parent_rows = []
    child_rows = []
    for g, (slug, name, kind) in enumerate(GROUPS):
        for h in range(2):
            cid = 1 + 2 * g + h
            budget = 20 * 6 * 2750 // 2 * (h + 1)
            parent_rows.append(
                f"({cid}, '{name} H{h + 1}', '{slug}-h{h + 1}', '{kind}', {budget}, CAST(NULL AS BIGINT))"
            )
        for i in range(CHILDREN_PER_GROUP):
            cid = PARENTS + 1 + g * CHILDREN_PER_GROUP + i
            parent = 1 + 2 * g + i // (CHILDREN_PER_GROUP // 2)
            budget = 15000 + (cid * 37) % 20 * 1000
            child_rows.append(
                f"({cid}, '{name} #{i + 1}', '{slug}-{i + 1}', '{kind}', {budget}, {parent})"
            )
    for label, rows in (("campaigns (parents)", parent_rows), ("campaigns", child_rows)):
        out.append(
            (
                label,
                f"""INSERT INTO campaigns_campaign (id, name, key, kind, description, starts_on,
                ends_on, owner_id, is_active, created_at, parent_id, planned_budget)
                SELECT v.id, v.name, v.key, v.kind, '', {q.day("0")}, {q.day("364")},
                {marketer}, TRUE, {q.at("0")}, v.parent, v.budget
                FROM (VALUES {", ".join(rows)}) AS v(id, name, key, kind, budget, parent)"""
                if q.pg
                else f"""INSERT INTO campaigns_campaign (id, name, key, kind, description, starts_on,
                ends_on, owner_id, is_active, created_at, parent_id, planned_budget)
                SELECT column1, column2, column3, column4, '', {q.day("0")}, {q.day("364")},
                {marketer}, 1, {q.at("0")}, column6, column5
                FROM (VALUES {", ".join(rows)})""",
            )
        )
    cost_lines = (CAMPAIGNS - PARENTS) * 6
    out.append(
        (
            "campaign costs",
            f"""INSERT INTO campaigns_campaigncost (campaign_id, spent_on, amount, note, created_by_id,
            created_at)
            SELECT cid, {q.day("k * 60 + cid % 28")},
            {q.money("50000 + (cid * 7919 + k * 104729) % 450000")}, 'Invoice ' || (k + 1),
            {marketer}, {now}
            FROM (SELECT {PARENTS} + 1 + (n - 1) / 6 AS cid, (n - 1) % 6 AS k
                  FROM ({q.series(cost_lines)}) AS s0) AS s""",
        )
    )

    # Touchpoints: half over everyone, half over the engaged fifth; skip dark companies.
    engaged = max(1, min(people, 2 * companies))
    half = touchpoints // 2
    x = f"(CASE WHEN n <= {half} THEN (n - 1) % {people} ELSE ((n - 1) * 7919) % {engaged} END)"
    touch_rows = f"""SELECT n, p, 1 + (p - 1) % {companies} AS c, (n * 13) % {len(TOUCH_TYPES)} AS t
        FROM (SELECT n, CASE WHEN ((x % {companies}) + 1) % 25 = 0 THEN x ELSE x + 1 END AS p
              FROM (SELECT n, {x} AS x FROM ({q.series(touchpoints)}) AS s0) AS s1) AS s2"""

    def by_type(index: int) -> str:
        return (
            "CASE t "
            + " ".join(f"WHEN {i} THEN '{tt[index]}'" for i, tt in enumerate(TOUCH_TYPES))
            + " END"
        )

    campaign_case = (
        "CASE t "
        + " ".join(
            f"WHEN {i} THEN {PARENTS + 1 + tt[4] * CHILDREN_PER_GROUP} + (n * 7) % {CHILDREN_PER_GROUP}"
            if tt[4] >= 0
            else f"WHEN {i} THEN NULL"
            for i, tt in enumerate(TOUCH_TYPES)
        )
        + " END"
    )
    utm_campaign_case = (
        "CASE t "
        + " ".join(
            f"WHEN {i} THEN '{GROUPS[tt[4]][0]}-' || (1 + (n * 7) % {CHILDREN_PER_GROUP})"
            if tt[4] >= 0 and tt[2]
            else f"WHEN {i} THEN ''"
            for i, tt in enumerate(TOUCH_TYPES)
        )
        + " END"
    )
    offline = ", ".join(str(i) for i, tt in enumerate(TOUCH_TYPES) if tt[0] in OFFLINE_KINDS)
    credited = ", ".join(
        str(i) for i, tt in enumerate(TOUCH_TYPES) if tt[0] in ("call", "meeting", "sales_sourced")
    )
    out.append(
        (
            "touchpoints",
            f"""INSERT INTO campaigns_touchpoint (person_id, kind, occurred_at, channel, campaign_id,
            utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, page_url,
            form_id, location, credited_to_id, note, detail, client_uuid, import_job_id,
            created_at)
            SELECT p, {by_type(0)}, {q.at(f"{_person_entry('p', 'c')} + (n * 104729) % {45 * DAY}")},
            {by_type(1)}, {campaign_case}, {by_type(2)}, {by_type(3)}, {utm_campaign_case},
            '', '', '',
            CASE WHEN t IN ({offline}) THEN '' ELSE 'https://example.com/p/' || (n % 40) END,
            NULL,
            CASE WHEN t IN ({offline}) THEN {_pick(LOCATIONS, "n")} ELSE '' END,
            CASE WHEN t IN ({credited}) THEN {_pick_int(sales, "c")} ELSE NULL END,
            '', {empty}, NULL, NULL, {now}
            FROM ({touch_rows}) AS r""",
        )
    )

    # Deals.
    new_stages, exp_stages = stages
    status = _deal_status("d")
    deal_rows = f"""SELECT d, 2 * d - 1 AS c, d % 5 = 0 AS expansion, {status} AS status,
        CASE WHEN d % 10 = 3 THEN 9000 + (d % 7) * 50 ELSE 10000 END AS rate,
        CASE WHEN d % 5 = 0 THEN 200000 + (d * 7919) % 3000000
             ELSE 500000 + (d * 7919) % 9500000 END AS cents,
        CASE WHEN {status} = 'won' THEN (CASE WHEN d % 5 = 0 THEN {len(exp_stages)} ELSE {len(new_stages)} END)
             ELSE 1 + (d * 11) % (CASE WHEN d % 5 = 0 THEN {len(exp_stages)} ELSE {len(new_stages)} END)
        END AS pos
        FROM (SELECT n AS d FROM ({q.series(deals)}) AS s0) AS s"""
    stage_case = (
        "CASE WHEN expansion THEN CASE pos "
        + " ".join(f"WHEN {i} THEN {sid}" for i, sid in enumerate(exp_stages, start=1))
        + " END ELSE CASE pos "
        + " ".join(f"WHEN {i} THEN {sid}" for i, sid in enumerate(new_stages, start=1))
        + " END END"
    )
    pipeline_case = (
        f"CASE WHEN expansion THEN (SELECT pipeline_id FROM deals_pipelinestage WHERE id = {exp_stages[0]}) "
        f"ELSE (SELECT pipeline_id FROM deals_pipelinestage WHERE id = {new_stages[0]}) END"
    )
    created = _deal_created("d")
    closed = _deal_closed("d")
    reason_case = (
        f"CASE status WHEN 'won' THEN {_pick_int(won, 'd')} "
        f"WHEN 'lost' THEN {_pick_int(lost, 'd * 3')} ELSE NULL END"
    )
    competitor = (
        f"CASE WHEN status = 'lost' AND (d * 3) % {len(lost)} = 0 THEN {_pick(COMPETITORS, 'd')} "
        f"WHEN status = 'won' AND d % 4 = 0 THEN {_pick(COMPETITORS, 'd / 4')} ELSE '' END"
    )
    out.append(
        (
            "deals",
            f"""INSERT INTO deals_deal (id, name, pipeline_id, stage_id, status, company_id, owner_id,
            amount, currency, exchange_rate, amount_base, expected_close_on, close_reason_id,
            close_note, competitor, description, created_by_id, created_at, updated_at,
            stage_changed_at, closed_at)
            SELECT d, 'Company ' || c || CASE WHEN expansion THEN ' - expansion' ELSE ' - new business' END,
            {pipeline_case}, {stage_case}, status, c, {_pick_int(sales, "c")},
            {q.money("cents")}, CASE WHEN rate = 10000 THEN 'EUR' ELSE 'USD' END,
            {"(rate::numeric / 10000)" if q.pg else "(rate / 10000.0)"},
            {q.money("(cents * rate + 5000) / 10000")},
            {q.day(f"({created}) / {DAY} + 30 + d % 60")},
            {reason_case}, '', {competitor}, '', {_pick_int(sales, "c")},
            {q.at(created)},
            {q.at(f"CASE WHEN status = 'open' THEN {created} + (pos - 1) * {DAY} ELSE {closed} END")},
            {q.at(f"{created} + (pos - 1) * {DAY}")},
            CASE WHEN status = 'open' THEN NULL ELSE {q.at(closed)} END
            FROM ({deal_rows}) AS r""",
        )
    )
    out.append(
        (
            "deal contacts",
            f"""INSERT INTO deals_dealcontact (deal_id, person_id, role, is_primary, added_at)
            SELECT d, 2 * d - 1 + j * {companies}, {_pick(ROLES, "j")}, j = 0, {q.at(_deal_created("d"))}
            FROM (SELECT 1 + (n - 1) / 3 AS d, (n - 1) % 3 AS j FROM ({q.series(3 * deals)}) AS s0) AS s
            WHERE j < 1 + d % 3""",
        )
    )
    out.append(
        (
            "deal stage history",
            f"""INSERT INTO deals_dealstagechange (deal_id, from_stage_id, to_stage_id, from_status,
            to_status, changed_at, changed_by_id, note)
            SELECT d.id, prev.id, s.id, CASE WHEN prev.id IS NULL THEN '' ELSE 'open' END, 'open',
            {q.plus_days("d.created_at", "s.position - 1")}, d.owner_id, ''
            FROM deals_deal d
            JOIN deals_pipelinestage cur ON cur.id = d.stage_id
            JOIN deals_pipelinestage s ON s.pipeline_id = d.pipeline_id AND s.position <= cur.position
            LEFT JOIN deals_pipelinestage prev ON prev.pipeline_id = d.pipeline_id
                AND prev.position = s.position - 1""",
        )
    )
    out.append(
        (
            "deal closes",
            """INSERT INTO deals_dealstagechange (deal_id, from_stage_id, to_stage_id, from_status,
            to_status, changed_at, changed_by_id, note)
            SELECT id, stage_id, stage_id, 'open', status, closed_at, owner_id, ''
            FROM deals_deal WHERE status <> 'open'""",
        )
    )
    return out


BULK_TABLES = ("people_person", "people_stagechange", "campaigns_touchpoint")


def _secondary_indexes(cursor: Any, vendor: str, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of a table's plain (not unique, not primary key) indexes."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%%' ORDER BY name",
            [table],
        )
    else:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
            "WHERE t.relname = %s AND NOT x.indisunique AND NOT x.indisprimary ORDER BY 1",
            [table],
        )
    return [(name, sql) for name, sql in cursor.fetchall()]


def _fill_rows(people: int, touchpoints: int, deals: int, verbose: bool) -> None:
    from django.db import connection, transaction

    from tandem.accounts.models import User

    vendor = connection.vendor
    sales = make_users()
    marketer = User.objects.get(username=MARKETER).pk
    stages, won, lost = make_pipelines()
    sql = statements(
        vendor,
        people=people,
        touchpoints=touchpoints,
        deals=deals,
        sales=sales,
        marketer=marketer,
        stages=stages,
        won=won,
        lost=lost,
    )
    if vendor == "sqlite":
        with connection.cursor() as cursor:
            # The rows are consistent by construction: no per-row foreign key look-ups
            # (a no-op inside a transaction, so before it).
            cursor.execute("PRAGMA foreign_keys = OFF")
    with transaction.atomic(), connection.cursor() as cursor:
        if vendor == "sqlite":
            cursor.execute("PRAGMA cache_size = -512000")  # 500 MB for the index builds
            cursor.execute("PRAGMA temp_store = MEMORY")  # their sorts in memory, not files
        else:
            cursor.execute("SET LOCAL session_replication_role = replica")  # no FK triggers
        # The big tables' secondary indexes are made again after their rows: one sort
        # each instead of millions of scattered B-tree inserts (9 -> ~2 minutes).
        indexes = [(t, *i) for t in BULK_TABLES for i in _secondary_indexes(cursor, vendor, t)]
        for _, name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for label, statement in sql:
            started = time.perf_counter()
            cursor.execute(statement)
            if verbose:
                print(
                    f"  {label}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.1f} s"
                )
        for table, name, definition in indexes:
            started = time.perf_counter()
            cursor.execute(definition)
            if verbose:
                print(f"  index {name} on {table}: {time.perf_counter() - started:.1f} s")
        move_sequences(
            cursor, ("people_company", "people_person", "campaigns_campaign", "deals_deal")
        )
    if vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys = ON")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if vendor == "sqlite" or not connection.in_atomic_block:  # (a test's transaction)
            cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")
    if verbose:
        print(f"  analyze: {time.perf_counter() - started:.1f} s")


def _is_filled(deals: int) -> bool:
    from tandem.deals.models import Deal

    return Deal.objects.count() == deals


def fill(
    db: str,
    people: int = 1_000_000,
    touchpoints: int = 5_000_000,
    deals: int = 50_000,
    keep: bool = True,
    verbose: bool = False,
) -> Filled:
    """Make (or with `keep`, reuse) the bench database and leave Django set up on it."""
    if db not in ("sqlite", "postgres"):
        raise ValueError("db is 'sqlite' or 'postgres'")
    companies = companies_for(people, deals)
    if people < 3 * companies:
        raise ValueError(f"people must be at least 3 x companies ({3 * companies:,}): 6 x deals")
    os.environ["TANDEM_TASKS"] = "database"
    location = use_database(
        db,
        pg_name=pg_name(people, touchpoints, deals),
        sqlite_folder=sqlite_folder(people, touchpoints, deals),
        keep=keep,
    )
    seconds = 0.0
    if not _is_filled(deals):
        from tandem.people.models import Person

        if Person.objects.exists():
            raise RuntimeError(f"{location} holds other data: run with keep=False (--fresh)")
        started = time.perf_counter()
        _fill_rows(people, touchpoints, deals, verbose)
        seconds = time.perf_counter() - started
    return Filled(
        db=db,
        location=location,
        people=people,
        touchpoints=touchpoints,
        deals=deals,
        companies=companies,
        seconds=seconds,
    )


def add_fill_arguments(parser: argparse.ArgumentParser) -> None:
    """--db and the three counts, as every bench on this data takes them."""
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--touchpoints", type=int, default=5_000_000)
    parser.add_argument("--deals", type=int, default=50_000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_fill_arguments(parser)
    parser.add_argument("--fresh", action="store_true", help="Drop a kept database and fill again.")
    args = parser.parse_args(argv)
    try:
        info = fill(
            args.db, args.people, args.touchpoints, args.deals, keep=not args.fresh, verbose=True
        )
    except ValueError as error:
        parser.error(str(error))
    print(f"{database_label()} · {machine_label()}")
    if info.seconds:
        print(
            f"Filled {info.people:,} people, {info.touchpoints:,} touchpoints, "
            f"{info.deals:,} deals ({info.companies:,} companies) in {info.seconds:.1f} s"
        )
    else:
        print(f"Reused the filled database {info.location}")
    print(f"Database: {info.location}; sign in as {info.manager} / {info.password}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

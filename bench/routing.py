"""Time moving 10k people to MQL and routing them (issue 20, point 2: ≤ 10 s).

    python -m bench.routing --db sqlite|postgres [--people 10000]

One command per database. It fills a fresh database with deterministic data (the
people, one company per ten with every fifth company owned, a touchpoint each with
one in eight a booth scan, 24 salespeople in three teams with capacities and some
out of office, SLA policies) and seven routing rules of every kind (named accounts,
three territories by country, region and postcode range, a segment, round-robin
and a fallback queue). Then it times `mql.qualify` for every person at once: the
stage change with its reason, the routing, the hand-offs, owners, audit events,
then (timed apart: the worker's part, enqueued on the commit) the notifications and
the booth and store leads' call tasks. SQLite
lives in a temporary TANDEM_DATA_DIR; PostgreSQL uses the database
`tandem_routing_bench` (dropped and made again).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter

from bench.common import database_label, machine_label, use_database

PG_NAME = "tandem_routing_bench"
COUNTRIES = ("DE", "DE", "DE", "AT", "CH", "FR", "NL", "US")
REGIONS = ("Bayern", "Berlin", "Hessen", "Sachsen", "")
INDUSTRIES = ("Software", "Manufacturing", "Logistics", "Retail", "Finance")
SIZES = ("1-10", "11-50", "51-200", "201-1000", "1001+")
KINDS = ("form_fill", "page_visit", "email_click", "event_visit", "form_fill", "page_visit",
         "store_visit", "booth_scan")  # fmt: skip


def fill(people: int) -> None:
    import datetime as dt

    from django.db import transaction

    from tandem.accounts.models import Role, Team, User
    from tandem.campaigns.models import Touchpoint
    from tandem.people.models import Company, Person
    from tandem.routing.models import OutOfOffice, SalesCapacity
    from tandem.sla.models import SlaPolicy

    at = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    with transaction.atomic():
        teams = [Team.objects.create(name=n) for n in ("DACH", "Bavaria", "International")]
        sellers = [
            User.objects.create_user(
                username=f"seller{i}", role=Role.SALESPERSON, team=teams[i % 3], first_name=f"S{i}"
            )
            for i in range(24)
        ]
        for i, user in enumerate(sellers):
            if i % 4 == 0:
                SalesCapacity.objects.create(user=user, max_open_handoffs=50 + i)
            if i % 6 == 1:
                OutOfOffice.objects.create(
                    user=user,
                    starts_on=dt.date(2020, 1, 1),
                    ends_on=dt.date(2099, 1, 1),
                    note="bench",
                )
        companies = [
            Company(
                name=f"Company {n}",
                name_key=f"company {n}",
                industry=INDUSTRIES[n % 5],
                size=SIZES[(n * 7) % 5],
                country=COUNTRIES[n % 8],
                owner=sellers[n % 24] if n % 5 == 0 else None,
            )
            for n in range(max(1, people // 10))
        ]
        Company.objects.bulk_create(companies, batch_size=2000)
        persons = [
            Person(
                first_name=f"First{n}",
                last_name=f"Last{n}",
                first_name_key=f"first{n}",
                last_name_key=f"last{n}",
                email=f"p{n}@example.com",
                company=companies[(n * 13) % len(companies)],
                country=COUNTRIES[(n * 3) % 8],
                region=REGIONS[n % 5],
                postcode=f"{(n * 7919) % 99999:05d}",
                stage="lead",
                stage_changed_at=at,
                source=("Web", "Trade show", "Store")[n % 3],
                custom_fields={"plan": "enterprise"} if n % 9 == 0 else {},
            )
            for n in range(people)
        ]
        Person.objects.bulk_create(persons, batch_size=2000)
        Touchpoint.objects.bulk_create(
            (
                Touchpoint(person=p, kind=KINDS[n % 8], occurred_at=at, detail={})
                for n, p in enumerate(persons)
            ),
            batch_size=2000,
        )
        SlaPolicy.objects.create(name="Booth", touchpoint_kind="booth_scan", minutes=5 * 8 * 60)
        SlaPolicy.objects.create(name="Store", touchpoint_kind="store_visit", minutes=8 * 60)
        SlaPolicy.objects.create(name="Web", source="Web", minutes=15, remind_at_share=0.5)


def add_rules() -> None:
    from tandem.accounts.actor import Actor
    from tandem.accounts.models import Team
    from tandem.people.models import CustomField
    from tandem.routing import services_rules

    actor = Actor.system("bench")
    CustomField.objects.create(entity="person", key="plan", label="Plan", field_type="text")
    dach, bavaria, world = (
        Team.objects.get(name=n).pk for n in ("DACH", "Bavaria", "International")
    )
    for data in (
        {"name": "Named accounts", "kind": "named_accounts"},
        {"name": "Enterprise plan", "kind": "segment", "custom_field": "plan",
         "custom_values": ["enterprise"], "industries": ["Software", "Finance"], "team": world},
        {"name": "Bavaria", "kind": "territory", "countries": ["DE"], "regions": ["Bayern"],
         "team": bavaria},
        {"name": "Berlin postcodes", "kind": "territory", "countries": ["DE"],
         "postcode_ranges": [["10000", "14999"]], "team": dach},
        {"name": "DACH", "kind": "territory", "countries": ["DE", "AT", "CH"], "team": dach},
        {"name": "Everyone else in turn", "kind": "round_robin", "team": world},
        {"name": "Queue", "kind": "fallback", "team": world},
    ):  # fmt: skip
        services_rules.create_rule(actor=actor, data=data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--people", type=int, default=10_000)
    args = parser.parse_args(argv)

    os.environ["TANDEM_TASKS"] = "database"
    folder = tempfile.mkdtemp(prefix="tandem-routing-bench-") if args.db == "sqlite" else ""
    use_database(args.db, pg_name=PG_NAME, sqlite_folder=folder, keep=False)
    from django.db import connection

    from tandem.followups.models import Task
    from tandem.notifications.models import Notification
    from tandem.people.models import Person
    from tandem.routing import engine, mql
    from tandem.routing.models import Handoff

    print(f"{database_label()} · {machine_label()} · load average {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    fill(args.people)
    add_rules()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"Filled {args.people:,} people in {time.perf_counter() - started:.1f} s")

    from django.urls import reverse

    reverse("people:detail", args=[1])  # a running worker has its URLs loaded already
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    reasons = dict.fromkeys(ids, "Score 60 reached the MQL threshold 50 (rule set v1)")
    started, cpu = time.perf_counter(), time.process_time()
    done = mql.qualify(reasons=reasons)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"moved {len(done.moved):,} people to MQL and routed {done.routed.count:,} in "
        f"{seconds:.2f} s ({done.routed.count / seconds:,.0f}/s; target ≤ 10 s), "
        f"this process's CPU {cpu:.1f} s, load average {os.getloadavg()[0]:.2f}"
    )
    handoff_ids = list(Handoff.objects.order_by("pk").values_list("pk", flat=True))
    started = time.perf_counter()
    told = engine.tell_owners(handoff_ids)  # what the enqueued worker tasks do
    print(
        f"then, in the worker: told the owners of {told:,} hand-offs (notifications, booth and "
        f"store call tasks) in {time.perf_counter() - started:.2f} s"
    )
    by_rule = Counter(Handoff.objects.values_list("routed_by", flat=True))
    print("by rule: " + ", ".join(f"{name} {n:,}" for name, n in by_rule.most_common()))
    print(
        f"{Notification.objects.count():,} notifications, {Task.objects.count():,} call tasks, "
        f"{Handoff.objects.filter(due_at__isnull=False).count():,} hand-offs with an SLA due time"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

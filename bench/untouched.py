"""Time the untouched-leads list on a million people (issue 20, point 4: ≤ 100 ms).

    python -m bench.untouched --db sqlite|postgres [--people 1000000] [--handoffs 50000] [--keep]

One command per database. It fills a database with deterministic data made in SQL:
`--people` people, 4 teams of 10 salespeople and a manager each, `--handoffs`
current hand-offs (one per person, routed over the last 30 days, 90% with a
60-minute SLA) of which 95% have had their first contact (the other 5%, half of
them without an SLA, are the untouched leads), and as many earlier
hand-offs of the same people that are no longer current. Then it calls
GET /api/v1/leads/untouched through the whole API stack (Django's test client,
a bearer token: authentication, permission, query, JSON) 20 times per case and
prints p50 and p95: a manager's first page (50), a manager's page deep in the
list (by cursor), a manager filtering by one owner and by one team, and a
salesperson's own list. SQLite lives in a temporary TANDEM_DATA_DIR (kept with
--keep); PostgreSQL uses the database `tandem_untouched_bench` (dropped and made
again unless --keep finds it filled). Exit status 1 if a p95 is over 100 ms.
"""

# ruff: noqa: S608 — the SQL is built from the bench's own constants and counts, no input

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

from bench.common import (
    database_label,
    machine_label,
    move_sequences,
    percentile,
    series_sql,
    use_database,
)

PG_NAME = "tandem_untouched_bench"
TEAMS = ("North", "South", "East", "West")
CALLS = 20
TARGET_MS = 100.0


def _minutes_after(vendor: str, base: str, minutes_expr: str) -> str:
    if vendor == "postgresql":
        return f"({base} + ({minutes_expr}) * INTERVAL '1 minute')"
    return f"datetime({base}, ({minutes_expr}) || ' minutes')"


def _pick_int(values: list[int], expr: str) -> str:
    whens = " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(values))
    return f"(CASE ({expr}) % {len(values)} {whens} END)"


def make_users() -> tuple[list[int], list[int], list[int]]:
    """The teams, their salespeople and managers (ids), through the accounts services."""
    from tandem.accounts.actor import Actor
    from tandem.accounts.models import Role, Team, User
    from tandem.accounts.services import create_user

    system = Actor.system("bench")
    teams = [Team.objects.get_or_create(name=name)[0] for name in TEAMS]
    for team in teams:
        for i in range(11):
            username = f"{team.name.lower()}{i:02d}" if i else f"{team.name.lower()}-manager"
            if not User.objects.filter(username=username).exists():
                create_user(
                    actor=system,
                    username=username,
                    password=None,
                    data={
                        "role": Role.SALESPERSON if i else Role.MANAGER,
                        "first_name": username.title(),
                        "team": team,
                    },
                )
    sales = list(
        User.objects.filter(role=Role.SALESPERSON, team__in=teams)
        .order_by("id")
        .values_list("id", flat=True)
    )
    managers = list(
        User.objects.filter(role=Role.MANAGER, team__in=teams)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return [t.pk for t in teams], sales, managers


def fill(people: int, handoffs: int) -> None:
    from django.db import connection, transaction

    vendor = connection.vendor
    team_ids, sales, _ = make_users()
    base = (
        "TIMESTAMPTZ '2026-11-01 00:00:00+00'"
        if vendor == "postgresql"
        else "'2026-11-01 00:00:00'"
    )
    empty_json = "'{}'"
    routed = _minutes_after(vendor, base, "-((n * 7919) % 43200)")  # the last 30 days
    # Owners by runs of 7 people, so untouched leads (every 20th) spread over all of them.
    owner = _pick_int(sales, "n / 7")
    team = _pick_int([team_ids[i // 10] for i in range(len(sales))], "n / 7")
    due = f"CASE WHEN n % 10 = 3 THEN NULL ELSE {_minutes_after(vendor, routed, '60')} END"
    contact = f"CASE WHEN n % 40 IN (0, 3) THEN NULL ELSE {_minutes_after(vendor, routed, '(n % 180) + 1')} END"
    columns = """person_id, owner_id, team_id, is_current, reason, rule_id, routed_by,
        routed_at, sla_policy_id, sla_name, due_at, remind_at, reassign_on_breach,
        first_contact_at, reminded_at, breached_at, status, responded_at, responded_by_id,
        send_back_reason, send_back_note"""
    statements = [
        f"""INSERT INTO people_person (id, first_name, last_name, first_name_key, last_name_key,
            email, phone, title, company_id, street, city, postcode, region, country, owner_id,
            stage, stage_changed_at, source, custom_fields, created_at, updated_at, deleted_at,
            merged_into_id, import_job_id)
            SELECT n, 'First' || n, 'Last' || n, 'first' || n, 'last' || n,
            'p' || n || '@example.com', '', '', NULL, '', 'Berlin', '10115', '', 'DE',
            CASE WHEN n <= {handoffs} THEN {owner} ELSE NULL END,
            CASE WHEN n <= {handoffs} THEN 'mql' ELSE 'lead' END, NULL, 'bench',
            {empty_json}, {base}, {base}, NULL, NULL, NULL
            FROM ({series_sql(vendor, people)}) AS s""",
        # The earlier hand-offs (reassigned, contacted or not), then the current ones.
        f"""INSERT INTO routing_handoff ({columns})
            SELECT n, {owner}, {team}, FALSE, 'Score reached the MQL threshold', NULL,
            'Territory', {_minutes_after(vendor, routed, "-50000")}, NULL, 'Demo request',
            {_minutes_after(vendor, routed, "-49940")}, {_minutes_after(vendor, routed, "-49970")},
            FALSE, NULL, NULL, NULL, 'reassigned', NULL, NULL, '', ''
            FROM ({series_sql(vendor, handoffs)}) AS s""",
        f"""INSERT INTO routing_handoff ({columns})
            SELECT n, {owner}, {team}, TRUE, 'Score reached the MQL threshold', NULL,
            'Territory: ' || {_pick_int(list(range(1, 6)), "n")}, {routed}, NULL,
            CASE WHEN n % 10 = 3 THEN '' ELSE 'Demo request' END, {due},
            CASE WHEN n % 10 = 3 THEN NULL ELSE {_minutes_after(vendor, routed, "30")} END,
            FALSE, {contact}, NULL, NULL, 'open', NULL, NULL, '', ''
            FROM ({series_sql(vendor, handoffs)}) AS s""",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
        move_sequences(cursor, ("people_person", "routing_handoff"))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")


def time_calls(client, headers: dict[str, str], url: str) -> tuple[float, float, int]:
    client.get(url, headers=headers)  # warm: plans, caches
    times = []
    items = 0
    for _ in range(CALLS):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
        items = len(response.json()["items"])
    return percentile(times, 50), percentile(times, 95), items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--handoffs", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="Keep (and reuse) the filled database.")
    args = parser.parse_args(argv)
    if args.handoffs > args.people:
        parser.error("--handoffs is at most --people")

    os.environ["TANDEM_TASKS"] = "database"
    use_database(
        args.db,
        pg_name=PG_NAME,
        sqlite_folder=os.path.join(tempfile.gettempdir(), f"tandem-untouched-bench-{args.people}"),
        keep=args.keep,
    )
    from django.test import Client

    from tandem.accounts.actor import Actor
    from tandem.accounts.models import TokenScope, User
    from tandem.accounts.services import create_token
    from tandem.people.models import Person
    from tandem.routing.escalation import waiting

    print(f"{database_label()} · {machine_label()} · load average {os.getloadavg()[0]:.2f}")
    if not Person.objects.exists():
        started = time.perf_counter()
        fill(args.people, args.handoffs)
        print(
            f"Filled {args.people:,} people and {2 * args.handoffs:,} hand-offs "
            f"in {time.perf_counter() - started:.1f} s"
        )
    _, sales, managers = make_users()
    untouched = waiting().count()
    print(f"{untouched:,} untouched leads of {args.handoffs:,} current hand-offs")

    system = Actor.system("bench")
    client = Client()

    def bearer(user_id: int) -> dict[str, str]:
        user = User.objects.get(pk=user_id)
        _, raw = create_token(actor=system, user=user, name="bench", scope=TokenScope.READ)
        return {"Authorization": f"Bearer {raw}"}

    manager, seller = bearer(managers[0]), bearer(sales[0])
    url = "/api/v1/leads/untouched"
    # A cursor deep in the list, past the dated leads: the 30th page of 50.
    cursor = None
    for _ in range(30):
        page = client.get(url + (f"?cursor={cursor}" if cursor else ""), headers=manager).json()
        cursor = page["next_cursor"] or cursor
    team_id = User.objects.get(pk=managers[0]).team_id
    some_owner = waiting().order_by("-id").values_list("owner_id", flat=True).first()
    cases = [
        ("manager, first page of 50", manager, url),
        ("manager, 31st page (cursor, no due dates)", manager, f"{url}?cursor={cursor}"),
        ("manager, one owner", manager, f"{url}?owner={some_owner}"),
        ("manager, one team", manager, f"{url}?team={team_id}"),
        ("manager, a page of 200", manager, f"{url}?limit=200"),
        ("salesperson, their own", seller, url),
    ]
    worst = 0.0
    print("\n| case | items | p50 ms | p95 ms |\n|---|---:|---:|---:|")
    for label, headers, case_url in cases:
        p50, p95, items = time_calls(client, headers, case_url)
        worst = max(worst, p95)
        print(f"| {label} | {items} | {p50:.1f} | {p95:.1f} |")
    print(f"\n{CALLS} calls each; load average now {os.getloadavg()[0]:.2f}")
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())

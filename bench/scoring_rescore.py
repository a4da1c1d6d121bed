"""Time a full rescore of every person with the active rules (issue 19, point 3).

    python -m bench.scoring_rescore --db sqlite|postgres [--people 1000000] [--keep]

One command per database. It fills a database with deterministic data made in
SQL (people, one company per ten, two touchpoints and a fifth of an activity
per person on average, spread over a year), activates a rule set like the
demo's (7 fit rules: title, industry, size, free-mail; 7 engagement rules with
half-lives and caps), then times `engine.rescore_everyone()` three times: the first
run inserts every PersonScore, the second (minutes later) finds nothing changed
and writes nothing, the third (a day later, what the daily decay task does)
rewrites everyone whose decayed points or "N days ago" moved. SQLite lives in a temporary TANDEM_DATA_DIR (kept with
--keep); PostgreSQL uses the database `tandem_rules_bench` (dropped and made
again unless --keep finds it filled). The target: 1M people in ≤ 30 s on each.
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
    series_sql,
    use_database,
)

PG_NAME = "tandem_rules_bench"
TITLES = ("Head of IT", "VP Sales", "CEO", "IT Manager", "Engineer", "Analyst", "Office Manager")
INDUSTRIES = ("Software", "Manufacturing", "Logistics", "Retail", "Finance", "Health")
SIZES = ("1-10", "11-50", "51-200", "201-1000", "1001+")
DOMAINS = ("gmail.com", "acme.com", "globex.com", "initech.com", "web.de")
TP_KINDS = ("form_fill", "page_visit", "page_visit", "email_click", "event_visit", "page_visit")


def _pick(values: tuple[str, ...], expr: str) -> str:
    """A CASE choosing one of `values` by `expr` modulo their count (deterministic)."""
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"(CASE ({expr}) % {len(values)} {whens} END)"


def _ago(vendor: str, days_expr: str) -> str:
    if vendor == "postgresql":
        return f"(TIMESTAMPTZ '2026-11-01 00:00:00+00' - ({days_expr}) * INTERVAL '1 day')"
    return f"datetime('2026-11-01 00:00:00', '-' || ({days_expr}) || ' days')"


def fill(people: int) -> None:
    from django.db import connection, transaction

    vendor = connection.vendor
    companies = max(1, people // 10)
    now = _ago(vendor, "0")
    empty_json = "'{}'"
    statements = [
        f"""INSERT INTO people_company (id, name, name_key, domain, industry, size, country,
            owner_id, custom_fields, created_at, updated_at, deleted_at, import_job_id)
            SELECT n, 'Company ' || n, 'company ' || n, 'c' || n || '.example', {_pick(INDUSTRIES, "n")},
            {_pick(SIZES, "n * 7")}, 'DE', NULL, {empty_json}, {now}, {now}, NULL, NULL
            FROM ({series_sql(vendor, companies)}) AS s""",
        f"""INSERT INTO people_person (id, first_name, last_name, first_name_key, last_name_key,
            email, phone, title, company_id, street, city, postcode, region, country, owner_id,
            stage, stage_changed_at, source, custom_fields, created_at, updated_at, deleted_at,
            merged_into_id, import_job_id)
            SELECT n, 'First' || n, 'Last' || n, 'first' || n, 'last' || n,
            'p' || n || '@' || {_pick(DOMAINS, "n * 3")}, '', {_pick(TITLES, "n * 11")},
            1 + (n % {companies}), '', 'Berlin', '10115', '', 'DE', NULL, 'lead', NULL, 'bench',
            {empty_json}, {now}, {now}, NULL, NULL, NULL
            FROM ({series_sql(vendor, people)}) AS s""",
        # Two touchpoints per person on average (0 to 4), over the last year.
        f"""INSERT INTO campaigns_touchpoint (person_id, kind, occurred_at, channel, campaign_id,
            utm_source, utm_medium, utm_campaign, utm_term, utm_content, referrer, page_url,
            form_id, location, credited_to_id, note, detail, client_uuid, import_job_id, created_at)
            SELECT 1 + (n * 7919) % {people}, {_pick(TP_KINDS, "n * 13")}, {_ago(vendor, "(n * 37) % 365")},
            '', NULL, '', '', '', '', '', '', 'https://example.com/p/' || (n % 50), NULL, '', NULL, '',
            {empty_json}, NULL, NULL, {now}
            FROM ({series_sql(vendor, people * 2)}) AS s""",
        f"""INSERT INTO people_activity (kind, person_id, company_id, occurred_at, actor_id,
            actor_label, subject, body, outcome, created_at)
            SELECT {_pick(("call", "meeting", "note", "email"), "n")}, 1 + (n * 104729) % {people},
            NULL, {_ago(vendor, "(n * 17) % 365")}, NULL, 'bench', 'Bench', '', '', {now}
            FROM ({series_sql(vendor, people // 5)}) AS s""",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
        move_sequences(
            cursor,
            (
                "people_company",
                "people_person",
                "campaigns_touchpoint",
                "people_activity",
            ),
        )
    with connection.cursor() as cursor:
        # PostgreSQL: VACUUM too, as autovacuum soon does after big inserts (since PostgreSQL
        # 13 inserts alone trigger it): the visibility map lets index-only scans skip the heap.
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")


def activate_rules() -> None:
    from tandem.accounts.actor import Actor
    from tandem.scoring import services
    from tandem.scoring.demo import demo_rules
    from tandem.scoring.models import RuleSet

    if RuleSet.objects.filter(status="active").exists():
        return
    actor = Actor.system("bench")
    rule_set = services.create_rule_set(actor=actor, name="Bench rules")
    for data in demo_rules():
        services.add_rule(actor=actor, rule_set=rule_set, data=data)
    services.activate_rule_set(actor=actor, rule_set=rule_set)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep (and reuse) the filled database.")
    args = parser.parse_args(argv)

    os.environ["TANDEM_TASKS"] = "database"
    use_database(
        args.db,
        pg_name=PG_NAME,
        sqlite_folder=os.path.join(tempfile.gettempdir(), f"tandem-scoring-bench-{args.people}"),
        keep=args.keep,
    )
    from tandem.people.models import Person
    from tandem.scoring import engine
    from tandem.scoring.models import PersonScore

    print(f"{database_label()} · {machine_label()} · load average {os.getloadavg()[0]:.2f}")
    if not Person.objects.exists():
        started = time.perf_counter()
        fill(args.people)
        print(f"Filled {args.people:,} people in {time.perf_counter() - started:.1f} s")
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    with connection.cursor() as cursor:  # a kept database: start again from no scores
        cursor.execute(f'DELETE FROM "{PersonScore._meta.db_table}"')
    activate_rules()
    figures = []
    now = timezone.now()
    for label, at in (
        ("first rescore (inserts)", now),
        ("second rescore, same day (nothing changed)", now + dt.timedelta(minutes=5)),
        ("next day's rescore (decay and 'N days ago' move)", now + dt.timedelta(days=1)),
    ):
        started, cpu = time.perf_counter(), time.process_time()
        done = engine.rescore_everyone(now=at)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        figures.append(seconds)
        # CPU time of this process (SQLite's work included; PostgreSQL's server not):
        # the figure a busy shared machine disturbs least.
        print(
            f"{label}: {done:,} people in {seconds:.1f} s ({done / seconds:,.0f}/s), "
            f"this process's CPU {cpu:.1f} s, load average {os.getloadavg()[0]:.2f}"
        )
    top = PersonScore.objects.order_by("-score").values_list("score", flat=True).first()
    print(f"highest score {top}; load average now {os.getloadavg()[0]:.2f}")
    return 0 if max(figures) <= 30 else 1


if __name__ == "__main__":
    sys.exit(main())

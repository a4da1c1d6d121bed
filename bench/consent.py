"""Time consent on people's screens: the "may be emailed for" filter and the export's columns.

    python -m bench consent [--n 20] [--warmup 3] [--no-export]

Run after `bench load`. Gives the loaded people consents once, set-based and
deterministic by id: purpose `newsletter` granted to 30% of them, pending for
10%, withdrawn for 10%, with one proof event each and 1% of the granted
addresses bounced; purpose `partners` granted to 0.1% (a rare purpose, where a
page of 50 has to look far). Then times the filtered list pages and API lists
as `bench people` does, and a CSV export (the leads: ~270,000 rows) with the
consent columns and without them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time

from bench.common import (
    Timing,
    bench_user,
    database_label,
    machine_label,
    migrate,
    print_results,
    setup_django,
    signed_in,
)
from bench.people import LIST_LIMIT_MS, Scenario, measure

SCENARIOS = (
    Scenario("may email: newsletter (30%)", "/people/?may_email=newsletter", LIST_LIMIT_MS),
    Scenario(
        "may email: newsletter, newest first",
        "/people/?may_email=newsletter&sort=-created_at",
        LIST_LIMIT_MS,
    ),
    Scenario(
        "may email: newsletter, search 'smi'", "/people/?may_email=newsletter&q=smi", LIST_LIMIT_MS
    ),
    Scenario("may email: partners (0.1%)", "/people/?may_email=partners", LIST_LIMIT_MS),
    Scenario(
        "API may email: newsletter",
        "/api/v1/people?may_email=newsletter&limit=50",
        LIST_LIMIT_MS,
        api=True,
    ),
    Scenario(
        "API may email: partners",
        "/api/v1/people?may_email=partners&limit=50",
        LIST_LIMIT_MS,
        api=True,
    ),
)


def seed() -> dict[str, int]:
    """Consents for the loaded people, once (skipped when `newsletter` already has some)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tandem.capture import consent as consents
    from tandem.capture.models import Consent, ConsentPurpose

    now = timezone.now()
    purposes = {}
    for key, name in (("newsletter", "Newsletter"), ("partners", "Partner offers")):
        purpose, _ = ConsentPurpose.objects.get_or_create(key=key, defaults={"name": name})
        purposes[key] = (purpose, consents.ensure_text(purpose=purpose, text=f"Send me {name}."))
    if Consent.objects.filter(purpose=purposes["newsletter"][0]).exists():
        return {}
    news, news_text = purposes["newsletter"]
    partners, partners_text = purposes["partners"]
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO capture_consent (person_id, purpose_id, status, text_id, updated_at)
            SELECT id, %s, CASE WHEN id %% 10 < 3 THEN 'granted' WHEN id %% 10 = 3 THEN 'pending'
            ELSE 'withdrawn' END, %s, %s FROM people_person WHERE id %% 10 < 5""",
            [news.pk, news_text.pk, now],
        )
        cursor.execute(
            """INSERT INTO capture_consent (person_id, purpose_id, status, text_id, updated_at)
            SELECT id, %s, 'granted', %s, %s FROM people_person WHERE id %% 1000 = 7""",
            [partners.pk, partners_text.pk, now],
        )
        cursor.execute(
            """INSERT INTO capture_consentevent (consent_id, action, text_id, at, ip, user_agent,
            method, how) SELECT id, CASE status WHEN 'pending' THEN 'requested' ELSE status END,
            text_id, %s, '203.0.113.7', 'bench', 'form', '' FROM capture_consent""",
            [now],
        )
        cursor.execute(
            """INSERT INTO capture_suppression (email_normalized, reason, at)
            SELECT email, 'bounced', %s FROM people_person
            WHERE id %% 100 = 1 AND email <> ''""",
            [now],
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE capture_consent")
            cursor.execute("ANALYZE capture_suppression")
    counts = {"consents": Consent.objects.count(), "seconds": round(time.perf_counter() - started)}
    print(f"Seeded {counts['consents']:,} consents in {counts['seconds']} s")
    return counts


def time_export(client, url: str, name: str) -> Timing:
    """One full download, streamed to the end: seconds and rows/s in the note."""
    timing = Timing(name, url, limit_ms=None)
    started = time.perf_counter()
    response = client.get(url)
    rows = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
    elapsed = time.perf_counter() - started
    timing.samples_ms.append(elapsed * 1000)
    timing.status = str(response.status_code)
    timing.note = f"{rows:,} rows, {rows / elapsed:,.0f} rows/s"
    return timing


def run(*, n: int, warmup: int, export: bool, export_query: str, username: str) -> list[Timing]:
    from tandem.accounts.models import Role
    from tandem.capture.queries import consent_export_columns
    from tandem.people import extensions
    from tandem.people.models import Person

    user = bench_user(username)
    if user.role not in (Role.ADMIN, Role.MANAGER, Role.MARKETER):
        raise SystemExit(f"{username!r} may not export: use an admin, manager or marketer.")
    with signed_in(user, token_name="bench consent") as (browser, api, bearer):
        print(f"Database: {database_label()}, {Person.objects.count():,} people")
        print(f"Machine: {machine_label()}")
        timings = []
        for s in SCENARIOS:
            client = api if s.api else browser
            headers = bearer if s.api else None
            timings.append(
                measure(
                    s.name, [s.url], client=client, n=n, warmup=warmup, limit_ms=s.limit_ms,
                    headers=headers,
                )
            )  # fmt: skip
        if export:
            url = "/people/export.csv?" + export_query
            timings.append(time_export(browser, url, "CSV export with consent columns"))
            # The same export with the consent columns taken out, through the same registry.
            columns = extensions.ExportColumns(key="consents", columns=list)
            extensions.register_export_columns(columns)
            try:
                timings.append(time_export(browser, url, "CSV export without them"))
            finally:
                extensions.register_export_columns(
                    extensions.ExportColumns(key="consents", columns=consent_export_columns)
                )
    return timings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench consent", description=__doc__)
    parser.add_argument("--n", type=int, default=20, help="timed requests per row (20)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up requests per row (3)")
    parser.add_argument("--user", default="bench", help="who is logged in (bench)")
    parser.add_argument("--no-export", action="store_true", help="skip the CSV exports")
    parser.add_argument(
        "--export-query", default="stage=lead", help="the exported list's filter (stage=lead)"
    )
    args = parser.parse_args(argv)
    setup_django()
    migrate()
    seed()
    timings = run(
        n=args.n,
        warmup=args.warmup,
        export=not args.no_export,
        export_query=args.export_query,
        username=args.user,
    )
    print_results(f"bench consent — {dt.date.today().isoformat()}", timings)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

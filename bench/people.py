"""Time the people pages and the people API on the loaded data, server-side.

    python -m bench people [--n 50] [--warmup 5]

In process, through Django's test client with production settings: a logged-in
user for the HTML pages, a bearer token for the API. Each request is warmed up,
then timed N times; p50/p95/max are in milliseconds. A page that does not
exist yet (404) or fails (5xx) is reported, not timed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from dataclasses import dataclass
from typing import Any

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

LIST_LIMIT_MS = 100.0
PAGE_LIMIT_MS = 80.0


@dataclass(frozen=True)
class Scenario:
    name: str
    url: str
    limit_ms: float | None
    api: bool = False


SCENARIOS = (
    Scenario("people list, first page", "/people/", LIST_LIMIT_MS),
    Scenario("filtered by stage", "/people/?stage=mql", LIST_LIMIT_MS),
    Scenario("sorted newest first", "/people/?sort=-created_at", LIST_LIMIT_MS),
    Scenario("sorted by last name", "/people/?sort=last_name", LIST_LIMIT_MS),
    Scenario("search: name prefix", "/people/?q=smi", LIST_LIMIT_MS),
    Scenario("search: email prefix", "/people/?q=jo", LIST_LIMIT_MS),
    Scenario("API list, first page", "/api/v1/people?limit=50", LIST_LIMIT_MS, api=True),
    Scenario("API list, by stage", "/api/v1/people?stage=mql&limit=50", LIST_LIMIT_MS, api=True),
    Scenario("API search: name prefix", "/api/v1/people?q=smi&limit=50", LIST_LIMIT_MS, api=True),
)


def _status(response: Any) -> str:
    code = response.status_code
    if code == 404:
        return "404: not built yet"
    if code >= 500:
        exc = getattr(response, "exc_info", None)
        return f"{code}: {exc[1]!r}"[:120] if exc else str(code)
    return str(code)


def measure(
    name: str,
    urls: list[str],
    *,
    client: Any,
    n: int,
    warmup: int,
    limit_ms: float | None,
    headers: dict[str, str] | None = None,
) -> Timing:
    """Warm up on the first URLs, then time `n` requests cycling through `urls`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timing = Timing(name, urls[0], limit_ms=limit_ms)
    headers = headers or {}
    for i in range(warmup):
        response = client.get(urls[i % len(urls)], headers=headers)
        if response.status_code != 200:
            timing.status = _status(response)
            return timing
    for i in range(n):
        url = urls[i % len(urls)]
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        timing.samples_ms.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            timing.samples_ms.clear()
            timing.status = _status(response)
            timing.note = url
            return timing
    with CaptureQueriesContext(connection) as queries:
        client.get(urls[0], headers=headers)
    timing.queries = len(queries.captured_queries)
    timing.status = "200"
    return timing


def random_person_ids(count: int, seed: int) -> list[int]:
    from django.db.models import Max, Min

    from tandem.people.models import Person

    bounds = Person.objects.filter(deleted_at__isnull=True).aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        return []
    rng = random.Random(seed)
    candidates = [rng.randint(bounds["lo"], bounds["hi"]) for _ in range(count * 3)]
    live = set(
        Person.objects.filter(pk__in=candidates, deleted_at__isnull=True).values_list(
            "id", flat=True
        )
    )
    return [pk for pk in dict.fromkeys(candidates) if pk in live][:count]


def run(*, n: int, warmup: int, seed: int, username: str) -> list[Timing]:
    from tandem.people.models import Person

    user = bench_user(username)
    with signed_in(user, token_name="bench people") as (browser, api, bearer):
        people = Person.objects.count()
        print(f"Database: {database_label()}, {people:,} people")
        print(f"Machine: {machine_label()}")
        print(f"N={n} timed requests per row after {warmup} warm-up requests, user {username!r}.")
        timings = []
        for scenario in SCENARIOS:
            timings.append(
                measure(
                    scenario.name,
                    [scenario.url],
                    client=api if scenario.api else browser,
                    n=n,
                    warmup=warmup,
                    limit_ms=scenario.limit_ms,
                    headers=bearer if scenario.api else None,
                )
            )
        ids = random_person_ids(n + warmup, seed)
        if ids:
            # Warm-up on the last ids, time the first n: every timed page is a different person.
            urls = [f"/people/{pk}/" for pk in ids]
            order = urls[n:] + urls[:n] if len(urls) > n else urls
            timing = measure(
                "person page, random ids",
                order,
                client=browser,
                n=min(n, len(urls)),
                warmup=min(warmup, len(urls)),
                limit_ms=PAGE_LIMIT_MS,
            )
            timing.url = "/people/<id>/"
            timings.append(timing)
            api_urls = [f"/api/v1/people/{pk}" for pk in ids]
            timing = measure(
                "API person, random ids",
                api_urls[n:] + api_urls[:n] if len(api_urls) > n else api_urls,
                client=api,
                n=min(n, len(api_urls)),
                warmup=min(warmup, len(api_urls)),
                limit_ms=PAGE_LIMIT_MS,
                headers=bearer,
            )
            timing.url = "/api/v1/people/<id>"
            timings.append(timing)
    return timings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench people", description="Time the people pages and API."
    )
    parser.add_argument("--n", type=int, default=50, help="timed requests per row (50)")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up requests per row (5)")
    parser.add_argument("--seed", type=int, default=1, help="picks the random person ids")
    parser.add_argument("--user", default="bench", help="who is logged in (bench)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.warmup < 0:
        parser.error("--n must be at least 1 and --warmup not negative")
    setup_django()
    migrate()
    timings = run(n=args.n, warmup=args.warmup, seed=args.seed, username=args.user)
    print_results(f"bench people — {dt.date.today().isoformat()}", timings)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

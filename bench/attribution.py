"""Time every attribution model on 1M people, 5M touchpoints and 50k deals (issue 21,
point 10: each rule model ≤ 2 s, markov ≤ 10 s, on SQLite and PostgreSQL).

    python -m bench.attribution --db sqlite|postgres [--people 1000000]
        [--touchpoints 5000000] [--deals 50000] [--runs 3] [--fresh]

One command per database. The data is bench/revenue_data.py's deterministic fill
(made in set-based SQL and kept between runs; `--fresh` makes it again): deals of a
year, 25 % won, 35 % open, 40 % lost, 1-3 contacts each, every contact's touchpoints
before the deal. Each model then credits the whole year - every won deal's revenue
and every open deal's pipeline, the widest period there is - and its last quarter
(91 days), grouped by campaign
(198 campaigns, with costs), through `attribute()` (the engine the API
and the page call). With `--runs` above 1, one warm-up call first; the median of
the timed calls is printed next to its target. Exit status 1 if a model misses its target.

The reports read the stored credit (tandem/attribution/store.py). Before timing them
the bench works it out as the worker does and prints what that costs: the full build
of every deal (`--rebuild`, or when nothing is stored yet), then an incremental
refresh after 100 backdated touchpoints for contacts of won deals (recorded as an
import would, by row; deleted again after the timings). The report timings then
include each report's own refresh-on-read (nothing stale: the staleness check only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time

from bench import revenue_data

TARGETS = {"markov": 10.0}  # seconds; every other model: RULE_TARGET
RULE_TARGET = 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    revenue_data.add_fill_arguments(parser)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--group-by", nargs="+", default=["campaign"])
    parser.add_argument(
        "--days",
        nargs="+",
        type=int,
        default=[365, 91],
        help="Periods to time, in days up to the fill's last day (365: all of it).",
    )
    parser.add_argument("--models", nargs="+", help="Only these models (default: all).")
    parser.add_argument("--fresh", action="store_true", help="Fill the database again.")
    parser.add_argument(
        "--rebuild", action="store_true", help="Time a full build even if credit is stored."
    )
    args = parser.parse_args(argv)

    info = revenue_data.fill(
        args.db,
        people=args.people,
        touchpoints=args.touchpoints,
        deals=args.deals,
        keep=not args.fresh,
        verbose=True,
    )
    from bench.common import database_label, machine_label
    from tandem.attribution.engine import MODELS, attribute

    last = info.end.date() - dt.timedelta(days=1)
    print(f"{database_label()} · {machine_label()}")
    print(
        f"{args.people:,} people, {args.touchpoints:,} touchpoints, {args.deals:,} deals;"
        f" up to {last}"
        + (f" (filled in {info.seconds:.0f} s)" if info.seconds else " (kept fill)")
    )
    extra = _time_refresh(rebuild=args.rebuild)
    failed = False
    try:
        failed = _time_reports(args, last, attribute, MODELS)
    finally:
        _drop_touches(extra)
    return 1 if failed else 0


def _time_refresh(*, rebuild: bool) -> list[int]:
    """Time the full build (if asked or needed) and a refresh after 100 new touches; the
    ids of the touches added."""
    from django.db import connection

    from tandem.attribution import store
    from tandem.attribution.models import DealCredit
    from tandem.campaigns.models import Touchpoint
    from tandem.deals.models import DealContact

    if rebuild or not DealCredit.objects.exists():
        began = time.perf_counter()
        deals = store.rebuild()
        print(f"full build: {deals:,} deals in {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    deals = store.refresh()
    print(f"refresh, nothing changed: {deals} deals in {time.perf_counter() - began:.2f} s")
    contacts = list(
        DealContact.objects.filter(deal__status="won")
        .order_by("deal_id", "person_id")
        .values_list("person_id", "deal__created_at")[:5000]
    )[::50]
    touches = Touchpoint.objects.bulk_create(
        Touchpoint(
            person_id=person,
            kind="call",
            channel="phone",
            occurred_at=created - dt.timedelta(days=1),
        )
        for person, created in contacts
    )
    began = time.perf_counter()
    deals = store.refresh()
    print(
        f"refresh after {len(touches)} backdated touchpoints: {deals} deals"
        f" in {time.perf_counter() - began:.2f} s ({connection.vendor})"
    )
    return [t.pk for t in touches]


def _drop_touches(ids: list[int]) -> None:
    """Delete the bench's touches again and drop their deals' rows (a delete is nothing
    the sync looks for: in the app, touchpoints go only with their person or import)."""
    from tandem.attribution import store
    from tandem.campaigns.models import Touchpoint

    people = set(Touchpoint.objects.filter(pk__in=ids).values_list("person_id", flat=True))
    Touchpoint.objects.filter(pk__in=ids).delete()
    store.forget_people(people)
    store.refresh()


def _time_reports(args: argparse.Namespace, last: dt.date, attribute, MODELS) -> bool:
    failed = False
    for group_by, days in [(g, d) for g in args.group_by for d in args.days]:
        start, end = last - dt.timedelta(days=days - 1), last
        print(f"\ngroup_by={group_by}, {start} .. {end} ({days} days)")
        print(
            f"{'model':<12} {'median s':>9} {'max s':>7} {'target':>7}  items  won  open  revenue"
        )
        for model in args.models or MODELS:
            if args.runs > 1:  # warm the caches and plans first
                attribute(model=model, start=start, end=end, group_by=group_by)
            times = []
            for _ in range(args.runs):
                began = time.perf_counter()
                report = attribute(model=model, start=start, end=end, group_by=group_by)
                times.append(time.perf_counter() - began)
            target = TARGETS.get(model, RULE_TARGET)
            median = statistics.median(times)
            ok = median <= target
            failed |= not ok
            total = sum(i.revenue for i in report.items)
            assert total == report.total_revenue, (model, total, report.total_revenue)
            print(
                f"{model:<12} {median:>9.2f} {max(times):>7.2f} {target:>7.1f}"
                f"  {len(report.items):>5} {report.deals_won:>4} {report.deals_open:>5}"
                f"  {report.total_revenue:,}{'' if ok else '  OVER TARGET'}"
            )
    return failed


if __name__ == "__main__":
    sys.exit(main())

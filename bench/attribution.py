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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

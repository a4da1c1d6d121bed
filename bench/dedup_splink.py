"""For ADR 0006: the same labelled people as bench.dedup_quality, linked by Splink.

    pip install splink==5.0.0          # in a separate environment: not a Tandem dependency
    python -m bench.dedup_splink [--seed 1] [--threshold 0.85]

Splink (DuckDB) gets the people of `bench.dedup_quality.dataset(seed)` with the same
normal forms Tandem's score reads (folded names, street key split into house number
and road, postcode key), a comparable model (forename/surname with swapped names and
term frequencies, house number, road, postcode, town), u from random sampling, m by
EM in two sessions (blocked on the name, then on the address), and the prior from a
deterministic rule. Prints pair precision, recall and F1 at the threshold and the
time it took, for comparison with `python -m bench.dedup_quality`.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.dedup_quality import dataset, truth_pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dedup_splink")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.85)
    args = parser.parse_args(argv)

    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from tandem.dedup.linkage import features_of
    from tandem.dedup.matching import Record

    rows = dataset(args.seed)
    ids = list(range(1, len(rows) + 1))
    columns: dict[str, list] = {
        k: [] for k in ("unique_id", "first", "last", "house", "road", "postcode", "city")
    }
    for pk, row in zip(ids, rows, strict=True):
        f = features_of(
            Record.from_values(
                pk, row.first, row.last, None, row.postcode, "US", row.street, row.city
            )
        )
        columns["unique_id"].append(pk)
        for name in ("first", "last", "house", "road", "postcode", "city"):
            columns[name].append(getattr(f, name) or None)
    started = time.perf_counter()
    db = DuckDBAPI()
    table = db.register(pa.table(columns), table_name="people")
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.ForenameSurnameComparison("first", "last").configure(
                term_frequency_adjustments=True
            ),
            cl.LevenshteinAtThresholds("house", [1]),
            cl.JaroWinklerAtThresholds("road", [0.9, 0.75]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("city"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("postcode", "substr(last, 1, 1)"),
            block_on("road", "city"),
            block_on("road", "postcode"),
            block_on("house", "postcode"),
            block_on("house", "city"),
            block_on("city", "substr(first, 1, 1)", "substr(last, 1, 2)"),
            block_on("city", "substr(last, 1, 1)", "substr(first, 1, 2)"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(table, settings, log_level=30)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first", "last", "house", "road")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first", "last"), record_sample_proportion=1.0
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("house", "road", "postcode"), record_sample_proportion=1.0
    )
    predictions = linker.inference.predict(threshold_match_probability=args.threshold)
    found = {
        (min(a, b), max(a, b))
        for a, b in predictions.as_duckdbpyrelation().select("unique_id_l, unique_id_r").fetchall()
    }
    seconds = time.perf_counter() - started
    truth = truth_pairs(rows, ids)
    hits = found & truth
    precision = len(hits) / len(found) if found else 0.0
    recall = len(hits) / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    print(f"Splink: {len(found):,} pairs at {args.threshold}, {len(hits):,} of {len(truth):,} true")
    print(f"precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}  ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`tandem scoring <subcommand>`: train and evaluate the predictive model.

Rule scoring adds `rescore` and `backtest` here (see the marked place below).
"""

from __future__ import annotations

from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tandem.scoring.predictive import cli


def _window(raw: int | None) -> int | None:
    if raw is not None and raw < 1:
        raise CommandError(f"--window {raw}: use a number of days, at least 1.")
    return raw


class Command(BaseCommand):
    help = "Predictive scoring: train a model on the funnel's history, or evaluate one."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="train|evaluate")
        train = sub.add_parser(
            "train", help="Fit the model families, keep the better, store a version."
        )
        train.add_argument(
            "--window",
            type=int,
            help="Days without progress that make a negative "
            "outcome (default TANDEM_SCORING_OUTCOME_WINDOW_DAYS).",
        )
        train.add_argument("--now", help="Treat this moment as now (ISO), e.g. for a replay.")
        train.add_argument(
            "--no-score", action="store_true", help="Do not store people's predictions."
        )
        evaluate = sub.add_parser("evaluate", help="Model vs rules on rows the model did not see.")
        evaluate.add_argument(
            "--version", type=int, help="Model version (default: active, else newest)."
        )
        evaluate.add_argument("--window", type=int)
        evaluate.add_argument("--now")
        evaluate.add_argument("--json", action="store_true", help="Print the figures as JSON.")
        # --- rule scoring: `rescore` and `backtest` subcommands are added here ---

    def handle(self, *args: Any, **options: Any) -> None:
        out = cast("IO[str]", self.stdout._out)  # rich writes partial lines: the raw stream
        window = _window(options.get("window"))
        if options["action"] == "train":
            cli.train(out, window=window, now=options.get("now"), score=not options["no_score"])
        elif options["action"] == "evaluate":
            cli.evaluate(
                out,
                version=options.get("version"),
                window=window,
                now=options.get("now"),
                as_json=options["json"],
            )
        # --- rule scoring: dispatch `rescore` and `backtest` here ---

"""`tandem scoring <subcommand>`: rescore everyone with the active rules; train and
evaluate the predictive model."""

from __future__ import annotations

import time
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tandem.scoring import backtest_cli, engine
from tandem.scoring.predictive import cli


def _window(raw: int | None) -> int | None:
    if raw is not None and raw < 1:
        raise CommandError(f"--window {raw}: use a number of days, at least 1.")
    return raw


class Command(BaseCommand):
    help = (
        "rescore: score every person with the active rule set (decay brought up to date, "
        "expired overrides lapsed), set-based. train / evaluate: the predictive model. "
        "backtest: a rule set replayed over past outcomes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(
            dest="action", required=True, metavar="rescore|train|evaluate|backtest"
        )
        rescore = sub.add_parser("rescore", help="Rescore everyone with the active rules.")
        rescore.add_argument("--quiet", action="store_true", help="No progress bar.")
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
        back = sub.add_parser(
            "backtest", help="Replay a rule set over past outcomes, beside the active set."
        )
        back.add_argument(
            "--rules",
            required=True,
            help="A JSON file of a rule set with rules (the API's shape), or a rule set id.",
        )
        back.add_argument("--months", type=int, default=6, help="Months back (default 6).")
        back.add_argument("--now", help="Treat this moment as now (ISO).")
        back.add_argument("--json", action="store_true", help="Print the figures as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rescore":
            self._rescore(quiet=options["quiet"])
            return
        out = cast("IO[str]", self.stdout._out)  # rich writes partial lines: the raw stream
        window = _window(options.get("window"))
        if options["action"] == "train":
            cli.train(out, window=window, now=options.get("now"), score=not options["no_score"])
        elif options["action"] == "backtest":
            backtest_cli.run(
                out,
                rules=options["rules"],
                months=options["months"],
                now=options.get("now"),
                as_json=options["json"],
            )
        elif options["action"] == "evaluate":
            cli.evaluate(
                out,
                version=options.get("version"),
                window=window,
                now=options.get("now"),
                as_json=options["json"],
            )

    def _rescore(self, *, quiet: bool) -> None:
        started = time.perf_counter()
        if quiet:
            done = engine.rescore_everyone()
        else:
            with Progress(
                TextColumn("Scoring"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
            ) as bar:
                task = bar.add_task("rescore", total=None)

                def progress(done_ids: int, total_ids: int) -> None:
                    bar.update(task, completed=done_ids, total=total_ids)

                done = engine.rescore_everyone(progress=progress)
        seconds = time.perf_counter() - started
        self.stdout.write(f"Scored {done:,} people in {seconds:.1f} s.")

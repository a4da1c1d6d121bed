"""`tandem scoring train|evaluate`: what the management command runs (scoring.py dispatches)."""

from __future__ import annotations

import datetime as dt
import json
from typing import IO, Any

from django.core.management.base import CommandError
from rich.console import Console
from rich.table import Table

from tandem.accounts.actor import Actor
from tandem.scoring.models import ModelMethod, ModelVersion
from tandem.scoring.predictive import dataset, services, training
from tandem.scoring.predictive.training import NotEnoughHistory


def parse_when(raw: str | None) -> dt.datetime | None:
    if not raw:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise CommandError(
            f"--now {raw!r}: use an ISO date and time, e.g. 2026-11-01T12:00Z."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def train(out: IO[str], *, window: int | None, now: str | None, score: bool = True) -> ModelVersion:
    console = Console(file=out, highlight=False)
    try:
        with console.status("Training: reading the history, fitting both families…"):
            version = services.train_model(
                actor=Actor.system("tandem scoring train"), now=parse_when(now), window=window
            )
    except NotEnoughHistory as exc:
        raise CommandError(str(exc)) from None
    evaluation = version.evaluation
    families = ", ".join(
        f"{ModelMethod(key).label.lower()} {auc:.3f}"
        for key, auc in sorted(evaluation["family_auc"].items(), key=lambda kv: -kv[1])
    )
    console.print(
        f"Trained model v{version.number}: {version.get_method_display()}, "
        f"kept for its better held-out AUC ({families})."
    )
    console.print(
        f"{version.positives} positive, {version.negatives} negative outcomes "
        f"({evaluation['in_window']} still in the {evaluation['window_days']}-day window, left out); "
        f"{evaluation['split_detail']}."
    )
    if evaluation["left_out_as_leaks"]:
        console.print(f"Left out as likely leaks of the outcome: {evaluation['left_out_as_leaks']}")
    _figures(console, evaluation)
    if score:
        with console.status("Scoring people with the new version…"):
            scored = services.score_people(version)
        console.print(
            f"Stored the likelihood of {scored} people (advisory until an admin activates v{version.number})."
        )
    console.print(f"Not active: an admin activates it on the model page. Now active: {_active()}.")
    return version


def _active() -> str:
    active = ModelVersion.objects.filter(is_active=True).first()
    return f"v{active.number}" if active else "none (rules decide alone)"


def _figures(console: Console, evaluation: dict[str, Any]) -> None:
    table = Table(title="On held-out rows", show_header=True)
    for column in ("", "ROC AUC", "Top-decile lift"):
        table.add_column(column)
    for who in ("model", "rules"):
        fig = evaluation[who]
        table.add_row(who, f"{fig['auc']:.3f}", f"{fig['top_decile_lift']:.2f}")
    console.print(table)
    calibration = Table(title="Calibration: deciles of the prediction, lowest first")
    for column in ("decile", "people", "predicted", "observed", "rule score", "observed (rules)"):
        calibration.add_column(column, justify="right")
    for model, rules in zip(
        evaluation["model"]["calibration"], evaluation["rules"]["calibration"], strict=False
    ):
        calibration.add_row(
            str(model["decile"]),
            str(model["people"]),
            f"{model['mean_predicted']:.1%}",
            f"{model['observed_rate']:.1%}",
            f"{rules['low']:g}–{rules['high']:g}",
            f"{rules['observed_rate']:.1%}",
        )
    console.print(calibration)


def evaluate(
    out: IO[str], *, version: int | None, window: int | None, now: str | None, as_json: bool
) -> dict[str, Any]:
    chosen = _version(version, now)
    try:
        result = services.evaluate_model(chosen, now=parse_when(now), window=window)
    except NotEnoughHistory as exc:
        raise CommandError(str(exc)) from None
    if as_json:
        shape = {
            "model": {
                "auc": result["model"]["auc"],
                "top_decile_lift": result["model"]["top_decile_lift"],
                "method": result["method"],
                "positives": result["positives"],
                "negatives": result["negatives"],
                "trained_at": result["trained_at"].isoformat(),
            },
            "rules": {
                "auc": result["rules"]["auc"],
                "top_decile_lift": result["rules"]["top_decile_lift"],
            },
        }
        out.write(json.dumps(shape) + "\n")
        return result
    console = Console(file=out, highlight=False)
    console.print(
        f"Model v{chosen.number} ({chosen.get_method_display()}, trained {chosen.trained_at:%Y-%m-%d %H:%M}) "
        f"{'active' if chosen.is_active else 'not active'}; measured on today's outcomes: "
        f"{result['positives']} positive, {result['negatives']} negative; {result['split_detail']}."
    )
    _figures(console, result)
    console.print("Rules: the stored rule score as it is today, on the same held-out people.")
    return result


def _version(number: int | None, now: str | None) -> ModelVersion:
    versions = ModelVersion.objects.all()
    if number is not None:
        found = versions.filter(number=number).first()
        if found is None:
            raise CommandError(f"--version {number}: there is no model version {number}.")
        return found
    found = versions.filter(is_active=True).first() or versions.first()
    if found is None:
        # Say how thin the history is, if it is: the same refusal as train.
        moment = parse_when(now) or dt.datetime.now(dt.UTC)
        outcome = dataset.outcomes(now=moment, window_days=services.window_days())
        try:
            training.check_enough(outcome.labels)
        except NotEnoughHistory as exc:
            raise CommandError(str(exc)) from None
        raise CommandError("No model is trained yet: run `tandem scoring train` first.")
    return found

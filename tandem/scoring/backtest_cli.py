"""`tandem scoring backtest --rules FILE|ID`: the backtest's figures in a table or as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from rich.console import Console
from rich.table import Table

from tandem.scoring import backtest
from tandem.scoring.engine import Plan, plan_for
from tandem.scoring.models import RuleSet
from tandem.scoring.predictive.cli import parse_when


def _error(exc: ValidationError, where: str) -> CommandError:
    fields = getattr(exc, "message_dict", None) or {"": exc.messages}
    name, messages = next(iter(fields.items()))
    return CommandError(f"{where}: {name}: {messages[0]}" if name else f"{where}: {messages[0]}")


def _plan(rules: str) -> tuple[Plan, int]:
    path = Path(rules)
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"--rules {rules}: not a JSON file ({exc}).") from None
        try:
            return backtest.plan_from_data(data)
        except ValidationError as exc:
            raise _error(exc, f"--rules {rules}") from None
    if rules.isdigit():
        rule_set = RuleSet.objects.filter(pk=int(rules)).first()
        if rule_set is None:
            raise CommandError(f"--rules {rules}: there is no rule set with this id.")
        return plan_for(rule_set), rule_set.mql_threshold
    raise CommandError(f"--rules {rules}: neither a file nor a rule set id.")


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def run(out: IO[str], *, rules: str, months: int, now: str | None, as_json: bool) -> None:
    plan, threshold = _plan(rules)
    try:
        result = backtest.run(plan, threshold, months=months, now=parse_when(now))
    except ValidationError as exc:
        raise _error(exc, "--months") from None
    if as_json:
        out.write(json.dumps(result.as_dict(), indent=2) + "\n")
        return
    console = Console(file=out, highlight=False)
    console.print(
        f"Backtest over {result.months} months ({result.starts:%Y-%m-%d} to "
        f"{result.ends:%Y-%m-%d}), {result.people:,} people, {result.seconds:.1f} s."
    )
    sets = [r for r in (result.draft, result.current) if r is not None]
    table = Table()
    table.add_column("")
    for r in sets:
        table.add_column(r.label, justify="right")
    rows: list[tuple[str, Any]] = [
        ("MQL threshold", lambda r: r.mql_threshold),
        ("New MQLs", lambda r: r.mql),
        ("Already MQL at the start", lambda r: r.mql_before),
        ("MQLs that reached opportunity+", lambda r: r.converted),
        ("Precision", lambda r: _ratio(r.precision)),
        ("Opportunities+ in the window", lambda r: r.positives),
        ("Of those, flagged MQL before", lambda r: r.caught),
        ("Recall", lambda r: _ratio(r.recall)),
    ]
    for name, get in rows:
        table.add_row(name, *(str(get(r)) for r in sets))
    console.print(table)
    weeks = Table(title="MQLs per week")
    weeks.add_column("Week from")
    for r in sets:
        weeks.add_column(r.label, justify="right")
    for week, other in result.week_rows():
        weeks.add_row(
            f"{week.starts:%Y-%m-%d}", str(week.mql), *([str(other.mql)] if other else [])
        )
    console.print(weeks)

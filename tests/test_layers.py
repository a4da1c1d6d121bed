"""The apps build on each other one way, and only through each other's public names.

Read from the source with `ast` (every module under tandem/, tests and
migrations excluded, imports inside functions included), so a new contributor
who reaches into another app's private helper, or makes a lower app import a
higher one, learns it from the suite rather than from review.

The layers (STYLE.md, issue 18):

    core <- accounts <- people <- capture / imports / dedup / campaigns

Where campaigns sits: until issue 18 it imported only core and accounts, and
people's timeline imported its Touchpoint (a cycle once campaigns' touchpoints
point at people). Now campaigns builds on people (touchpoints belong to a
person) and adds them to people's timeline through people's extension points
(ADR 0005). It is the first app of the top tier: capture, dedup and imports
record or move touchpoints, so they may build on it; it builds on none of them.
Within the top tier the order is campaigns <- capture <- dedup: dedup merges
what capture recorded (consents). Neither capture nor imports imports dedup:
they tell people that people were added (`extensions.people_added`), and dedup,
scoring and the funnel listen there.

The project's composition modules (tandem/urls.py, api.py, settings.py) sit
above every app and are not checked; the demo app, which fills every app with
a fictional company, sits above them too.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import tandem

ROOT = Path(tandem.__file__).parent

# What each app may import (besides itself). Anything not listed is a lower
# app importing a higher one, or a sideways import across the top tier.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "accounts": {"core"},
    "people": {"core", "accounts"},
    "campaigns": {"core", "accounts", "people"},
    "capture": {"core", "accounts", "people", "campaigns"},
    "dedup": {"core", "accounts", "people", "campaigns", "capture"},
    # Imports tell dedup, scoring and the funnel of the people they add through people's
    # extension point (`people_added`), like capture: they import none of them.
    "imports": {"core", "accounts", "people", "campaigns"},
    # Scores read people, their touchpoints and activities; capture and imports tell
    # scoring of new people through people's extension points, never by import.
    "scoring": {"core", "accounts", "people", "campaigns"},
    # News for users (the bell and its emails): who is told, nothing about why.
    "notifications": {"core", "accounts"},
    # Business hours and SLA policies: teams' calendars, touchpoint kinds.
    "sla": {"core", "accounts", "people", "campaigns"},
    # Tasks are about people and companies; completing a call logs people's activity.
    "followups": {"core", "accounts", "people", "campaigns"},
    # Routing hands MQLs to people: it reads scores, starts SLA clocks, makes tasks and
    # tells owners; capture tells it of "contact me" requests through an extension point.
    "routing": {
        "core",
        "accounts",
        "people",
        "campaigns",
        "scoring",
        "notifications",
        "sla",
        "followups",
    },
    # Deals (issue 21): contacts are people, tasks and activities show on the deal page,
    # owners are told of deals handed to them; deal create takes an Idempotency-Key with
    # capture's public `idempotency.run_once` (its record lives in capture).
    "deals": {
        "core",
        "accounts",
        "people",
        "campaigns",
        "capture",
        "followups",
        "notifications",
    },
    # Attribution credits won revenue to the touchpoints of a deal's contacts.
    "attribution": {"core", "accounts", "people", "campaigns", "deals"},
    # Reports read everything below them: the funnel and its velocity, a campaign's
    # MQLs, send-backs, pipeline, revenue, cost and ROI; the funnel's facts fold again
    # the people of a merge (dedup moves stage history).
    "reports": {
        "core",
        "accounts",
        "people",
        "campaigns",
        "dedup",
        "scoring",
        "sla",
        "followups",
        "routing",
        "deals",
        "attribution",
    },
    # The demo company fills every app, so it sits above them all.
    "demo": {
        "core",
        "accounts",
        "people",
        "campaigns",
        "capture",
        "dedup",
        "imports",
        "scoring",
        "notifications",
        "sla",
        "followups",
        "routing",
        "deals",
        "attribution",
        "reports",
    },
}

# Known debts, each an (importing module, imported app) pair with the reason it
# is still here. The test fails when one is paid off and left in this list, so
# the list only shrinks.
KNOWN: dict[tuple[str, str], str] = {}


def _modules() -> list[tuple[str, Path]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if len(rel.parts) < 2 or "tests" in rel.parts or "migrations" in rel.parts:
            continue
        found.append((rel.parts[0], path))
    return found


def _app_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "tandem" and parts[1] in ALLOWED:
        return parts[1]
    return None


def _imports(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    """Every `tandem.*` module name a tree imports, at any depth, with its node."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node))
    return [(name, node) for name, node in found if name.startswith("tandem.")]


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT.parent)}:{getattr(node, 'lineno', '?')}"


def test_every_app_is_placed_in_a_layer() -> None:
    apps = {p.name for p in ROOT.iterdir() if (p / "apps.py").exists()}
    assert apps == set(ALLOWED), "place the new app in ALLOWED, with its reason above"


def test_no_module_uses_another_apps_private_names() -> None:
    found = []
    for app, path in _modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        # Names bound to another app's module: `from tandem.people import services as people`.
        foreign: dict[str, str] = {}
        for module, node in _imports(tree):
            other = _app_of(module)
            if other is None or other == app:
                continue
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name.startswith("_"):
                        found.append(f"{_where(path, node)} imports {module}.{alias.name}")
                    foreign[alias.asname or alias.name] = f"{module}.{alias.name}"
            else:
                for alias in node.names:
                    if alias.asname:
                        foreign[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and node.attr != "_meta"  # Django's public model API
                and isinstance(node.value, ast.Name)
                and node.value.id in foreign
            ):
                found.append(f"{_where(path, node)} uses {foreign[node.value.id]}.{node.attr}")
    assert found == [], "make these public where they live:\n" + "\n".join(found)


def _edges(*, known: bool = True) -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for app, path in _modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        rel = str(path.relative_to(ROOT.parent))
        for module, node in _imports(tree):
            other = _app_of(module)
            if other is not None and other != app and (known or (rel, other) not in KNOWN):
                edges[(app, other)].append(_where(path, node))
    return edges


def test_apps_import_only_the_layers_below() -> None:
    wrong = []
    known_seen = set()
    for (app, other), places in sorted(_edges().items()):
        if other in ALLOWED[app]:
            continue
        for place in places:
            module = place.rsplit(":", 1)[0]
            if (module, other) in KNOWN:
                known_seen.add((module, other))
            else:
                wrong.append(f"{place}: {app} imports {other}")
    assert wrong == [], "a lower app imports a higher one:\n" + "\n".join(wrong)
    assert known_seen == set(KNOWN), f"paid off, remove from KNOWN: {set(KNOWN) - known_seen}"


def test_no_import_cycles_between_apps() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for app, other in _edges(known=False):  # the debts in KNOWN are cycles, listed there
        graph[app].add(other)

    def reach(app: str) -> set[str]:
        seen: set[str] = set()
        todo = [app]
        while todo:
            for other in graph[todo.pop()] - seen:
                seen.add(other)
                todo.append(other)
        return seen

    reaches = {app: reach(app) for app in list(graph)}
    # Each app that can reach itself, with the apps on its cycles (one strongly connected group).
    groups = {
        " <-> ".join(sorted({app} | {o for o in reaches[app] if app in reaches.get(o, set())}))
        for app in reaches
        if app in reaches[app]
    }
    assert groups == set(), "import cycles between apps:\n" + "\n".join(sorted(groups))


def test_the_allowed_layers_themselves_have_no_cycle() -> None:
    order: list[str] = []
    remaining = dict(ALLOWED)
    while remaining:
        ready = [app for app, deps in remaining.items() if deps <= set(order)]
        assert ready, f"ALLOWED has a cycle among {sorted(remaining)}"
        order += sorted(ready)
        for app in ready:
            del remaining[app]


# Calls that write rows: model and queryset methods, and core's set-based INSERT.
_ROW_WRITES = {
    "save",
    "delete",
    "create",
    "bulk_create",
    "bulk_update",
    "update",
    "get_or_create",
    "update_or_create",
    "insert_new",
}


def test_the_demo_writes_rows_only_through_the_apps_services() -> None:
    """The demo plans its company as plain data and hands it to the apps' public services
    (people.bulk, campaigns, capture.consent, accounts); it writes no row itself (issue 18)."""
    found = []
    for app, path in _modules():
        if app != "demo":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in _ROW_WRITES:
                found.append(f"{_where(path, node)} calls {name}()")
        for module, node in _imports(tree):
            if module == "tandem.core.bulk":
                found.append(f"{_where(path, node)} imports {module}")
    assert found == [], "write these through a service of the app that owns them:\n" + "\n".join(
        found
    )

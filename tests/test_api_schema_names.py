"""Ninja names an OpenAPI component after its class: two schema classes of one name in
different apps make one of them document the other's body. Every name stands once."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import tandem

ROOT = Path(tandem.__file__).parent
BASES = {"Schema", "ModelSchema", "FilterSchema"}


def test_no_two_api_schema_classes_share_a_name():
    where: dict[str, list[str]] = defaultdict(list)
    for path in sorted(ROOT.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id in BASES for b in node.bases
            ):
                where[node.name].append(str(path.relative_to(ROOT)))
    twice = {name: files for name, files in where.items() if len(files) > 1}
    assert twice == {}

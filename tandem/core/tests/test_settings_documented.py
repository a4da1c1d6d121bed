"""Every setting the code reads is in README.md's configuration table.

The code is scanned, not a list kept by hand: a helper call (`env_str`,
`env_int`, `env_bool`, `env_list`, `env_bind`, any `env_*`) or an
`os.environ` / `os.getenv` read with a literal name, anywhere in the
`tandem` package outside its tests.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "tandem"
README = ROOT / "README.md"


def _is_environ(node: ast.AST) -> bool:
    """`os.environ` (or a bare `environ` imported from os)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id == "environ"


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def names_read(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            func_name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if re.fullmatch(r"env_\w+", func_name) or func_name == "getenv":
                name = _literal(node.args[0])
            elif func_name in ("get", "pop") and isinstance(func, ast.Attribute):
                if _is_environ(func.value):
                    name = _literal(node.args[0])
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            name = _literal(node.slice)
        elif isinstance(node, ast.Compare) and any(isinstance(op, ast.In) for op in node.ops):
            if any(_is_environ(c) for c in node.comparators):
                name = _literal(node.left)
        if name:
            found.add(name)
    return found


def settings_read_by_the_code() -> dict[str, list[str]]:
    """Each variable name with the files that read it."""
    where: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if "tests" in relative.parts or "migrations" in relative.parts:
            continue
        for name in names_read(ast.parse(path.read_text(encoding="utf-8"))):
            where.setdefault(name, []).append(str(relative))
    return where


def documented_settings() -> set[str]:
    """Names in the first column of README's configuration table.

    A cell may list several (`TANDEM_EMAIL_HOST`, `_PORT`): a name starting with
    `_` continues the prefix of the full name before it.
    """
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        first_cell = line.split("|")[1]
        prefix = ""
        for token in re.findall(r"`([A-Z_][A-Z0-9_]*)`", first_cell):
            if token.startswith("_") and prefix:
                names.add(prefix + token)
            else:
                names.add(token)
                prefix = token.rsplit("_", 1)[0] if "_" in token else token
    return names


def test_the_scan_sees_the_ways_settings_are_read():
    source = """
import os
from os import environ
a = env_str("A_STR")
b = env_int(
    "B_INT", 3, minimum=1
)
c = settings.env_bool("C_BOOL", False)
d = os.environ.get("D_GET")
e = os.environ["E_ITEM"]
f = "F_IN" in os.environ
g = os.getenv("G_GETENV")
h = environ.get("H_BARE")
os.environ.setdefault("NOT_A_READ", "x")
"""
    assert names_read(ast.parse(source)) == {
        "A_STR",
        "B_INT",
        "C_BOOL",
        "D_GET",
        "E_ITEM",
        "F_IN",
        "G_GETENV",
        "H_BARE",
    }


def test_the_readme_table_expands_shortened_names():
    names = documented_settings()
    assert {"TANDEM_EMAIL_HOST", "TANDEM_EMAIL_PORT", "TANDEM_EMAIL_FROM"} <= names


def test_every_setting_the_code_reads_is_in_the_readme():
    read = settings_read_by_the_code()
    assert "TANDEM_SECRET_KEY" in read and "DATABASE_URL" in read  # the scan finds settings.py
    missing = {name: files for name, files in read.items() if name not in documented_settings()}
    assert not missing, "Read by the code but not in README.md's configuration table: " + "; ".join(
        f"{name} ({', '.join(files)})" for name, files in sorted(missing.items())
    )

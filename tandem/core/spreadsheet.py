"""Cells for CSV and XLSX files people open in a spreadsheet.

Text a visitor typed can start with a formula (`=HYPERLINK(...)`, `+cmd|...`):
a spreadsheet would run it. Every export writes text cells through `safe_cell`.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ tab or CR gets a '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text

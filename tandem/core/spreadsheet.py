"""Cells for CSV and XLSX files people open in a spreadsheet.

Text a visitor typed can start with a formula (`=HYPERLINK(...)`, `+cmd|...`):
a spreadsheet would run it. Every export writes text cells through `safe_cell`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ tab or CR gets a '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_response(
    rows: Iterable[list[str]], *, filename: str, bom: bool = False
) -> StreamingHttpResponse:
    """Rows streamed as a CSV download, in chunks of about 64 KB; `bom` starts the file
    with a byte-order mark, so that spreadsheets read it as UTF-8."""

    def chunks() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if bom:
            buffer.write("\ufeff")
        for row in rows:
            writer.writerow(row)
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

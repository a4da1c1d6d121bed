"""Reading import files: CSV (encoding and delimiter detected) and XLSX, streamed.

Nothing here holds a whole file in memory: CSV is read line by line through
the csv module, XLSX through openpyxl's read-only mode. Every problem with a
file is a ValidationError naming "file", with a message a person can act on.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first
data row is row 2. Blank rows are skipped but keep their number.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

# Longest physical line and longest field we read; a longer one is not a table.
MAX_LINE_CHARS = 1_000_000
MAX_FIELD_CHARS = 1_000_000
MAX_COLUMNS = 500
PREVIEW_ROWS = 10
SAMPLE_BYTES = 256 * 1024
CHUNK_BYTES = 1024 * 1024
DELIMITERS = ",;\t|"
# Bytes cp1252 leaves undefined: a file holding them is read as Latin-1.
_CP1252_HOLES = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")


@dataclass
class FileInfo:
    """What an upload holds, found before any row is imported."""

    file_format: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""
    headers: list[str] = field(default_factory=list)
    preview: list[list[str]] = field(default_factory=list)
    total_rows: int = 0  # data rows that are not blank (CSV: exact; XLSX: the sheet's count)
    sha256: str = ""


def _reject(message: str) -> ValidationError:
    return ValidationError({"file": message})


# --- format and encoding ----------------------------------------------------------------


def detect_format(path: Path) -> str:
    """ "csv" or "xlsx", by content rather than by the name's extension."""
    with path.open("rb") as f:
        head = f.read(8)
    if not head:
        raise _reject("The file is empty.")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            raise _reject("The file looks like a damaged XLSX (zip) file.") from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        raise _reject("This zip file is not an Excel workbook; upload a CSV or XLSX file.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _reject(
            "This is an old Excel .xls file; save it as .xlsx or CSV (UTF-8) and upload that."
        )
    if head.startswith(b"%PDF"):
        raise _reject("This is a PDF, not a CSV or XLSX file.")
    return "csv"


def _scan_bytes(path: Path) -> tuple[str, str]:
    """One pass over the raw bytes: their sha256 and the encoding that reads them all.

    UTF-8 (with or without BOM) if every byte sequence is valid UTF-8; else
    Windows-1252, or Latin-1 when bytes cp1252 leaves undefined occur. Binary
    content (NUL bytes) and UTF-16 are refused before the csv module sees them.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    has_holes = False
    has_bom = False
    with path.open("rb") as f:
        first = True
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
            if first:
                first = False
                if chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    raise _reject(
                        "The file is UTF-16; save it as CSV UTF-8 (or XLSX) and upload that."
                    )
                has_bom = chunk.startswith(codecs.BOM_UTF8)
            if b"\x00" in chunk:
                raise _reject("The file holds binary data; upload a CSV or XLSX file.")
            if chunk.isascii():
                continue
            if is_utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    is_utf8 = False
            if not has_holes:
                has_holes = any(hole in chunk for hole in _CP1252_HOLES)
    if is_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    if is_utf8:
        encoding = "utf-8-sig" if has_bom else "utf-8"
    else:
        encoding = "latin-1" if has_holes else "cp1252"
    return digest.hexdigest(), encoding


def normalize_encoding(name: str) -> str:
    """The codec name we store, or a ValidationError for one Python does not know."""
    try:
        canonical = codecs.lookup(name.strip()).name
    except LookupError:
        raise _reject(f"{name!r} is not a text encoding we know (try utf-8 or cp1252).") from None
    if canonical in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        raise _reject("UTF-16/32 files are not read; save the file as CSV UTF-8.")
    return canonical


def sniff_delimiter(sample: str) -> str:
    """The delimiter of a CSV sample: the csv module's guess among , ; tab |, else by count."""
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end mid-line
    text = "\n".join(lines[:50])
    if not text.strip():
        return ","
    try:
        dialect = csv.Sniffer().sniff(text, delimiters=DELIMITERS)
        if dialect.delimiter in DELIMITERS:
            return dialect.delimiter
    except csv.Error:
        pass
    header = lines[0] if lines else ""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# --- rows -----------------------------------------------------------------------------------


def _limited_lines(text: io.TextIOBase, *, start_row: int = 1) -> Iterator[str]:
    """The file's lines, refusing one longer than MAX_LINE_CHARS (no 50 MB line in memory)."""
    number = start_row
    while True:
        line = text.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            raise _reject(
                f"Line {number:,} is longer than {MAX_LINE_CHARS:,} characters: "
                "this does not look like a table of contacts."
            )
        number += 1
        yield line


def _open_text(path: Path, encoding: str) -> io.TextIOWrapper:
    # newline="" as the csv module asks; strict errors so wrong bytes are reported, not mangled.
    return open(path, encoding=encoding, errors="strict", newline="")


def _csv_records(
    path: Path, encoding: str, delimiter: str, *, guarded: bool = True
) -> Iterator[list[str]]:
    """Every record of a CSV file, the header first, with clear errors for bad input.

    `guarded` reads line by line with a length limit; a file inspect_file has
    already read through that way is read without it, faster.
    """
    if csv.field_size_limit() < MAX_FIELD_CHARS:
        csv.field_size_limit(MAX_FIELD_CHARS)
    with _open_text(path, encoding) as text:
        lines: Iterator[str] | io.TextIOWrapper = _limited_lines(text) if guarded else text
        reader = csv.reader(lines, delimiter=delimiter, strict=False)
        try:
            yield from reader
        except UnicodeDecodeError as exc:
            raise _reject(
                f"{_row_label(reader.line_num + 1)} holds bytes that are not {encoding} "
                f"({exc.reason}); choose the file's encoding or save it as CSV UTF-8."
            ) from None
        except csv.Error as exc:
            message = str(exc)
            if "field larger than field limit" in message:
                message = f"a value longer than {MAX_FIELD_CHARS:,} characters"
            raise _reject(
                f"{_row_label(reader.line_num)} cannot be read as CSV: {message}. "
                "Check the quotes around values."
            ) from None


def _row_label(number: int) -> str:
    """How a message names a row: the first is the header, which a person fixes differently."""
    return "The header row (row 1)" if number <= 1 else f"Row {number:,}"


def _line_of_bad_bytes(path: Path, encoding: str) -> int:
    """The line holding the first bytes `encoding` cannot read, within the sample."""
    with path.open("rb") as f:
        raw = f.read(SAMPLE_BYTES * 4)  # a character is at most 4 bytes
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as exc:
        return raw[: exc.start].count(b"\n") + 1
    return 1


def _cell(value: Any) -> str:
    """An XLSX cell as the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _xlsx_records(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise _reject(f"The XLSX file cannot be opened: {exc}") from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise _reject("The workbook has no sheet.")
        rows = sheet.iter_rows(values_only=True)
        number = 0
        while True:
            try:
                row = next(rows, None)
            except Exception as exc:  # a damaged sheet fails while it is read
                raise _reject(
                    f"{_row_label(number + 1)} of the XLSX file cannot be read: {exc}"
                ) from None
            if row is None:
                return
            number += 1
            yield [_cell(v) for v in row]
    finally:
        workbook.close()


def records(
    path: Path, file_format: str, encoding: str = "", delimiter: str = "", *, guarded: bool = True
) -> Iterator[list[str]]:
    if file_format == "xlsx":
        return _xlsx_records(path)
    return _csv_records(path, encoding or "utf-8", delimiter or ",", guarded=guarded)


def _is_blank(values: list[str]) -> bool:
    return not "".join(values).strip()


def clean_headers(raw: list[str]) -> list[str]:
    """Trimmed headers; blanks named "Column N", repeats numbered, so each is a key."""
    headers: list[str] = []
    seen: set[str] = set()
    for index, value in enumerate(raw, start=1):
        name = (value or "").strip().lstrip("\ufeff").strip() or f"Column {index}"
        base, n = name, 2
        while name.lower() in seen:
            name = f"{base} ({n})"
            n += 1
        seen.add(name.lower())
        headers.append(name[:200])
    while headers and headers[-1].startswith("Column ") and not raw[len(headers) - 1].strip():
        headers.pop()  # trailing empty header cells, common in spreadsheets
    return headers


def data_rows(
    path: Path, file_format: str, encoding: str = "", delimiter: str = "", *, skip: int = 0
) -> Iterator[tuple[int, list[str]]]:
    """(row number, values) for each non-blank data row, values padded to the header width.

    `skip` passes over that many non-blank data rows first: a resumed import
    starts after the rows it has committed. The file is one inspect_file has
    accepted, so lines are not measured again.
    """
    it = records(path, file_format, encoding, delimiter, guarded=False)
    header = next(it, None)
    if header is None:
        raise _reject("The file is empty.")
    width = len(clean_headers(header))
    number = 1
    seen = 0
    for values in it:
        number += 1
        if _is_blank(values):
            continue
        seen += 1
        if seen <= skip:
            continue
        if len(values) < width:
            values = values + [""] * (width - len(values))
        elif len(values) > width:
            values = values[:width]
        yield number, values


def inspect_file(path: Path, *, encoding: str = "", delimiter: str = "") -> FileInfo:
    """Check a file before anything is imported: format, encoding, delimiter, headers, rows.

    A CSV is read to its end here, so a broken line near the bottom is
    reported now and not after half the rows are in. `encoding` and
    `delimiter` override what is detected.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        raise _reject("The file is empty.")
    file_format = detect_format(path)
    info = FileInfo(file_format=file_format)
    if file_format == "csv":
        info.sha256, detected = _scan_bytes(path)
        info.encoding = normalize_encoding(encoding) if encoding else detected
        if info.encoding == "utf-8" and detected == "utf-8-sig":
            info.encoding = "utf-8-sig"  # the BOM is not a character of the first header
        with _open_text(path, info.encoding) as text:
            try:
                sample = text.read(SAMPLE_BYTES)
            except UnicodeDecodeError as exc:
                where = _row_label(_line_of_bad_bytes(path, info.encoding))
                raise _reject(
                    f"{where} holds bytes that are not {info.encoding} ({exc.reason}); "
                    "choose the file's encoding or save it as CSV UTF-8."
                ) from None
        if not sample.strip():
            raise _reject("The file is empty.")
        info.delimiter = delimiter or sniff_delimiter(sample)
        if info.delimiter not in DELIMITERS:
            raise _reject("Use one of these delimiters: comma, semicolon, tab or |.")
    else:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                digest.update(chunk)
        info.sha256 = digest.hexdigest()

    it = records(path, file_format, info.encoding, info.delimiter)
    header = next(it, None)
    if header is None:
        raise _reject("The file is empty.")
    if _is_blank(header):
        raise _reject("The first row must hold the column names; it is blank.")
    info.headers = clean_headers(header)
    if len(info.headers) > MAX_COLUMNS:
        raise _reject(
            f"The file has {len(info.headers):,} columns; at most {MAX_COLUMNS} are read."
        )
    width = len(info.headers)
    count = 0
    for values in it:
        if _is_blank(values):
            continue
        count += 1
        if len(info.preview) < PREVIEW_ROWS:
            info.preview.append((values + [""] * width)[:width])
        elif file_format == "xlsx":
            break  # counting an XLSX means parsing all of it: its recorded size will do
    if file_format == "xlsx":
        count = max(count, _xlsx_row_estimate(path))
    if count == 0:
        raise _reject("The file has column names but no rows.")
    info.total_rows = count
    return info


def _xlsx_row_estimate(path: Path) -> int:
    """Data rows of the first sheet, from the size the workbook records."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        max_row = workbook.worksheets[0].max_row or 0
    finally:
        workbook.close()
    return max(max_row - 1, 0)

"""Files as people have them: encodings and delimiters are detected; bad files get clear errors."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from tandem.imports.readers import MAX_LINE_CHARS, data_rows, inspect_file


def file_error(path: Path, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        inspect_file(path, **kwargs)
    assert list(caught.value.message_dict) == ["file"]
    return " ".join(caught.value.message_dict["file"])


def rows_of(path: Path) -> list[tuple[int, list[str]]]:
    info = inspect_file(path)
    return list(data_rows(path, info.file_format, info.encoding, info.delimiter))


def test_utf8_with_bom_and_semicolons_is_read_with_clean_headers(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffVorname;Nachname;E-Mail\nJosé;Müller;jose@example.com\n".encode())
    info = inspect_file(path)
    assert (info.encoding, info.delimiter) == ("utf-8-sig", ";")
    assert info.headers == ["Vorname", "Nachname", "E-Mail"]  # no BOM glued to the first
    assert rows_of(path) == [(2, ["José", "Müller", "jose@example.com"])]


def test_utf8_without_bom(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_bytes("name,email\nZoë,zoe@example.com\n".encode())
    info = inspect_file(path)
    assert (info.encoding, info.delimiter, info.total_rows) == ("utf-8", ",", 1)
    assert rows_of(path)[0][1] == ["Zoë", "zoe@example.com"]


def test_windows_1252_from_excel_keeps_accents_and_smart_quotes(tmp_path):
    path = tmp_path / "cp1252.csv"
    path.write_bytes("name,note\nRené,\u201cgreat\u201d fit\n".encode("cp1252"))
    info = inspect_file(path)
    assert info.encoding == "cp1252"
    assert rows_of(path) == [(2, ["René", "“great” fit"])]


def test_latin1_with_bytes_windows_leaves_undefined_is_read_as_latin1(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"name,city\nRen\xe9,K\x81ln\n")
    info = inspect_file(path)
    assert info.encoding == "latin-1"
    assert rows_of(path) == [(2, ["René", "K\x81ln"])]


def test_tab_separated_and_quoted_multiline_values(tmp_path):
    path = tmp_path / "export.tsv"
    path.write_text(
        'email\tnote\na@example.com\t"two\nlines"\nb@example.com\tx\n', encoding="utf-8"
    )
    info = inspect_file(path)
    assert info.delimiter == "\t"
    assert rows_of(path) == [(2, ["a@example.com", "two\nlines"]), (3, ["b@example.com", "x"])]


def test_blank_rows_are_skipped_but_keep_their_row_numbers(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("email,name\n\na@example.com,A\n,\nb@example.com\n", encoding="utf-8")
    assert rows_of(path) == [(3, ["a@example.com", "A"]), (5, ["b@example.com", ""])]


def test_an_encoding_given_by_hand_is_checked(tmp_path):
    path = tmp_path / "cp.csv"
    path.write_bytes("name\nRené\n".encode("cp1252"))
    message = file_error(path, encoding="utf-8")
    assert "not utf-8" in message or "not utf_8" in message


def test_xlsx_first_sheet_is_read_with_dates_and_numbers_as_text(tmp_path):
    import datetime as dt

    book = Workbook()
    sheet = book.active
    sheet.append(["First Name", "Email", "Employees", "Since"])
    sheet.append(["Ada", "ada@example.com", 42, dt.datetime(2024, 3, 1)])
    sheet.append([None, None, None, None])
    sheet.append(["Grace", "grace@example.com", 3.5, None])
    path = tmp_path / "people.xlsx"
    book.save(path)
    info = inspect_file(path)
    assert info.file_format == "xlsx"
    assert info.headers == ["First Name", "Email", "Employees", "Since"]
    assert rows_of(path) == [
        (2, ["Ada", "ada@example.com", "42", "2024-03-01"]),
        (4, ["Grace", "grace@example.com", "3.5", ""]),
    ]


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "empty" in file_error(path)


def test_headers_without_rows_are_refused(tmp_path):
    path = tmp_path / "head.csv"
    path.write_text("first_name,email\n", encoding="utf-8")
    assert "no rows" in file_error(path)


def test_binary_file_is_not_a_csv(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "binary" in file_error(path)


def test_old_xls_and_other_zip_files_are_refused_with_what_to_do(tmp_path):
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert ".xlsx or CSV" in file_error(xls)
    docx = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert "not an Excel workbook" in file_error(docx)


def test_utf16_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("name,email\nA,a@example.com\n".encode("utf-16"))
    assert "UTF-16" in file_error(path)


def test_a_50_mb_line_is_refused_without_reading_it_into_memory(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("email,note\na@example.com,")
        chunk = "x" * 1_000_000
        for _ in range(50):
            f.write(chunk)
        f.write("\n")
    message = file_error(path)
    assert f"longer than {MAX_LINE_CHARS:,} characters" in message


def test_bad_bytes_in_the_header_are_named_as_the_header_and_later_ones_by_row(tmp_path):
    header = tmp_path / "header.csv"
    header.write_bytes("név\nx\n".encode("cp1252"))
    assert file_error(header, encoding="utf-8").startswith("The header row (row 1)")

    later = tmp_path / "later.csv"
    later.write_bytes(b"name\nAnna\n" + "René\n".encode("cp1252"))
    assert file_error(later, encoding="utf-8").startswith("Row 3 ")


def test_an_unclosed_quote_swallowing_the_file_is_reported(tmp_path):
    path = tmp_path / "quote.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write('email,note\na@example.com,"never closed\n')
        for _ in range(20_000):
            f.write("x" * 100 + "\n")
    message = file_error(path)
    assert "Row" in message and "quotes" in message


def test_repeated_and_blank_headers_get_distinct_names(tmp_path):
    path = tmp_path / "dupes.csv"
    path.write_text("Email,Email,,Name\na@example.com,b@example.com,x,Ann\n", encoding="utf-8")
    assert inspect_file(path).headers == ["Email", "Email (2)", "Column 3", "Name"]

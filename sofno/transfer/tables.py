"""Spreadsheets in and out: CSV and XLSX as rows of named cells.

Rules:
- The first row names the columns; names are matched without regard to case or
  surrounding spaces. Blank rows are skipped.
- Every row keeps its line number as a person sees it in a spreadsheet program
  (the header is line 1), so an error can point at "line 7, column phone".
- Cells come back as text (numbers and booleans as they print); interpreting them is
  the kinds' job.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _

# A spreadsheet program runs a CSV cell starting with one of these as a formula; the
# export quotes it with a leading apostrophe and the import takes that off again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# XLSX files are ZIP archives: this is how they start.
_ZIP_MAGIC = b"PK\x03\x04"
MAX_ROWS = 20_000


class TableError(Exception):
    """The file cannot be read as a table at all."""


@dataclass(frozen=True)
class Row:
    """One data row: its spreadsheet line and its cells by column name."""

    line: int
    cells: dict[str, str]


def detect_format(filename: str, data: bytes) -> str:
    """``"xlsx"`` or ``"csv"``, from the content first and the name second."""
    if data.startswith(_ZIP_MAGIC) or filename.lower().endswith(".xlsx"):
        return "xlsx"
    return "csv"


def read_table(data: bytes, fmt: str) -> list[Row]:
    """The rows of a CSV or XLSX file (first sheet), header excluded."""
    lines = _read_xlsx(data) if fmt == "xlsx" else _read_csv(data)
    header: list[str] | None = None
    rows: list[Row] = []
    for number, values in lines:
        if not any(v.strip() for v in values):
            continue
        if header is None:
            header = [v.strip().lower() for v in values]
            continue
        if len(rows) >= MAX_ROWS:
            raise TableError(_("at most %(n)d rows can be imported at once") % {"n": MAX_ROWS})
        cells = {
            name: (values[i].strip() if i < len(values) else "")
            for i, name in enumerate(header)
            if name
        }
        rows.append(Row(number, cells))
    if header is None:
        raise TableError(_("the file is empty: the first row must name the columns"))
    return rows


def _read_csv(data: bytes) -> list[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(_("the CSV file is not UTF-8 text")) from exc
    if "\x00" in text:
        raise TableError(_("the CSV file contains NUL characters"))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        return [(reader.line_num, [_unquote(v) for v in row]) for row in reader]
    except csv.Error as exc:
        raise TableError(_("the CSV file cannot be read: %(e)s") % {"e": exc}) from exc


def _unquote(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


def _quote(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _read_xlsx(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # loaded only when an XLSX file comes in

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise TableError(_("the file is not a readable XLSX workbook")) from exc
    try:
        sheet = book.worksheets[0]
        return [
            (number, [_cell_text(v) for v in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_table(columns: list[str], rows: list[list[str]], fmt: str) -> bytes:
    """A CSV (UTF-8) or XLSX file with a header row and ``rows``."""
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.append(columns)
        for row in rows:
            sheet.append(row)
        for line in sheet.iter_rows(min_row=2):
            for cell in line:
                cell.data_type = "s"  # text stays text: never a formula
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    writer.writerows([_quote(v) for v in row] for row in rows)
    return text.getvalue().encode("utf-8")

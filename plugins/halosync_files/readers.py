"""Streaming the rows of a CSV or XLSX file, one at a time, numbered as a spreadsheet shows them.

Neither reader holds more than one row: CSV through the ``csv`` module over a text stream, XLSX through
openpyxl's read-only mode (its worksheets are parsed as they are iterated). Row numbers count every record from 1,
the header and blank rows included, so ``file:row`` in a dead letter is the row a user finds in Excel.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from halosync_files import detect

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a long notes column is data, not an attack on memory: rows are
# read one at a time


class FileUnreadable(Exception):
    """The file as a whole cannot be read (not CSV or XLSX, a broken workbook, an encoding that does not fit)."""


Row = tuple[int, list[str]]


@dataclass(frozen=True)
class Format:
    kind: str  # "csv" or "xlsx"
    encoding: str = ""
    delimiter: str = ""

    def describe(self) -> str:
        if self.kind == "xlsx":
            return "xlsx"
        shown = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(self.delimiter, repr(self.delimiter))
        return f"csv, {self.encoding}, {shown}-separated"


def sniff(path: Path, found: detect.Scan, *, encoding: str = "", delimiter: str = "") -> Format:
    if detect.is_xlsx(found.head):
        return Format("xlsx")
    chosen = encoding or detect.encoding(found)
    try:
        text = found.head.decode(chosen, errors="ignore")  # the sample may end inside a character
    except LookupError as exc:
        raise FileUnreadable(f"unknown encoding {chosen!r}: set encoding to utf-8, cp1252 or utf-16") from exc
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\x0c")
    if "\x00" in text or controls * 100 > len(text):
        raise FileUnreadable("binary content (control bytes): not a CSV or XLSX file")
    return Format("csv", chosen, delimiter or detect.delimiter(text.lstrip("\ufeff")))


@contextmanager
def open_rows(path: Path, fmt: Format, *, sheet: str = "") -> Iterator[Iterator[Row]]:
    if fmt.kind == "xlsx":
        with _xlsx_rows(path, sheet) as rows:
            yield rows
        return
    with path.open("r", encoding=fmt.encoding, errors="strict", newline="") as f:
        yield _csv_rows(f, fmt.delimiter)


def _csv_rows(f: io.TextIOBase, delimiter: str) -> Iterator[Row]:
    reader = csv.reader(f, delimiter=delimiter)
    number = 0
    try:
        for number, cells in enumerate(reader, 1):  # the number is reported after the loop
            yield number, cells
    except UnicodeDecodeError as exc:
        raise FileUnreadable(f"row {number + 1}: bytes that are not {exc.encoding}: set encoding in "
                             "[plugins.files] (utf-8, cp1252 or utf-16)") from exc
    except csv.Error as exc:
        raise FileUnreadable(f"row {number + 1}: {exc}") from exc


@contextmanager
def _xlsx_rows(path: Path, sheet: str) -> Iterator[Iterator[Row]]:
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise FileUnreadable(f"not a readable XLSX workbook ({exc}); save it again from Excel as .xlsx") from exc
    try:
        if sheet and sheet not in book.sheetnames:
            raise FileUnreadable(f"no sheet {sheet!r}; the workbook has {', '.join(book.sheetnames)}")
        ws = book[sheet] if sheet else book.worksheets[0]
        yield ((n, [cell_text(v) for v in values]) for n, values in
               zip(itertools.count(1), ws.iter_rows(values_only=True), strict=False))
    finally:
        book.close()


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV export of it would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))  # phone numbers and ids typed as numbers
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)

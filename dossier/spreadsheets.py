"""Reading and writing tables as CSV or XLSX; every cell written is made safe on the way out:
no characters that XML or a reader chokes on, formula injection escaped."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from dossier.errors import DomainError
from dossier.text import BIDI, NONCHARACTERS

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 100_000
EURO_FORMAT = "€ #,##0.00"
DATE_FORMAT = "dd-mm-yyyy"
DATETIME_FORMAT = "dd-mm-yyyy hh:mm"
# Characters XML 1.0 forbids (openpyxl refuses the whole workbook for one of them), the other
# C1 controls, lone surrogates, and bidi embeddings, overrides and isolates. Tab and line ends
# stay: they are legal, and a description keeps its lines.
_UNSAFE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{NONCHARACTERS}{BIDI}]")
# Controls that separate words (vertical tab, form feed, the separators) become a space.
_SPACING = re.compile("[\x0b\x0c\x1c-\x1f\x85]")
# Columns are as wide as their widest text among the header and this many first rows.
WIDTH_SAMPLE = 200
MIN_WIDTH, MAX_WIDTH = 8, 60


def escape_cell(value: Any) -> Any:
    """A value made safe for a spreadsheet cell: text loses the characters a file may not hold
    (an old row with a vertical tab must still export), and text that a spreadsheet would run
    as a formula gets a leading apostrophe. Cleaning comes first, and leading spaces do not
    count, so a control character cannot hide a formula from the escape."""
    if not isinstance(value, str):
        return value
    value = _UNSAFE.sub("", _SPACING.sub(" ", value))
    if value.lstrip().startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_dialect(locale: str) -> tuple[str, str]:
    """(separator, decimal mark) of a CSV file for Excel in `locale`.

    Dutch Excel reads `;`-separated files with decimal commas; comma-separated ones land in a
    single column.
    """
    return (";", ",") if locale.split("_")[0] == "nl" else (",", ".")


def _csv_value(value: Any, decimal_mark: str = ".") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return escape_cell(", ".join(str(v) for v in value))
    if isinstance(value, Decimal | float):
        return str(value).replace(".", decimal_mark)
    return escape_cell(str(value)) if not isinstance(value, int) else str(value)


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.replace(tzinfo=None)
    if hasattr(value, "value") and not isinstance(value, Decimal):  # enums
        value = value.value
    return escape_cell(value)


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """A cell: amounts as numbers in euros, dates as dates, text escaped."""
    value = _xlsx_value(value)
    if isinstance(value, bool) or not isinstance(value, Decimal | date):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, Decimal):
        cell.number_format = EURO_FORMAT
    elif isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    else:
        cell.number_format = DATE_FORMAT
    return cell


def write_table(
    path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], locale: str = "en"
) -> None:
    """Write `rows` under `header` to `path`, as XLSX or CSV by its extension."""
    kind = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    with path.open("wb") as handle:
        dump_table(handle, kind, header, rows, locale=locale)


def dump_table(
    handle: IO[bytes],
    kind: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    sheet_title: str = "register",
    locale: str = "en",
) -> None:
    """Write a table to a binary stream as "xlsx" or "csv" (UTF-8 with BOM, for Excel).

    A CSV file follows `locale`'s Excel: Dutch gets `;` between cells and decimal commas.
    """
    if kind == "xlsx":
        _dump_xlsx(handle, header, rows, sheet_title)
        return
    separator, decimal_mark = csv_dialect(locale)
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, delimiter=separator)
    writer.writerow([escape_cell(h) for h in header])
    for row in rows:
        writer.writerow([_csv_value(v, decimal_mark) for v in row])
    text.flush()
    text.detach()


def _dump_xlsx(
    handle: IO[bytes], header: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str
) -> None:
    """Write one sheet, streamed (write-only mode), laid out by `lay_out`."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])
    rows = iter(rows)
    # Widths go into the file before the first row: they are measured on a first batch only,
    # so a large register still streams.
    first = list(itertools.islice(rows, WIDTH_SAMPLE))
    lay_out(sheet, header, first)
    count = 0
    sheet.append([escape_cell(h) for h in header])
    for row in itertools.chain(first, rows):
        sheet.append([_xlsx_cell(sheet, v) for v in row])
        count += 1
    finish_layout(sheet, len(header), count)
    workbook.save(handle)


def lay_out(sheet: Any, header: Sequence[str], sample: Iterable[Sequence[Any]]) -> None:
    """Column widths that fit the header and `sample`, and the header row frozen, so every
    export opens readable; call before the first row is written."""
    widths = [_width(h) for h in header]
    for row in sample:
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], _width(value))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(
            max(width + 2, MIN_WIDTH), MAX_WIDTH
        )
    sheet.freeze_panes = "A2"


def finish_layout(sheet: Any, columns: int, rows: int) -> None:
    """An autofilter over the header and the `rows` written under it."""
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{rows + 1}"


def _width(value: Any) -> int:
    """About how many characters wide `value` shows in its cell (its longest line)."""
    value = _xlsx_value(value)
    if isinstance(value, datetime):
        return len(DATETIME_FORMAT)
    if isinstance(value, date):
        return len(DATE_FORMAT)
    if isinstance(value, Decimal):
        return len(f"€ {value:,.2f}")
    if value is None:
        return 0
    return max((len(line) for line in str(value).splitlines()), default=0)


def table_bytes(
    kind: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    sheet_title: str = "report",
    locale: str = "en",
) -> bytes:
    """A table as the bytes of an "xlsx" or "csv" file, for a download."""
    buffer = io.BytesIO()
    dump_table(buffer, kind, header, rows, sheet_title, locale)
    return buffer.getvalue()


def read_table(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row number, {header: value}) for each non-empty row of a CSV or XLSX file."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        rows = _xlsx_rows(path)
    elif suffix in (".csv", ".txt"):
        rows = _csv_rows(path)
    else:
        raise DomainError(f"{path.name}: give a .csv or .xlsx file")
    header: list[str] | None = None
    for number, row in enumerate(rows, start=1):
        if number > MAX_ROWS:
            raise DomainError(f"more than {MAX_ROWS} rows; split the file")
        if header is None:
            header = [str(c or "").strip() for c in row]
            continue
        if all(c is None or str(c).strip() == "" for c in row):
            continue
        yield number, dict(zip(header, row, strict=False))


def _xlsx_rows(path: Path) -> Iterator[Sequence[Any]]:
    from ingest.detect import Refused, check_zip

    try:
        check_zip(path)
    except Refused as exc:
        raise DomainError(f"{path.name}: {exc}") from exc
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (KeyError, ValueError, OSError, zipfile.BadZipFile, InvalidFileException) as exc:
        # A zip that passed the checks but holds no workbook, e.g. a .docx renamed .xlsx.
        raise DomainError(f"{path.name} is not an Excel workbook") from exc
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def _csv_rows(path: Path) -> Iterator[Sequence[Any]]:
    raw = path.read_bytes()
    try:
        # Excel's "Unicode text" is UTF-16 with a byte-order mark; read as UTF-8 or cp1252 it
        # would put a NUL between every two letters.
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = raw.decode("utf-16")
        else:
            text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    delimiter = _delimiter(text.split("\n", 1)[0].rstrip("\r"))
    yield from csv.reader(io.StringIO(text), csv.excel, delimiter=delimiter)


_DELIMITERS = ",;\t"


def _delimiter(header: str) -> str:
    """The delimiter of a CSV file: the one that splits its header line into the most columns
    (quotes respected); the Sniffer only breaks a tie.

    The Sniffer alone prefers a comma wherever one occurs, so a Dutch Excel file (`;`) with a
    header like "Contractwaarde (EUR, excl. btw)" was read as comma-separated. Only the
    delimiter is taken from it: from a header without quotes the Sniffer also guesses
    doublequote=False, which splits every cell holding "" (an escaped quote) in two.
    """
    widths = {}
    for candidate in _DELIMITERS:
        try:
            widths[candidate] = len(next(csv.reader([header], csv.excel, delimiter=candidate)))
        except (csv.Error, StopIteration):
            widths[candidate] = 0
    widest = max(widths.values())
    tied = "".join(d for d in _DELIMITERS if widths[d] == widest)
    if len(tied) == 1:
        return tied
    try:
        return csv.Sniffer().sniff(header, delimiters=tied).delimiter
    except csv.Error:
        return ","

"""Text of Excel workbooks (.xlsx) with openpyxl in read-only mode: one page per worksheet."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from .model import Draft, Extraction, Job, Unreadable, clean_line
from .office import check_container

# Caps per worksheet and per workbook; cells count the empty ones a sparse sheet pads with.
MAX_ROWS_PER_SHEET = 200_000
MAX_CELLS = 5_000_000
CELL_MAX_CHARS = 10_000
METADATA = {"title": "title", "author": "creator", "subject": "subject", "keywords": "keywords"}


def parse_xlsx(job: Job) -> Extraction:
    """Each worksheet becomes a page: "[name]" (no word of any language), then its rows as
    tab-separated values."""
    check_container(job)
    try:
        workbook = openpyxl.load_workbook(
            job.path, read_only=True, data_only=True, keep_links=False
        )
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unreadable(f"the workbook is unreadable ({exc})") from None
    try:
        draft = Draft(job.limits)
        for key, attribute in METADATA.items():
            draft.set_metadata(key, getattr(workbook.properties, attribute, None) or "")
        _read_sheets(workbook, job, draft)
    finally:
        workbook.close()
    return draft.finish()


def _read_sheets(workbook: Any, job: Job, draft: Draft) -> None:
    """Add one page per worksheet until the cell cap, the text budget or the deadline."""
    cells_left = MAX_CELLS
    for number, sheet in enumerate(workbook.worksheets):
        if cells_left <= 0 or draft.room <= 0 or job.time_left() <= 0:
            draft.note(f"only {number} of {len(workbook.worksheets)} sheets were read")
            return
        # The stored dimension can be wrong (too small drops cells, too large pads rows).
        sheet.reset_dimensions()
        lines, cells_left = _sheet_lines(sheet, cells_left, draft)
        draft.add_page("\n".join([f"[{clean_line(sheet.title, 200)}]", *lines]))


def _sheet_lines(sheet: Any, cells_left: int, draft: Draft) -> tuple[list[str], int]:
    """The non-empty rows of a sheet as tab-separated lines, and the cells still allowed."""
    lines: list[str] = []
    room = draft.room
    for count, row in enumerate(sheet.iter_rows(values_only=True)):
        if count >= MAX_ROWS_PER_SHEET or cells_left <= 0 or room <= 0:
            draft.note(f"sheet {clean_line(sheet.title, 60)!r} was read only in part")
            break
        cells_left -= len(row)
        line = _row_text(row)
        if line:
            lines.append(line)
            room -= len(line) + 1
    return lines, cells_left


def _row_text(row: Iterable[Any]) -> str:
    """One row as tab-separated cell texts, trailing empty cells dropped."""
    return "\t".join(_cell_text(value) for value in row).rstrip("\t")


def _cell_text(value: Any) -> str:
    """A cell value as one line of text: whole numbers without .0, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return clean_line(value, CELL_MAX_CHARS)

"""Spreadsheet exports: every cell is safe to write (an old row with a control character still
exports), formulas stay escaped, and every XLSX export opens laid out (widths, frozen header,
autofilter)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from dossier import deadlines, documents, reports
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    Category,
    DeadlineKind,
    DeadlineStatus,
    DocumentKind,
    Dossier,
    DossierStatus,
    NoticeUnit,
    User,
)
from dossier.spreadsheets import escape_cell, read_table, table_bytes

pytestmark = pytest.mark.any_database

TODAY = date(2026, 1, 15)
# As an old row holds it: stored before input was cleaned.
SUPPLIER = "Leverancier\x0bB.V."
SHOWN = "Leverancier B.V."


def _sheet(body: bytes) -> Worksheet:
    return load_workbook(io.BytesIO(body)).worksheets[0]


def _texts(sheet: Worksheet) -> set[str]:
    return {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None}


def _check_laid_out(sheet: Worksheet) -> None:
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}" + str(
        sheet.max_row
    )
    assert sheet.column_dimensions["A"].width >= 8


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("Leverancier\x0bB.V.", "Leverancier B.V."),
        ("a\x00b\x08c\x1bd\x7fe\x9ff", "abcdef"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("lone \ud800 surrogate \uffff", "lone  surrogate "),
        ("two\nlines\tand a tab", "two\nlines\tand a tab"),
        ("=1+2", "'=1+2"),
        ("\x0b=HYPERLINK(1)", "' =HYPERLINK(1)"),  # a control cannot hide a formula
        ("\x00@SUM(A1)", "'@SUM(A1)"),
        (12, 12),
        (None, None),
    ],
)
def test_escape_cell_cleans_then_escapes(raw: Any, safe: Any) -> None:
    assert escape_cell(raw) == safe


def test_a_control_character_in_a_cell_writes_a_workbook_and_a_csv() -> None:
    header = ["reference", "supplier\x0b", "notes"]
    rows = [["2025-001", SUPPLIER, "first\x0cline\nsecond\x00"]]
    sheet = _sheet(table_bytes("xlsx", header, rows))
    assert list(sheet.iter_rows(values_only=True)) == [
        ("reference", "supplier ", "notes"),
        ("2025-001", SHOWN, "first line\nsecond"),
    ]
    text = table_bytes("csv", header, rows).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))[1] == ["2025-001", SHOWN, "first line\nsecond"]


def test_layout_widths_frozen_header_and_autofilter() -> None:
    header = ["reference", "title", "value", "end_on", "notes"]
    rows = [
        ["2025-001", "Schoonmaak", Decimal("1234567.89"), date(2026, 1, 31), "x" * 500],
        ["2025-002", "Onderhoud van alle gebouwen in de gemeente", None, None, "kort"],
        ["2025-003", "Beveiliging", Decimal("5"), date(2027, 6, 30), "een\nveel langere regel"],
    ]
    sheet = _sheet(table_bytes("xlsx", header, rows))
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDE"}
    assert widths["A"] == len("reference") + 2
    assert widths["B"] == len("Onderhoud van alle gebouwen in de gemeente") + 2
    assert widths["C"] == len("€ 1,234,567.89") + 2
    assert widths["D"] == len("dd-mm-yyyy") + 2
    assert widths["E"] == 60  # a long text is capped, not a column of a mile
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E4"
    # An empty table still gets a header with a filter over it.
    empty = _sheet(table_bytes("xlsx", ["a", "b"], []))
    assert (empty.freeze_panes, empty.auto_filter.ref) == ("A2", "A1:B1")


def test_a_utf16_csv_from_excel_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_bytes("\ufeffKenmerk\tTitel\r\n2025-001\tSchoonmaak\r\n".encode("utf-16-le"))
    assert list(read_table(path)) == [(2, {"Kenmerk": "2025-001", "Titel": "Schoonmaak"})]


@pytest.mark.parametrize(
    ("text", "row"),
    [
        # Dutch Excel: `;`, and a comma inside a header (the Sniffer alone chose the comma).
        (
            "Kenmerk;Contractwaarde (EUR, excl. btw);Labels\r\n2025-001;1234,50;a, b\r\n",
            {"Kenmerk": "2025-001", "Contractwaarde (EUR, excl. btw)": "1234,50", "Labels": "a, b"},
        ),
        # Commas, with the comma inside a header quoted; a semicolon in a cell.
        (
            'reference,"Contract value (EUR, excl. VAT)",title\n2025-001,1234.50,a;b\n',
            {"reference": "2025-001", "Contract value (EUR, excl. VAT)": "1234.50", "title": "a;b"},
        ),
        ("reference\n2025-001\n", {"reference": "2025-001"}),
    ],
)
def test_the_csv_delimiter_is_the_one_that_splits_the_header(
    tmp_path: Path, text: str, row: dict[str, str]
) -> None:
    path = tmp_path / "register.csv"
    path.write_text(text, encoding="utf-8")
    assert list(read_table(path)) == [(2, row)]


@pytest.fixture
def old_rows(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> User:
    """A dossier whose supplier, title, deadline note, document title and filer's name hold
    control characters, stored as rows from before input was cleaned would hold them."""
    app.config["REPORT_DATE"] = TODAY.isoformat()
    filer = make_user("filer@example.org", name="Fi\x0bler")
    dossier = make_dossier(
        "2025-001",
        title="Schoonmaak\x0bkantoren",
        supplier=SUPPLIER,
        status=DossierStatus.ACTIVE,
        category=Category.SERVICES,
        value=Decimal("500000"),
        annual_value=Decimal("125000"),
        start_on=date(2024, 2, 1),
        end_on=date(2026, 6, 30),
        notice_value=1,
        notice_unit=NoticeUnit.MONTHS,
        auto_renewal=True,  # only a contract that renews by itself has a notice deadline
        review_months=6,
    )
    due = next(
        d.due_on for d in deadlines.for_dossiers([dossier], TODAY) if d.kind == DeadlineKind.NOTICE
    )
    deadlines.set_status(
        admin, dossier, DeadlineKind.NOTICE, due, DeadlineStatus.OPEN, "bel\x0bterug", TODAY
    )
    with documents.receive(io.BytesIO(b"Brief\n"), "brief.txt") as upload:
        documents.file_document(
            filer, dossier, upload, kind=DocumentKind.CORRESPONDENCE, title="Brief\x0bover"
        )
    db.session.commit()
    return admin


def test_every_xlsx_report_export_opens_with_an_old_control_character(
    app: Flask, old_rows: User
) -> None:
    client = app.test_client(user=old_rows)
    seen: set[str] = set()
    for name in reports.TABLE_NAMES:
        response = client.get(f"/reports/export/{name}.xlsx")
        assert response.status_code == 200, name
        sheet = _sheet(response.data)
        _check_laid_out(sheet)
        seen |= _texts(sheet)
        assert client.get(f"/reports/export/{name}.csv").status_code == 200, name
    assert {SHOWN, "Schoonmaak kantoren", "bel terug"} <= seen
    assert not any("\x0b" in text for text in seen)


def test_the_cli_exports_succeed_with_an_old_control_character(
    app: Flask, old_rows: User, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    for suffix in ("xlsx", "csv"):
        target = tmp_path / f"register.{suffix}"
        result = runner.invoke(cli, ["register", "export", str(target)])
        assert result.exit_code == 0, result.output
    sheet = load_workbook(tmp_path / "register.xlsx").worksheets[0]
    _check_laid_out(sheet)
    assert SHOWN in _texts(sheet)
    assert SHOWN in (tmp_path / "register.csv").read_text(encoding="utf-8-sig")
    for name in ("deadlines", "tenders", "value", "completeness"):
        target = tmp_path / f"{name}.xlsx"
        args = ["report", name, "--as", old_rows.email, "--format", "xlsx", "--output", str(target)]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (name, result.output)
        _check_laid_out(load_workbook(target).worksheets[0])


def test_the_audit_csv_export_is_clean(app: Flask, old_rows: User) -> None:
    response = app.test_client(user=old_rows).get("/dossiers/2025-001/audit/export.csv")
    assert response.status_code == 200
    text = response.data.decode("utf-8-sig")
    assert SHOWN in text and "\x0b" not in text

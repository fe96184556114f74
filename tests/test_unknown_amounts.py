"""An amount nobody recorded is unknown: pages show "—" and exports an empty cell, never
€ 0,00; a group with at least one known amount sums the known ones, and nothing at all sums to
a known zero."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from flask import Flask
from openpyxl import load_workbook

from dossier import reports
from dossier.models import Dossier, DossierStatus, User

TODAY = date(2026, 1, 15)


def _seed(app: Flask, make_dossier: Callable[..., Dossier]) -> None:
    app.config["REPORT_DATE"] = TODAY.isoformat()
    active = {"status": DossierStatus.ACTIVE}
    make_dossier("2025-001", supplier="Kantoor BV", annual_value=Decimal("20000"), **active)
    make_dossier("2025-002", supplier="Acme", value=Decimal("100000"), **active)
    make_dossier("2025-003", supplier="Acme", **active)


def test_total_of_unknown_amounts_is_unknown() -> None:
    assert reports.total([None, None]) is None
    assert reports.total([None, Decimal("5")]) == Decimal("5")
    assert reports.total([]) == Decimal("0")


def test_value_tables_keep_unknown_sums_unknown(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    _seed(app, make_dossier)
    tables = {t.name: t for t in reports.value_report(admin, TODAY)}
    assert tables["value_supplier"].rows == [
        ["Acme", 2, Decimal("100000"), None],
        ["Kantoor BV", 1, None, Decimal("20000")],
    ]
    totals = reports.value_totals(admin, TODAY).rows
    assert ["supplier", "Kantoor BV", 1, None, Decimal("20000")] in totals


def test_pages_show_a_dash_for_an_unknown_amount(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    _seed(app, make_dossier)
    client = app.test_client(user=admin)
    page = client.get("/reports/value").text
    assert not re.search(r"€\s*0,00", page)  # no made-up zero, in tables or charts
    kantoor = re.search(r"<tr><td>Kantoor BV</td>(.*?)</tr>", page)
    assert kantoor is not None
    assert re.findall(r"<td[^>]*>([^<]*)</td>", kantoor.group(1))[:2] == ["1", "—"]
    register = client.get("/").text
    row = re.search(r"2025-003</a></td>(.*?)</tr>", register, re.S)
    assert row is not None and '<td class="num">—</td>' in row.group(1)
    assert "—" in client.get("/dossiers/2025-003").text


def test_exports_leave_an_unknown_amount_empty(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    _seed(app, make_dossier)
    client = app.test_client(user=admin)
    sheet = load_workbook(io.BytesIO(client.get("/reports/export/value_supplier.xlsx").data))
    rows = {r[0]: r[1:] for r in sheet.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert rows == {"Acme": (2, 100000, None), "Kantoor BV": (1, None, 20000)}
    text = client.get("/reports/export/value_supplier.csv").data.decode("utf-8-sig")
    table = {r[0]: r[1:] for r in list(csv.reader(io.StringIO(text), delimiter=";"))[1:]}
    assert table == {"Acme": ["2", "100000,00", ""], "Kantoor BV": ["1", "", "20000,00"]}

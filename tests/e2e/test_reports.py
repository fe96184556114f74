"""Management information in the browser: every report page passes axe, and the tables export
to CSV and XLSX files that hold the dossier just registered."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in

REPORT_PAGES = [
    ("/overview", "overview"),
    ("/reports/deadlines", "report-deadlines"),
    ("/reports/tenders", None),
    ("/reports/value", "report-value"),
    ("/reports/completeness", None),
    ("/reports/activity", None),
]


def test_reports_open_and_export(page: Any, server: Server) -> None:
    log_in(page, server)
    end = date.today() + timedelta(days=75)
    page.goto("/dossiers/new")
    page.fill("#reference", "2026-500")
    page.fill("#title", "Schoonmaak kantoren")
    page.fill("#supplier", "Schoon B.V.")
    page.select_option("#status", "active")
    page.fill("#end_on", end.isoformat())
    page.fill("#notice_value", "1")
    page.select_option("#notice_unit", "months")
    page.fill("#value", "250.000,00")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url("**/dossiers/2026-500")

    page.get_by_role("link", name="Rapportages").click()
    expect(page).to_have_url(re.compile(r"/reports/deadlines$"))
    expect(page.locator("main table").first).to_contain_text("2026-500")
    for path, screenshot in REPORT_PAGES:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        check_accessibility(page, screenshot)

    page.goto("/reports/deadlines")
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV").first.click()
    csv_text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    assert "2026-500" in csv_text and "Schoonmaak kantoren" in csv_text
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Excel (XLSX)").first.click()
    assert csv_download.value.suggested_filename.endswith(".csv")
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    assert Path(xlsx_download.value.path()).read_bytes()[:2] == b"PK"  # XLSX is a zip container

"""Performance management in the browser: agree a KPI, record two periods (one with a
penalty), read the status, trend and scorecard, export; every page passes axe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in


def test_agree_a_kpi_record_periods_and_read_the_scorecard(page: Any, server: Server) -> None:
    log_in(page, server)
    page.goto("/dossiers/new")
    page.fill("#reference", "2026-640")
    page.fill("#title", "Werkplekbeheer")
    page.fill("#supplier", "Conduction B.V.")
    page.select_option("#status", "active")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url("**/dossiers/2026-640")

    page.get_by_role("link", name="Serviceniveaus, KPI's en boetes").click()
    page.wait_for_url("**/dossiers/2026-640/performance")
    check_accessibility(page)
    page.fill("#name", "Beschikbaarheid")
    page.fill("#norm", "99,5")
    page.fill("#unit", "%")
    page.select_option("#direction", "higher")
    page.select_option("#period", "month")
    page.fill("#tolerance", "0,5")
    page.get_by_role("button", name="KPI opslaan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beschikbaarheid")

    for period, value, penalty in (("2026-01", "99,2", ""), ("2026-02", "97,0", "2.500,00")):
        page.fill("#period", period)
        page.fill("#value", value)
        page.fill("#penalty_amount", penalty)
        page.get_by_role("button", name="Meting opslaan").click()
        expect(page.locator(".flash, [role=status], [role=alert]").first).to_be_visible()
    expect(page.locator("main dl")).to_contain_text("Rood (norm niet gehaald)")
    expect(page.locator("main table")).to_contain_text("Oranje (binnen tolerantie)")
    expect(page.locator("svg.trend.chart-wide circle")).to_have_count(2)
    check_accessibility(page, "performance-kpi")

    page.get_by_role("link", name="Rapportages").click()
    page.get_by_role("link", name="Prestaties").click()
    expect(page.locator("#h-scorecard")).to_be_visible()
    expect(page.locator("main table").first).to_contain_text("Conduction B.V.")
    expect(page.locator("main table").first).to_contain_text("2.500,00")
    check_accessibility(page, "performance-scorecard")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "Conduction B.V." in text and "2500,00" in text

"""Amendments in the browser: the beheerder records extra work of 12.500,00 on a services
contract of 100.000,00 (12.5 %, past the 10 % de-minimis limit: flagged for review), the
contract owner approves it, and the current value and the checks report follow; each page
passes axe, on a laptop and on a phone."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in

OWNER = "amd.eigenaar@example.org"
OWNER_PASSWORD = "een lang genoeg wachtwoord voor olga"


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))


def test_record_an_amendment_and_the_owner_approves_it(page: Any, server: Server) -> None:
    log_in(page, server)
    page.goto("/admin/users")
    page.fill("#email", OWNER)
    page.fill("#name", "Olga Eigenaar")
    page.fill("#password", OWNER_PASSWORD)
    page.get_by_role("button", name="Gebruiker aanmaken").click()
    expect(page.locator("main")).to_contain_text(OWNER)

    page.goto("/dossiers/new")
    page.fill("#reference", "AMD-001")
    page.fill("#title", "Schoonmaak stadhuis")
    page.select_option("#status", "active")
    page.select_option("#category", "services")
    page.fill("#value", "100.000,00")
    page.fill("#end_on", "2028-12-31")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url("**/dossiers/AMD-001")
    page.goto("/dossiers/AMD-001/members")
    page.fill("#principal", OWNER)
    page.select_option("#role", "owner")
    page.get_by_role("button", name="Toevoegen").click()
    expect(page.locator("main table tbody tr", has_text=OWNER)).to_have_count(1)

    page.goto("/dossiers/AMD-001")
    page.get_by_role("button", name="Wijzigingen", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wijzigingen en meerwerk")
    check_accessibility(page)
    page.fill("#amended_on", "2026-11-02")
    page.fill("#description", "Extra schoonmaak raadzaal")
    page.fill("#value_change", "12.500,00")
    page.fill("#reason", "Raadzaal vaker in gebruik")
    page.select_option("#legal_ground", "2.163b")
    page.get_by_role("button", name="Vastleggen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wijziging van")
    main = page.locator("main")
    expect(main).to_contain_text("Wacht op goedkeuring")
    expect(main).to_contain_text("Wijzigingen voorbij de de-minimisgrens")
    expect(main).to_contain_text("een ander, de contracteigenaar")
    check_accessibility(page)
    amendment_url = page.url
    _log_out(page)

    log_in(page, server, OWNER, OWNER_PASSWORD)
    page.goto(amendment_url)
    check_accessibility(page)
    page.select_option("#decision", "approve")
    page.fill("#decision_note", "Akkoord, binnen budget")
    page.get_by_role("button", name="Besluit opslaan").click()
    expect(page.locator("main")).to_contain_text("Goedgekeurd")
    expect(page.locator("main")).to_contain_text("Olga Eigenaar")

    page.goto("/dossiers/AMD-001")
    facts = page.locator("#h-contract ~ dl")
    expect(facts).to_contain_text("100.000,00")
    expect(facts).to_contain_text("112.500,00")
    check_accessibility(page)

    page.goto("/reports/checks")
    row = page.locator("main table tbody tr", has_text="AMD-001")
    expect(row).to_contain_text("Wijzigingen voorbij de de-minimisgrens")
    expect(row).to_contain_text("12,5")
    check_accessibility(page)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/dossiers/AMD-001/amendments")
    expect(page.locator("main table")).to_contain_text("Goedgekeurd")
    check_accessibility(page)
    page.goto("/reports/checks")
    check_accessibility(page)

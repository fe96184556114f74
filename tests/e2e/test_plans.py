"""The execution plan in the browser: answer the questions, link the plan van aanpak, record a
review with a deviation; every page passes axe."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in


def test_fill_the_plan_and_record_a_review(page: Any, server: Server) -> None:
    log_in(page, server)
    page.goto("/dossiers/new")
    page.fill("#reference", "2026-650")
    page.fill("#title", "Hosting zaaksysteem")
    page.select_option("#status", "active")
    page.select_option("#category", "services")
    page.fill("#start_on", "2025-01-01")
    page.fill("#review_months", "6")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url("**/dossiers/2026-650")
    expect(page.locator("#h-plan + p")).to_contain_text("nooit te laat")
    check_accessibility(page)
    # Running, services, no plan: the overview reminds the beheerder.
    page.goto("/overview")
    expect(page.locator("#h-plans ~ ul")).to_contain_text("2026-650")
    check_accessibility(page)
    page.goto("/dossiers/2026-650")

    page.get_by_role("button", name="Uitvoeringsplan", exact=True).click()
    expect(page).to_have_url(re.compile(r"/dossiers/2026-650/plan$"))
    expect(page.locator("main")).to_contain_text("nooit te laat")
    check_accessibility(page)

    page.get_by_role("button", name="Beantwoord de vragen").click()
    check_accessibility(page)
    page.get_by_label("Waarom doen we dit?").fill("Het zaaksysteem moet 99,8% beschikbaar zijn.")
    page.get_by_label("Wat kost het?").fill("€ 120.000 per jaar")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("main")).to_contain_text("99,8% beschikbaar")

    page.get_by_role("button", name="Evaluatie vastleggen").click()
    check_accessibility(page)
    page.fill("#held_on", date.today().isoformat())
    page.get_by_label("Deelnemers").fill("Beheerder, accountmanager leverancier")
    page.select_option("#outcome", "deviations")
    page.get_by_label("Afwijking in het budget").fill("Meerwerk migratie € 8.000")
    page.get_by_role("button", name="Evaluatie vastleggen").click()
    expect(page.locator("#h-reviews ~ div table")).to_contain_text("Meerwerk migratie")
    check_accessibility(page)

    page.get_by_role("button", name="Geschiedenis van de antwoorden").click()
    expect(page.locator("main table")).to_contain_text("€ 120.000 per jaar")
    check_accessibility(page)

    # The one-page summary for the contract owner shows the review, passes axe, prints.
    page.goto("/dossiers/2026-650")
    page.get_by_role("button", name="Samenvatting").click()
    expect(page).to_have_url(re.compile(r"/dossiers/2026-650/summary$"))
    expect(page.locator("#h-sum-plan + p")).to_contain_text("Laatste evaluatie")
    expect(page.get_by_role("button", name="Afdrukken")).to_be_visible()
    check_accessibility(page)
    page.emulate_media(media="print")
    expect(page.locator("header.container")).to_be_hidden()
    expect(page.get_by_role("button", name="Afdrukken")).to_be_hidden()

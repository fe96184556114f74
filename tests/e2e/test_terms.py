"""A contract's life in the browser: the beheerder exercises the first option (one action: the
end date moves, the option deadline closes with the decision kept) and proposes a re-tender;
the contract owner approves it, which creates the successor tender dossier. Every page passes
axe, on a laptop and on a phone-sized window."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in

OWNER = "trm.eigenaar@example.org"
OWNER_PASSWORD = "een lang genoeg wachtwoord"


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))


def test_exercise_an_option_and_approve_the_end_decision(page: Any, server: Server) -> None:
    today = date.today()
    # Four years ending four months from now, with one option of 12 months: the maximum end
    # (16 months ahead) is within the tender horizon of 18 months, so a decision is needed.
    end = today + relativedelta(months=4)
    start = end - relativedelta(years=4) + timedelta(days=1)
    new_end = end + relativedelta(months=12)
    log_in(page, server)
    page.get_by_role("link", name="Beheer", exact=True).click()
    page.fill("#email", OWNER)
    page.fill("#name", "Olga Eigenaar")
    page.fill("#password", OWNER_PASSWORD)
    page.get_by_role("button", name="Gebruiker aanmaken").click()
    expect(page.locator("main")).to_contain_text(OWNER)

    page.goto("/dossiers/new")
    page.fill("#reference", "TRM-1")
    page.fill("#title", "Werkplekbeheer")
    page.select_option("#status", "active")
    page.fill("#start_on", start.isoformat())
    page.fill("#end_on", end.isoformat())
    page.fill("#option_count", "1")
    page.fill("#option_months", "12")
    page.fill("#annual_value", "250.000")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url("**/dossiers/TRM-1")
    page.get_by_role("button", name="Leden").click()
    page.fill("#principal", OWNER)
    page.select_option("#role", "owner")
    page.get_by_role("button", name="Toevoegen").click()
    expect(page.locator("main table tbody tr", has_text=OWNER)).to_have_count(1)

    page.goto("/dossiers/TRM-1")
    expect(page.locator("#h-life").locator("..")).to_contain_text("4 jaar; 1 optie over")
    page.get_by_role("button", name="Looptijd, opties en besluit").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("TRM-1")
    expect(page.locator("main")).to_contain_text("Besluit nodig")
    check_accessibility(page, "term-history")
    page.fill("#option-decided_on", (today - timedelta(days=1)).isoformat())
    page.fill("#option-decided_by", "Directeur bedrijfsvoering")
    page.get_by_role("button", name="Optie als gelicht vastleggen").click()
    expect(page.locator(".flash")).to_contain_text("Optie gelicht")
    timeline = page.locator("#h-timeline").locator("..")
    expect(timeline).to_contain_text("4 + 1 jaar; optie 1 gelicht op")
    expect(timeline).to_contain_text("Directeur bedrijfsvoering")
    expect(page.locator("main")).not_to_contain_text("Optie 2 lichten")  # none left
    check_accessibility(page)

    # The option deadline is closed as acted on, with the decision in its note.
    page.goto("/dossiers/TRM-1")
    deadlines = page.locator("#h-deadlines").locator("..")
    expect(deadlines).to_contain_text("Besluit over optie")
    expect(deadlines).to_contain_text("Afgehandeld")
    expect(page.locator("main")).to_contain_text(f"{new_end.year}")

    page.goto("/dossiers/TRM-1/term")
    page.select_option("#propose-kind", "retender")
    page.fill("#propose-reasons", "De markt is veranderd; opnieuw aanbesteden")
    page.get_by_role("button", name="Voorstellen").click()
    expect(page.locator("main")).to_contain_text("Wacht op goedkeuring")
    expect(page.get_by_role("button", name="Goedkeuren")).to_have_count(0)  # four eyes
    check_accessibility(page)
    _log_out(page)

    log_in(page, server, OWNER, OWNER_PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/dossiers/TRM-1/term")
    page.fill("#settle-note", "Akkoord, start de marktverkenning")
    check_accessibility(page, "term-decision-phone")
    page.get_by_role("button", name="Goedkeuren").click()
    expect(page.locator(".flash")).to_contain_text("TRM-1-R1")
    expect(page.locator("main")).to_contain_text("Goedgekeurd")
    expect(page.locator("main")).not_to_contain_text("Besluit nodig")
    page.get_by_role("link", name="TRM-1-R1").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Heraanbesteding: Werkplekbeheer")
    expect(page.locator("main")).to_contain_text("Voorganger")
    check_accessibility(page)
    page.goto("/reports/terms")
    expect(page.locator("main")).to_contain_text("TRM-1")
    check_accessibility(page)


def test_own_lead_times_on_the_register_form_move_the_derived_dates(
    page: Any, server: Server
) -> None:
    """Ends 30 June 2030 with one option of 12 months (maximum end 30 June 2031); the contract
    says the option is decided 6 months before the end (30 December 2029) and a new tender
    takes 15 months (30 March 2030). Changing them on the edit form moves both dates."""
    log_in(page, server)
    page.goto("/dossiers/new")
    page.fill("#reference", "LIFE-E2E-1")
    page.fill("#title", "Zaaksysteem")
    page.select_option("#status", "active")
    page.fill("#start_on", "2026-07-01")
    page.fill("#end_on", "2030-06-30")
    page.fill("#option_count", "1")
    page.fill("#option_months", "12")
    page.fill("#option_lead_months", "6")
    page.fill("#tender_lead_months", "15")
    page.fill("#value", "900.000")
    check_accessibility(page, "register-lead-times")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url("**/dossiers/LIFE-E2E-1")
    page.goto("/dossiers/LIFE-E2E-1/term")
    main = page.locator("main")
    expect(main).to_contain_text("30 december 2029")
    expect(main).to_contain_text("30 maart 2030")

    page.goto("/dossiers/LIFE-E2E-1/edit")
    expect(page.locator("#tender_lead_months")).to_have_value("15")
    page.fill("#option_lead_months", "4")  # 30 June 2030 - 4 months = 28 February 2030
    page.fill("#tender_lead_months", "20")  # 30 June 2031 - 20 months = 30 October 2029
    page.get_by_role("button", name="Opslaan").click()
    page.wait_for_url("**/dossiers/LIFE-E2E-1")
    page.goto("/dossiers/LIFE-E2E-1/term")
    expect(main).to_contain_text("28 februari 2030")
    expect(main).to_contain_text("30 oktober 2029")
    expect(main).not_to_contain_text("30 december 2029")
    expect(main).not_to_contain_text("30 maart 2030")

"""Agreements, actions and obligations in the browser: a beheerder records an agreement from a
meeting, sets it done, registers a monthly obligation and records a due date as fulfilled; each
page passes axe, and the dossier page shows what is open."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in


def test_actions_and_obligations_from_the_dossier(
    page: Any, server: Server, tmp_path: Path
) -> None:
    log_in(page, server)
    page.goto("/dossiers/new")
    page.fill("#reference", "2026-700")
    page.fill("#title", "Hosting")
    page.select_option("#status", "active")
    page.fill("#end_on", "2027-12-31")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url("**/dossiers/2026-700")
    page.get_by_role("link", name="Alle afspraken en acties").click()
    check_accessibility(page)

    page.fill("#agreement", "Leverancier stuurt het plan van aanpak")
    page.fill("#assignee_text", "Jan Jansen (accountmanager)")
    page.fill("#due_on", "2020-01-31")
    page.get_by_role("button", name="Vastleggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Actie")
    expect(page.locator("main")).to_contain_text("Te laat")
    check_accessibility(page)
    page.select_option("#status", "done")
    page.fill("#status_note", "ontvangen")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.locator("main dl")).to_contain_text("Afgerond")

    page.goto("/dossiers/2026-700/obligations")
    check_accessibility(page)
    page.fill("#title", "Maandrapportage")
    page.select_option("#recurrence", "monthly")
    page.fill("#first_due_on", "2020-01-31")
    page.fill("#until_on", "2020-03-31")
    page.get_by_role("button", name="Registreren").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Maandrapportage")
    rows = page.locator("#h-occurrences ~ div table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("29 februari 2020")
    check_accessibility(page)
    first = rows.nth(0)
    first.get_by_label(re.compile("Nagekomen op")).fill("2020-02-03")
    first.get_by_role("button", name="Opslaan").click()
    expect(page.locator("#h-occurrences ~ div table tbody tr").nth(0)).to_contain_text("Nagekomen")

    # An SLA with a duty and a rhythm: the proposal shows its sentence, folds its form, and
    # confirming it returns to the rest with a message.
    sla = tmp_path / "SLA hosting.txt"
    sla.write_text(
        "Artikel 4 Rapportage\nDe dienst wordt gemeten. Leverancier levert elke drie maanden "
        "een rapportage over de beschikbaarheid.\n\nArtikel 5 Overleg\nLeverancier organiseert "
        "elke drie maanden een overleg over de dienstverlening.\n",
        encoding="utf-8",
    )
    page.goto("/dossiers/2026-700/documents/new")
    page.set_input_files("#file", sla)
    page.select_option("#kind", "sla")
    page.get_by_role("button", name="Document toevoegen").click()
    page.wait_for_url(re.compile(r"/documents/\d+$"))
    expect(page.locator("article.clause").first).to_be_visible(timeout=60_000)
    page.goto("/dossiers/2026-700/obligations/proposals")
    card = page.locator("article.proposal").first
    expect(card).to_contain_text("Leverancier levert elke drie maanden een rapportage")
    expect(card).to_contain_text("Per kwartaal")
    check_accessibility(page)
    card.get_by_text("Controleren en bevestigen").click()
    # Due in the future: the dossier's count of missed due dates below stays the first one's.
    card.get_by_label("Eerste vervaldatum").fill((date.today() + timedelta(days=40)).isoformat())
    card.get_by_role("button", name="Bevestigen als verplichting").click()
    page.wait_for_url("**/dossiers/2026-700/obligations/proposals")
    expect(page.get_by_role("status")).to_contain_text(
        re.compile(r"Verplichting geregistreerd: .*Rapportage\.")
    )
    # The other one is not an obligation to follow up: dismissed with a reason, listed below.
    expect(page.locator("article.proposal")).to_have_count(1)
    card = page.locator("article.proposal").first
    card.get_by_text("Geen verplichting", exact=True).click()
    card.get_by_label("Waarom is dit geen verplichting?").fill("Staat al in het DAP")
    card.get_by_role("button", name="Voorstel afwijzen").click()
    page.wait_for_url("**/dossiers/2026-700/obligations/proposals")
    expect(page.get_by_role("status")).to_contain_text("Voorstel afgewezen: Overleg.")
    expect(page.locator("article.proposal")).to_have_count(0)
    expect(page.locator("section", has=page.locator("#h-dismissed"))).to_contain_text(
        "Staat al in het DAP"
    )
    check_accessibility(page)
    page.goto("/dossiers/2026-700")
    expect(page.locator("main")).to_contain_text("2 vervaldata van verplichtingen zijn gemist.")
    check_accessibility(page)
    page.goto("/reports/obligations")
    expect(page.locator("main")).to_contain_text("Maandrapportage")
    check_accessibility(page)

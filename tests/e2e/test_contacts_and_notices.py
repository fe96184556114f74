"""Contacts and notices in the browser: a beheerder records a supplier's contact with a mandate
and sends a notice to the readers; the reader sees the unread count, reads the notice and
follows the dossier. Each new page passes axe."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in

READER = "rita.lezer@example.org"
READER_PASSWORD = "een lang genoeg wachtwoord"


def test_contacts_and_a_notice_reach_the_reader(page: Any, server: Server) -> None:
    log_in(page, server)
    page.goto("/admin/users")
    page.fill("#email", READER)
    page.fill("#name", "Rita Lezer")
    page.fill("#password", READER_PASSWORD)
    page.get_by_role("button", name="Gebruiker aanmaken").click()
    expect(page.locator("main")).to_contain_text(READER)

    page.goto("/dossiers/new")
    page.fill("#reference", "2026-610")
    page.fill("#title", "Werkplekdiensten")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url("**/dossiers/2026-610")
    page.goto("/dossiers/2026-610/members")
    page.fill("#principal", READER)
    page.select_option("#role", "reader")
    page.get_by_role("button", name="Toevoegen").click()

    page.goto("/dossiers/2026-610/contacts")
    page.get_by_role("button", name="Contactpersoon toevoegen").click()
    check_accessibility(page)
    page.fill("#name", "Jan de Vries")
    page.select_option("#role", "account_manager")
    page.fill("#email", "jan@leverancier.nl")
    page.get_by_role("button", name="Opslaan").click()
    article = page.locator("main article", has_text="Jan de Vries")
    article.get_by_label("Bevoegdheid").select_option("sign_amendments")
    article.get_by_label("Tot (euro, excl. btw)").fill("25.000")
    article.get_by_role("button", name="Bevoegdheid vastleggen").click()
    expect(page.locator("main")).to_contain_text("Mag wijzigingen tekenen tot")
    check_accessibility(page, "contacts")

    page.goto("/dossiers/2026-610/notices/new")
    check_accessibility(page)
    page.select_option("#kind", "contact_change")
    page.select_option("#audience", "reader")
    page.fill("#subject", "Nieuwe accountmanager")
    page.fill("#body", "Jan de Vries is onze nieuwe accountmanager.")
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("main")).to_contain_text("Nieuwe accountmanager")
    check_accessibility(page)
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))

    log_in(page, server, READER, READER_PASSWORD)
    nav = page.get_by_role("navigation", name="Hoofdnavigatie")
    expect(nav.get_by_role("link", name=re.compile("Berichten"))).to_contain_text("1")
    nav.get_by_role("link", name=re.compile("Berichten")).click()
    expect(page.locator("main")).to_contain_text("Jan de Vries is onze nieuwe accountmanager.")
    check_accessibility(page, "notices")
    page.get_by_role(
        "button", name=re.compile(r"^Als gelezen markeren.*Nieuwe accountmanager")
    ).click()
    expect(page.locator("main")).not_to_contain_text("Ongelezen")
    page.goto("/dossiers/2026-610")
    expect(page.locator("#h-contacts").locator("..")).to_contain_text("Jan de Vries")
    page.get_by_role("button", name="Dit dossier volgen").click()
    expect(page.get_by_role("button", name="Niet meer volgen")).to_be_visible()
    check_accessibility(page)

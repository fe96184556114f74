"""Managing people in the browser: an administrator creates a user, a dossier's members page
gives that user a role, changes it and takes it away, and the user's view follows each step."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in

READER = "lies.lezer@example.org"
READER_PASSWORD = "een lang genoeg wachtwoord"


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))


def test_members_are_managed_from_the_dossier(page: Any, server: Server) -> None:
    log_in(page, server)
    page.get_by_role("link", name="Beheer", exact=True).click()
    check_accessibility(page, "admin-users")
    page.fill("#email", READER)
    page.fill("#name", "Lies Lezer")
    page.fill("#password", READER_PASSWORD)
    page.get_by_role("button", name="Gebruiker aanmaken").click()
    expect(page.locator("main")).to_contain_text(READER)
    check_accessibility(page)

    page.goto("/dossiers/new")
    page.fill("#reference", "2026-600")
    page.fill("#title", "Catering")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url("**/dossiers/2026-600")
    page.get_by_role("button", name="Leden").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2026-600")
    page.fill("#principal", READER)
    page.select_option("#role", "reader")
    page.get_by_role("button", name="Toevoegen").click()
    row = page.locator("main table tbody tr", has_text=READER)
    expect(row).to_have_count(1)
    check_accessibility(page, "members")
    row.get_by_label("Rol").select_option("owner")
    row.get_by_role("button", name="Opslaan").click()
    expect(page.locator("main table tbody tr", has_text=READER).get_by_label("Rol")).to_have_value(
        "owner"
    )
    _log_out(page)

    log_in(page, server, READER, READER_PASSWORD)
    expect(page.locator("main table")).to_contain_text("2026-600")
    _log_out(page)

    log_in(page, server)
    page.goto("/dossiers/2026-600/members")
    page.locator("main table tbody tr", has_text=READER).get_by_role(
        "button", name="Verwijderen"
    ).click()
    expect(page.locator("main table tbody tr", has_text=READER)).to_have_count(0)
    _log_out(page)

    log_in(page, server, READER, READER_PASSWORD)
    expect(page.locator("main")).not_to_contain_text("2026-600")
    page.goto("/dossiers/2026-600")
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet gevonden")

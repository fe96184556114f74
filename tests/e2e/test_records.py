"""Records in the browser: an administrator registers ended contracts and places one on legal
hold, proposes a destruction list; an archivist excludes one dossier with a reason and approves
the rest. The held dossier is never on the list. axe checks each records page."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in

ARCHIVIST = "rec.archivaris@example.org"
ARCHIVIST_PASSWORD = "een lang genoeg wachtwoord voor archief"


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))


def _register(page: Any, reference: str, title: str, end_on: str) -> None:
    page.goto("/dossiers/new")
    page.fill("#reference", reference)
    page.fill("#title", title)
    page.select_option("#status", "ended")
    page.fill("#end_on", end_on)
    page.select_option("#category", "services")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url(f"**/dossiers/{reference}")


def test_a_destruction_list_is_approved_with_one_dossier_excluded(
    page: Any, server: Server
) -> None:
    log_in(page, server)
    page.goto("/admin/users")
    page.fill("#email", ARCHIVIST)
    page.fill("#name", "Rita Archivaris")
    page.select_option("#role", "archivist")
    page.fill("#password", ARCHIVIST_PASSWORD)
    page.get_by_role("button", name="Gebruiker aanmaken").click()
    expect(page.locator("main")).to_contain_text(ARCHIVIST)

    _register(page, "REC-001", "Schoonmaak 2007-2012", "2012-03-31")
    # Services: the default category (16.1) destroys 10 years after the end.
    expect(page.locator("#disposal-date")).to_have_text("31 maart 2022")
    _register(page, "REC-002", "Catering 2009-2013", "2013-06-30")
    _register(page, "REC-003", "Beveiliging 2006-2011", "2011-12-31")
    page.locator("summary", has_text="Juridisch blokkeren").click()
    page.fill("#hold-reason", "Rechtszaak tegen de leverancier")
    page.get_by_role("button", name="Blokkeren").click()
    expect(page.locator("#retention")).to_contain_text("Rechtszaak tegen de leverancier")
    check_accessibility(page)

    page.get_by_role("link", name="Archief").click()
    expect(page.locator("main")).to_contain_text("REC-001")
    check_accessibility(page, "records-disposals")
    page.get_by_role("button", name="Een vernietigingslijst voorstellen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Vernietigingslijst")
    rows = page.locator("main table tbody tr")
    expect(rows.filter(has_text="REC-001")).to_have_count(1)
    expect(rows.filter(has_text="REC-002")).to_have_count(1)
    expect(rows.filter(has_text="REC-003")).to_have_count(0)  # on hold: never proposed
    list_url = page.url
    _log_out(page)

    log_in(page, server, ARCHIVIST, ARCHIVIST_PASSWORD)
    page.goto(list_url)
    check_accessibility(page, "records-disposal")
    # Only this flow's dossiers are destroyed; anything else the shared server holds stays.
    for reference in page.locator("main table tbody tr td:first-child a").all_inner_texts():
        if reference == "REC-001":
            continue
        reason = "In geschil" if reference == "REC-002" else "Niet van deze test"
        row = page.locator(f"#item-{reference}")
        row.get_by_label(re.compile("Reden om")).fill(reason)
        row.get_by_role("button", name="Uitzonderen").click()
        expect(page.locator(f"#item-{reference}")).to_contain_text("uitgezonderd")
    expect(page.locator("#item-REC-002")).to_contain_text("In geschil")
    page.get_by_role("button", name="De vernietigingslijst goedkeuren").click()
    expect(page.locator("#list-status")).to_have_text("goedgekeurd, in de bedenktijd")
    expect(page.locator("#item-REC-001")).to_contain_text("wacht op vernietiging")
    expect(page.locator("#item-REC-002")).to_contain_text("uitgezonderd")
    check_accessibility(page)

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/records/holds")
    expect(page.locator("main")).to_contain_text("REC-003")
    check_accessibility(page)
    page.goto("/overview")
    expect(page.locator("#h-records")).to_be_visible()
    check_accessibility(page)

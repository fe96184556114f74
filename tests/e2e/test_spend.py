"""Spend in the browser: an administrator imports a spend file with an unknown supplier, sees the
preview, commits it, maps the supplier by hand, and imports the same file again, which changes
nothing. The contract's spend page shows the warning. Each page passes axe, and fits a phone."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in

# SPD-001 (value 10.000,00): 8.500,00 by its reference, 85 %: the 80 % warning. The unknown
# "Kantoor Direct" (creditor 77001) is mapped to the supplier of SPD-002 (value 1.000,00), its
# only running contract: 1.200,00 is 120 %.
SPEND_CSV = (
    b"Leverancier;Crediteurnummer;Contractnummer;Factuurnummer;Factuurdatum;Bedrag excl. btw\n"
    b"SPD Schoonmaak BV;77000;SPD-001;SPD-F-1;15-01-2026;8.500,00\n"
    b"Kantoor Direct;77001;;SPD-K-1;20-01-2026;1.200,00\n"
)


def _register(page: Any, reference: str, supplier: str, value: str) -> None:
    page.goto("/dossiers/new")
    page.fill("#reference", reference)
    page.fill("#title", f"Contract {reference}")
    page.fill("#supplier", supplier)
    page.select_option("#status", "active")
    page.fill("#value", value)
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url(f"**/dossiers/{reference}")


def _upload(page: Any) -> None:
    page.goto("/spend/imports")
    page.set_input_files(
        "#file", {"name": "grootboek.csv", "mimeType": "text/csv", "buffer": SPEND_CSV}
    )
    page.fill("#source", "SPD-financieel")
    page.get_by_role("button", name="Voorbeeld tonen").click()
    page.wait_for_url(re.compile(r"/spend/imports/\d+$"))


def _fits_a_phone(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert width <= 390, f"{page.url} is {width} px wide on a phone"


def test_import_map_and_import_again(page: Any, server: Server) -> None:
    log_in(page, server)
    _register(page, "SPD-001", "SPD Schoonmaak BV", "10.000,00")
    _register(page, "SPD-002", "SPD Kantoorartikelen BV", "1.000,00")

    page.goto("/spend/imports")
    check_accessibility(page)
    _upload(page)
    main = page.locator("main")
    expect(main).to_contain_text("Voorbeeld, niet vastgelegd")
    expect(main.locator("#import-new")).to_have_text("2")
    expect(main.locator("#import-unknown")).to_have_text("1")
    check_accessibility(page)
    _fits_a_phone(page)
    page.get_by_role("button", name="Import vastleggen").click()
    expect(main).to_contain_text("2 uitgaveregels geïmporteerd")
    expect(main.locator("#import-status")).to_have_text("Vastgelegd")

    page.get_by_role("link", name="Onbekende leveranciers koppelen").click()
    article = page.locator("main article", has_text="Kantoor Direct")
    expect(article).to_contain_text("77001")
    check_accessibility(page)
    _fits_a_phone(page)
    article.get_by_label("Onze leverancier").select_option(label="SPD Kantoorartikelen BV")
    article.get_by_role("button", name="Leverancier koppelen").click()
    expect(main).to_contain_text("1 regel vond zijn leverancier")
    expect(page.locator("main article", has_text="Kantoor Direct")).to_have_count(0)

    page.goto("/dossiers/SPD-002/spend")
    expect(main).to_contain_text("120 %")
    expect(main).to_contain_text("enige lopende contract van de leverancier")
    check_accessibility(page)
    _fits_a_phone(page)
    page.goto("/dossiers/SPD-001")
    expect(page.locator("#h-spend").locator("..")).to_contain_text("85 %")

    # The same file again: the preview says every line is known, committing changes nothing.
    _upload(page)
    expect(main.locator("#import-new")).to_have_text("0")
    expect(main.locator("#import-known")).to_have_text("2")
    expect(main).to_contain_text("Elke regel van dit bestand is al geïmporteerd")
    page.get_by_role("button", name="Import vastleggen").click()
    expect(main).to_contain_text("Niets gewijzigd")
    page.goto("/dossiers/SPD-002/spend")
    expect(main).to_contain_text("120 %")
    expect(main.locator("#h-lines")).to_contain_text("(1)")

    page.goto("/reports/spend")
    expect(main).to_contain_text("SPD-001")
    check_accessibility(page)
    _fits_a_phone(page)

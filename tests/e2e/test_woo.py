"""A Woo request in the browser: the administrator makes a Woo handler and lets them read one
dossier with a real PDF in it; the handler registers a request, collects the PDF by search,
assesses it as partly public, marks a passage by dragging over the page and a phrase by the
form, makes the redacted PDF and downloads it: its text holds none of the marked words and
does hold the ground. The request page is checked on a phone. axe checks every page."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import pymupdf
import pypdf
from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in

HANDLER = "woo.behandelaar@example.org"
HANDLER_PASSWORD = "een lang genoeg wachtwoord voor de woo"
REFERENCE = "WOO-E2E-001"
PLAN = (
    "dutch/vng-softwarecatalogus-aanbesteding/Bijlage 8 - Opdracht plan van aanpak versie 0.4.pdf"
)
TITLE = "Plan van aanpak Woo-test"
SEARCH_WAIT_S = 90


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))


def _prepare(page: Any, server: Server, plan: Path) -> None:
    """As the administrator: the handler, the dossier they read, and the PDF in it."""
    log_in(page, server)
    page.goto("/admin/users")
    page.fill("#email", HANDLER)
    page.fill("#name", "Wim Woo")
    page.select_option("#role", "woo")
    page.fill("#password", HANDLER_PASSWORD)
    page.get_by_role("button", name="Gebruiker aanmaken").click()
    expect(page.locator("main")).to_contain_text(HANDLER)
    page.goto("/dossiers/new")
    page.fill("#reference", REFERENCE)
    page.fill("#title", "Softwarecatalogus (Woo-test)")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url(f"**/dossiers/{REFERENCE}")
    page.goto(f"/dossiers/{REFERENCE}/members")
    page.fill("#principal", HANDLER)
    page.select_option("#role", "reader")
    page.get_by_role("button", name="Toevoegen").click()
    expect(page.locator("main table tbody tr", has_text=HANDLER)).to_have_count(1)
    page.goto(f"/dossiers/{REFERENCE}/documents/new")
    page.set_input_files("#file", plan)
    page.fill("#title", TITLE)
    page.get_by_role("button", name="Document toevoegen").click()
    page.wait_for_url(re.compile(r"/documents/\d+$"))
    _log_out(page)


def _collect(page: Any) -> None:
    """Search until the filed PDF's text is indexed, then add it to the request."""
    request_url = page.url.split("?")[0]
    deadline = time.monotonic() + SEARCH_WAIT_S
    while True:
        page.goto(f"{request_url}?q=Versiebeheer+Softwarecatalogus")
        candidate = page.get_by_label(re.compile(TITLE))
        if candidate.count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(1000)
    check_accessibility(page)
    candidate.check()
    page.get_by_role("button", name="Aan het verzoek toevoegen").click()
    expect(page.locator("#h-woo-docs ~ div table")).to_contain_text(TITLE)


def _drag_over(page: Any, plan: Path) -> None:
    """Drag a rectangle over '18 oktober 2024' on page 2 of the rendered page."""
    with pymupdf.open(plan) as document:
        target = document[1].search_for("18 oktober 2024")[0]
        width = document[1].rect.width
    box = page.locator("#woo-page").bounding_box()
    scale = box["width"] / width
    # The mouse acts within the viewport: scroll the passage to its middle first.
    page.evaluate("dy => window.scrollBy(0, dy)", box["y"] + target.y0 * scale - 300)
    page.wait_for_timeout(200)
    box = page.locator("#woo-page").bounding_box()
    start = (box["x"] + (target.x0 - 2) * scale, box["y"] + (target.y0 - 2) * scale)
    end = (box["x"] + (target.x1 + 2) * scale, box["y"] + (target.y1 + 2) * scale)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=5)
    page.mouse.up()
    expect(page.locator("#x0")).not_to_have_value("")
    assert abs(float(page.locator("#x0").input_value()) - (target.x0 - 2)) < 3


def test_a_passage_is_redacted_for_real(page: Any, server: Server, shared_corpus: Path) -> None:
    plan = shared_corpus / PLAN
    _prepare(page, server, plan)
    log_in(page, server, HANDLER, HANDLER_PASSWORD)
    page.get_by_role("link", name="Woo-verzoeken").first.click()
    check_accessibility(page)
    page.fill("#received_on", "2026-11-30")
    page.fill("#requester", "Redactie Dagblad")
    page.fill("#subject", "Alle stukken over de Softwarecatalogus")
    page.get_by_role("button", name="Registreren", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Woo-verzoek")
    # Received Monday 30 November 2026: due four weeks later, Monday 28 December.
    expect(page.locator(".woo-deadline")).to_contain_text("28 december 2026")
    _collect(page)

    page.get_by_role("link", name=TITLE).click()
    page.select_option("#assessment", "partly_public")
    page.get_by_role("button", name="Beoordeling bewaren").click()
    expect(page.locator("#woo-page")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Volgende pagina").click()
    expect(page.locator(".woo-pages")).to_contain_text("Pagina 2 van")
    _drag_over(page, plan)
    page.locator("#woo-area-form select[name=ground]").select_option("5.1.2e")
    page.get_by_role("button", name="Markeer het gebied").click()
    expect(page.locator(".woo-passages")).to_contain_text("pagina 2")
    expect(page.locator("#woo-page rect.woo-mark")).to_have_count(1)
    page.fill("#phrase", "VNG Realisatie")
    page.select_option("#scope", "all")
    page.locator("form:has(#phrase) select[name=ground]").select_option("5.1.2i")
    page.get_by_role("button", name="Markeer de woorden").click()
    expect(page.locator(".flash")).to_contain_text("vindplaatsen gemarkeerd")
    check_accessibility(page)
    page.get_by_role("button", name="Gelakte pdf maken").click()
    expect(page.locator(".flash")).to_contain_text("Gelakte pdf gemaakt")
    with page.expect_download() as download:
        page.get_by_role("link", name="Gelakte pdf downloaden").click()
    data = Path(download.value.path()).read_bytes()
    by_pypdf = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    with pymupdf.open(stream=data, filetype="pdf") as document:
        by_mupdf = " ".join(p.get_text() for p in document)
    for text in (by_pypdf, by_mupdf):
        text = re.sub(r"\s+", " ", text)
        assert "18 oktober 2024" not in text and "VNG Realisatie" not in text
        assert "5.1.2e" in text and "5.1.2i" in text and "Versiebeheer" in text

    page.set_viewport_size({"width": 390, "height": 800})
    page.get_by_role("link", name=re.compile(r"Woo-\d+")).last.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Woo-verzoek")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not overflow, "the request page scrolls sideways on a phone"
    check_accessibility(page)

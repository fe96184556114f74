"""The main flows as a contractbeheerder works through them, in a real browser on a real server:
log in, register a dossier, file a contract, an annex and e-mails (file picker and drag and
drop, several files at once), add a version, compare versions, open a PDF, search and open a
clause, switch language, log out. axe-core checks every main page on the way."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, Server, check_accessibility, log_in

VNG = "dutch/vng-softwarecatalogus-aanbesteding"
CONTRACT = f"{VNG}/Bijlage 3.01 - Overeenkomst ten behoeve van ICT Prestatie GIBIT 2023.docx"
ANNEX_DOCX = f"{VNG}/Bijlage 8 - Opdracht plan van aanpak versie 0.4.docx"
ANNEX_PDF = f"{VNG}/Bijlage 8 - Opdracht plan van aanpak versie 0.4.pdf"
EMAILS = ["eml/attachments_basic_email.eml", "eml/emails_attachment_emails_attachment_pdf.eml"]
HOSTILE = "pdf-malformed/derived/html_renamed.pdf"
EXTRACTION_WAIT_MS = 90_000


def _drop_files(page: Any, selector: str, files: list[Path]) -> None:
    """Drag files onto `selector` the way a browser does: a drop event carrying a DataTransfer."""
    payload = [
        {"name": f.name, "data": base64.b64encode(f.read_bytes()).decode("ascii")} for f in files
    ]
    page.evaluate(
        """([selector, files]) => {
            const transfer = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], f.name));
            }
            const zone = document.querySelector(selector);
            for (const type of ['dragenter', 'dragover', 'drop']) {
                zone.dispatchEvent(new DragEvent(type, {
                    dataTransfer: transfer, bubbles: true, cancelable: true}));
            }
        }""",
        [selector, payload],
    )


def _register_dossier(page: Any, reference: str) -> None:
    page.get_by_role("button", name="Dossier registreren").click()
    expect(page).to_have_title(re.compile("Dossier registreren"))
    check_accessibility(page, "dossier-new")
    page.fill("#reference", reference)
    page.fill("#title", "Vernieuwen Softwarecatalogus")
    page.fill("#supplier", "Voorbeeld Software B.V.")
    page.select_option("#status", "active")
    page.fill("#end_on", "2027-01-31")
    page.fill("#notice_value", "3")
    page.select_option("#notice_unit", "months")
    page.check("#auto_renewal")  # notice matters where it stops a tacit renewal
    page.fill("#value", "1.234.567,00")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url(f"**/dossiers/{reference}")
    main = page.locator("main")
    expect(main).to_contain_text("€ 1.234.567,00")  # Dutch money notation
    expect(main).to_contain_text("31 januari 2027")  # Dutch dates
    expect(main).to_contain_text("31 oktober 2026")  # notice deadline, derived
    expect(main).to_contain_text("Er zijn nog geen documenten")  # the empty state


def _wait_for_text(page: Any) -> None:
    """The document page polls the extraction status and reloads itself once it is done."""
    expect(page.locator("article.clause").first).to_be_visible(timeout=EXTRACTION_WAIT_MS)
    expect(page.locator(".extraction-status")).not_to_have_text("Tekst wordt nog uitgelezen")


def test_main_flow(page: Any, server: Server, shared_corpus: Path) -> None:
    log_in(page, server)
    reference = "2026-001"
    _register_dossier(page, reference)
    check_accessibility(page)

    # The contract, through the file picker.
    page.get_by_role("button", name="Document toevoegen").click()
    check_accessibility(page, "document-new")
    page.set_input_files("#file", shared_corpus / CONTRACT)
    page.select_option("#kind", "contract")
    page.get_by_role("button", name="Document toevoegen").click()
    page.wait_for_url(re.compile(r"/documents/\d+$"))
    expect(page.get_by_role("navigation", name="Kruimelpad")).to_contain_text(reference)
    _wait_for_text(page)
    contract_url = page.url
    check_accessibility(page, "document")

    # The annex, dragged onto the drop zone.
    page.goto(f"/dossiers/{reference}/documents/new")
    _drop_files(page, "[data-dropzone]", [shared_corpus / ANNEX_DOCX])
    expect(page.locator("[data-chosen]")).to_contain_text(Path(ANNEX_DOCX).name)
    page.select_option("#kind", "annex")
    page.get_by_role("button", name="Document toevoegen").click()
    page.wait_for_url(re.compile(r"/documents/\d+$"))
    expect(page.locator("h1")).to_have_text(Path(ANNEX_DOCX).stem)
    annex_url = page.url

    # Two e-mails at once, through the picker: a progress bar each, then back to the dossier.
    page.goto(f"/dossiers/{reference}/documents/new")
    page.set_input_files("#file", [shared_corpus / e for e in EMAILS])
    page.select_option("#kind", "correspondence")
    page.get_by_role("button", name="Document toevoegen").click()
    rows = page.locator(".upload-list li")
    expect(rows).to_have_count(2)
    expect(rows.locator("a")).to_have_text(["Toegevoegd.", "Toegevoegd."])
    for bar in rows.locator("progress").all():
        expect(bar).to_have_js_property("value", 100)
    check_accessibility(page, "upload-progress")
    page.get_by_role("link", name="Terug naar het dossier").click()
    page.wait_for_url(f"**/dossiers/{reference}")
    table = page.locator("#h-docs ~ div table")
    # contract, annex, two e-mails, and the PDF attached to the second one once it is extracted
    for _ in range(60):
        if table.locator("tbody tr").count() == 5:
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(table.locator("tbody tr")).to_have_count(5)
    check_accessibility(page, "dossier")

    # A refused file is reported on its row with the server's reason; nothing else happens.
    page.goto(f"/dossiers/{reference}/documents/new")
    _drop_files(page, "[data-dropzone]", [shared_corpus / HOSTILE])
    page.get_by_role("button", name="Document toevoegen").click()
    refused = page.locator(".upload-list li.upload-failed")
    expect(refused).to_contain_text(re.compile("niet toegevoegd", re.IGNORECASE))
    expect(refused).to_contain_text("HTML")
    expect(page).to_have_url(re.compile(r"/documents/new$"))
    page.goto(f"/dossiers/{reference}")

    # The document list filters and sorts, and keeps both in the URL.
    page.select_option("#doc-kind", "correspondence")
    page.get_by_role("button", name="Filteren").click()
    expect(page).to_have_url(re.compile(r"kind=correspondence"))
    kinds = table.locator("tbody tr td:nth-child(3)")
    # The two e-mails, and the PDF attached to one: an attachment whose name says no kind of
    # its own takes its message's kind.
    expect(kinds).to_have_count(3)
    expect(kinds).to_have_text(["Correspondentie"] * 3)
    page.get_by_role("link", name="Titel", exact=True).click()
    expect(page).to_have_url(re.compile(r"kind=correspondence.*sort=title|sort=title.*kind="))
    titles = table.locator("tbody tr td:nth-child(2) a")
    expect(titles).to_have_count(3)
    texts = titles.all_inner_texts()
    assert texts == sorted(texts, key=str.lower) or texts == sorted(texts)
    page.goto(f"/dossiers/{reference}#h-docs")
    check_accessibility(page, "dossier-documents")

    # A new version of the annex (its PDF), then the comparison of the two texts.
    page.goto(annex_url)
    page.get_by_role("button", name="Nieuwe versie toevoegen").click()
    check_accessibility(page, "version-new")
    page.set_input_files("#file", shared_corpus / ANNEX_PDF)
    page.fill("#comment", "Definitieve PDF")
    page.get_by_role("button", name="Nieuwe versie toevoegen").click()
    page.wait_for_url(annex_url)
    expect(page.locator("main table tbody tr")).to_have_count(2)
    _wait_for_text(page)
    page.get_by_role("button", name="Vergelijken met de vorige versie").click()
    expect(page.locator("h1")).to_contain_text("versie 1 naar 2")
    check_accessibility(page, "compare")

    # The PDF opens in a new tab, inline, with the safe headers kept.
    page.goto(annex_url)
    view_link = page.locator("a[target=_blank]").first
    with page.context.expect_page() as popup:
        view_link.click()
    expect(popup.value).to_have_url(re.compile(r"/versions/2/view$"))
    popup.value.wait_for_timeout(1500)  # let the PDF viewer draw the first page
    popup.value.screenshot(path=str(SCREENSHOTS / "pdf-view.png"))
    popup.value.close()
    response = page.request.get(view_link.get_attribute("href"))
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"].startswith("sandbox")

    # Search, switch to clauses, open a hit: the page lands on that clause.
    page.goto(contract_url)
    page.get_by_role("link", name="Zoeken", exact=True).click()
    check_accessibility(page)
    for _ in range(30):  # the index follows the database a moment after extraction
        page.fill("#q", "Leverancier")
        page.keyboard.press("Enter")
        page.get_by_role("link", name="Artikelen").click()
        if page.locator("ol.hits li.hit").count():
            break
        page.wait_for_timeout(1000)
    check_accessibility(page, "search")
    page.locator("ol.hits li.hit a").first.click()
    expect(page).to_have_url(re.compile(r"#unit-\d+-\d+$"))
    anchor = page.url.rsplit("#", 1)[1]
    expect(page.locator(f"#{anchor}")).to_have_class(re.compile("clause-target"))
    expect(page.locator(f"#{anchor}")).to_be_in_viewport()

    # The register shows the dossier.
    page.get_by_role("link", name="Contractregister").first.click()
    expect(page.locator("main table")).to_contain_text(reference)
    check_accessibility(page, "register")

    # A page that is not there (or not yours) is a proper page too.
    page.goto("/dossiers/1999-999")
    expect(page.get_by_role("heading", level=1)).to_have_text("Niet gevonden")
    check_accessibility(page)

    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))

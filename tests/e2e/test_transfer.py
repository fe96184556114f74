"""The MDTO transfer package in the browser: the administrator registers an ended contract,
files a letter, and downloads the dossier's transfer package from the retention panel; the
downloaded zip passes the offline verifier."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from dossier import transfer_verify
from tests.e2e.conftest import Server, check_accessibility, log_in

REFERENCE = "MDTO-E2E-001"
EXTRACTION_WAIT_MS = 60_000


def test_the_transfer_package_is_downloaded_from_the_dossier_page(
    page: Any, server: Server, tmp_path: Path
) -> None:
    log_in(page, server)
    page.goto("/dossiers/new")
    page.fill("#reference", REFERENCE)
    page.fill("#title", "mdto Schoonmaak 2016-2020")
    page.select_option("#status", "ended")
    page.fill("#end_on", "2020-12-31")
    page.select_option("#category", "services")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url(f"**/dossiers/{REFERENCE}")

    letter = tmp_path / "brief aan leverancier.txt"
    letter.write_text("Geachte heer,\n\nHierbij bevestigen wij de beëindiging.\n", "utf-8")
    page.get_by_role("button", name="Document toevoegen").click()
    page.set_input_files("#file", letter)
    page.select_option("#kind", "correspondence")
    page.get_by_role("button", name="Document toevoegen").click()
    page.wait_for_url(re.compile(r"/documents/\d+$"))
    # The document page reloads itself once the text is extracted: the rendition is made of it.
    expect(page.locator(".extraction-status")).not_to_have_text(
        "Tekst wordt nog uitgelezen", timeout=EXTRACTION_WAIT_MS
    )

    page.goto(f"/dossiers/{REFERENCE}")
    button = page.get_by_role("button", name="Overbrengingspakket (MDTO) downloaden")
    expect(button).to_be_visible()
    check_accessibility(page)
    with page.expect_download() as download:
        button.click()
    assert download.value.suggested_filename == f"overbrenging-{REFERENCE}.zip"
    package = tmp_path / "pakket.zip"
    Path(download.value.path()).replace(package)

    assert transfer_verify.verify(package) == []
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
    assert f"data/{REFERENCE}/{REFERENCE}.mdto.xml" in names
    assert any(n.endswith("brief_aan_leverancier.txt") for n in names)
    assert any(n.endswith("brief_aan_leverancier-pdfa.pdf") for n in names)

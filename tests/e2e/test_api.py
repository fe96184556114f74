"""The API as its users meet it: a token made on the account page in the browser, then curl
against the running server files a document and finds its clause; after the token is revoked
in the browser, curl is refused."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.conftest import need
from tests.e2e.conftest import Server, check_accessibility, log_in

REFERENCE = "api-2026-002"
CONTRACT = (
    "Overeenkomst API-koppeling\n\n"
    "Artikel 1 Definities\n"
    "Opdrachtnemer: Koppel BV.\n\n"
    "Artikel 2 Aansprakelijkheid\n"
    "2.1 De aansprakelijkheid van opdrachtnemer is beperkt tot tweemaal de opdrachtwaarde.\n"
)


def curl(server: Server, token: str, *args: str) -> tuple[int, Any]:
    """Run the real curl against the server with the token; (status, parsed JSON body)."""
    need(Path("/usr/bin/curl").exists(), "curl is not installed (apt-get install curl)")
    run = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", "-H", f"Authorization: Bearer {token}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    body, _, status = run.stdout.rpartition("\n")
    return int(status), json.loads(body) if body else None


def test_a_token_made_in_the_browser_files_and_searches_with_curl(
    page: Any, server: Server, tmp_path: Path
) -> None:
    log_in(page, server)
    page.goto("/dossiers/new")
    page.fill("#reference", REFERENCE)
    page.fill("#title", "API-koppeling")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url(f"**/dossiers/{REFERENCE}")

    page.goto("/account/password")
    page.get_by_role("link", name="API-tokens").click()
    page.fill("#name", "curl")
    page.select_option("#scope", "read-write")
    page.get_by_role("button", name="Maak het token").click()
    token = page.locator("code.api-token").inner_text().strip()
    assert re.fullmatch(r"dos_[A-Za-z0-9_-]{43}", token)
    check_accessibility(page, "api-tokens")

    contract = tmp_path / "overeenkomst.txt"
    contract.write_text(CONTRACT, encoding="utf-8")
    api = f"{server.url}/api/v1"
    status, document = curl(
        server,
        token,
        "-F",
        f"file=@{contract}",
        "-F",
        "kind=contract",
        f"{api}/dossiers/{REFERENCE}/documents",
    )
    assert status == 201, document
    deadline = time.monotonic() + 60  # `dossier run` extracts and indexes in the background
    while True:
        status, found = curl(
            server,
            token,
            "-G",
            f"{api}/search",
            "--data-urlencode",
            "q=aansprakelijkheid",
            "-d",
            "mode=clauses",
            "-d",
            f"dossier={REFERENCE}",
        )
        assert status == 200, found
        if found["hits"] or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert found["hits"][0]["document_id"] == document["id"]
    assert found["hits"][0]["clause_number"].startswith("2")

    page.goto("/account/tokens")
    row = page.locator("main table tbody tr", has_text="curl")
    row.get_by_role("button", name="Intrekken").click()
    expect(page.locator("main table tbody tr", has_text="curl")).to_contain_text("ingetrokken")
    status, problem = curl(server, token, f"{api}/dossiers/{REFERENCE}")
    assert status == 401 and problem["status"] == 401

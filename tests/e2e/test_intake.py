"""Mail intake in the browser: a mail whose reference names no dossier is delivered to a real
IMAP server (Dovecot), one pass of `dossier intake` puts it in the queue, and the administrator
assigns it to a dossier at /intake; it is then in the dossier with its attachment. The queue
passes axe and fits a phone."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from imapclient import IMAPClient
from playwright.sync_api import expect

from tests.conftest import need
from tests.dossier.imap_helpers import DOVECOT, PASSWORD, USER, DovecotServer, mailbox
from tests.e2e.conftest import Server, _dossier_command, check_accessibility, log_in

SUBJECT = "INT offerte tweede fase [INT-999]"


@pytest.fixture
def dovecot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotServer]:
    need(DOVECOT is not None, "Dovecot is not installed (apt-get install dovecot-imapd)")
    server = DovecotServer(DOVECOT, tmp_path_factory.mktemp("dovecot"))  # type: ignore[arg-type]
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        pytest.fail(f"Dovecot did not start: {exc}")
    yield server
    server.stop()


def _mail() -> bytes:
    message = EmailMessage()
    message["From"] = "Jan Jansen <jan@leverancier.example>"
    message["To"] = "contracten@gemeente.example"
    message["Subject"] = SUBJECT
    message["Date"] = "Wed, 05 Mar 2025 09:00:00 +0100"
    message["Message-ID"] = "<int-e2e-1@leverancier.example>"
    message.set_content("Hierbij de offerte voor de tweede fase.\n")
    message.add_attachment(
        b"Offerte fase 2: 12.000 euro\n", maintype="text", subtype="plain", filename="offerte.txt"
    )
    return bytes(message)


def _intake_pass(server: Server, dovecot: DovecotServer) -> dict[str, Any]:
    settings = mailbox(dovecot, "e2e")
    client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False, timeout=10)
    client.login(USER, PASSWORD)
    client.create_folder("e2e.Inbox")
    client.append("e2e.Inbox", _mail())
    client.logout()
    env = {**os.environ, "DOSSIER_INSTANCE_PATH": str(server.instance)}
    for name in ("DOSSIER_DATABASE_URL", "DOSSIER_TEST_DATABASE_URL"):
        env.pop(name, None)
    env |= {f"DOSSIER_{key}": str(value) for key, value in settings.items()}
    env["DOSSIER_INTAKE_AS"] = server.email
    done = subprocess.run(
        [_dossier_command(), "intake", "--once", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _register(page: Any, reference: str) -> None:
    page.goto("/dossiers/new")
    page.fill("#reference", reference)
    page.fill("#title", f"Contract {reference}")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url(f"**/dossiers/{reference}")


def test_a_queued_mail_is_assigned_to_a_dossier(
    page: Any, server: Server, dovecot: DovecotServer
) -> None:
    log_in(page, server)
    _register(page, "INT-001")
    report = _intake_pass(server, dovecot)
    assert len(report["mail"]["queued"]) == 1, report

    page.get_by_role("link", name="Intake").first.click()
    page.wait_for_url("**/intake")
    article = page.locator("main article", has_text=SUBJECT)
    expect(article).to_contain_text("geen dossier met kenmerk INT-999")
    expect(article).to_contain_text("Jan Jansen")
    check_accessibility(page)
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the queue is {width} px wide on a phone"
    page.set_viewport_size({"width": 1280, "height": 800})

    article.get_by_label("Toevoegen aan dossier").select_option("INT-001")
    article.get_by_role("button", name="Toewijzen").click()
    main = page.locator("main")
    expect(main).to_contain_text("Toegevoegd aan dossier INT-001")
    expect(page.locator("main article", has_text=SUBJECT)).to_have_count(0)
    check_accessibility(page)

    # The attachment is filed by the indexing pipeline, in the background after the request.
    attachment = page.get_by_role("link", name="offerte", exact=True)
    for _ in range(60):
        page.goto("/dossiers/INT-001")
        if attachment.count():
            break
        time.sleep(0.5)
    expect(page.get_by_role("link", name=SUBJECT)).to_have_count(1)
    expect(attachment).to_have_count(1)

"""Webhooks in the browser, on a laptop screen: the administrator registers a webhook for a
receiver on 127.0.0.1, copies the secret shown once, sends a test event and sees it delivered
in the log; the receiver checks the signature with that secret. A document filed afterwards
reaches the receiver without its text. axe checks each webhook page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in
from tests.webhook_receiver import Receiver

REFERENCE = "webhooks-001"
CANARY = "webhookskanarie"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def _wait_for(receiver: Receiver, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(receiver.received) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(receiver.received) >= count, "the receiver got nothing"


def test_an_administrator_registers_a_webhook_and_it_delivers_signed(
    page: Any, server: Server, receiver: Receiver, tmp_path: Any
) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, server)
    page.goto("/admin/users")
    page.get_by_role("navigation", name="Beheer").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    check_accessibility(page, "webhooks-index")

    page.fill("#url", "ftp://127.0.0.1/hook")
    page.fill("#name", "Webhooks zaaksysteem")
    page.get_by_label("Document toegevoegd").check()
    page.get_by_role("button", name="Webhook registreren").click()
    expect(page.locator("main")).to_contain_text("Alleen http://- en https://-adressen")
    expect(page.locator("#name")).to_have_value("Webhooks zaaksysteem")  # nothing lost

    page.fill("#url", receiver.url)
    page.get_by_role("button", name="Webhook registreren").click()
    secret = page.locator("#webhook-secret").inner_text().strip()
    assert secret.startswith("whsec_")
    check_accessibility(page, "webhooks-secret")
    page.get_by_role("link", name="Naar de webhook").click()
    expect(page.locator("main")).not_to_contain_text(secret)
    webhook_page = page.url

    page.get_by_role("button", name="Testbericht versturen").click()
    _wait_for(receiver, 1)
    ping = receiver.received[0]
    assert ping.verify(secret) and ping.payload["event"] == "ping"
    log = page.locator("section", has=page.locator("#h-deliveries"))
    deadline = time.monotonic() + 10  # the attempt commits just after the receiver answered
    while "afgeleverd" not in log.inner_text() and time.monotonic() < deadline:
        time.sleep(0.2)
        page.reload()
    expect(log).to_contain_text("afgeleverd")
    expect(log).to_contain_text("HTTP 200")
    check_accessibility(page, "webhooks-show")
    log.get_by_role("link", name="Testbericht").first.click()
    expect(page.locator("main")).to_contain_text(ping.payload["id"])
    check_accessibility(page)

    page.goto("/dossiers/new")
    page.fill("#reference", REFERENCE)
    page.fill("#title", "Webhooks schoonmaak")
    page.get_by_role("button", name="Dossier registreren").click()
    page.wait_for_url(f"**/dossiers/{REFERENCE}")
    letter = tmp_path / "brief.txt"
    letter.write_text(f"Geachte heer, {CANARY}\n", encoding="utf-8")
    page.goto(f"/dossiers/{REFERENCE}/documents/new")
    page.set_input_files("#file", str(letter))
    page.select_option("#kind", "correspondence")
    page.get_by_role("button", name="Document toevoegen").click()
    page.wait_for_url(re.compile(r"/documents/\d+$"))
    _wait_for(receiver, 2)
    filed = receiver.received[1]
    assert filed.verify(secret) and filed.payload["event"] == "document.filed"
    assert filed.payload["dossier"]["reference"] == REFERENCE
    assert CANARY not in filed.body.decode()

    # The pages fit a laptop and a phone without scrolling sideways.
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 800})
        for path in ("/admin/webhooks", webhook_page):
            page.goto(path)
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert scroll <= client, f"{path} at {width} px: {scroll} px wide in {client} px"

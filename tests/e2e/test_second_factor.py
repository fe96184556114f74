"""Two-step verification in the browser: a user sets up an authenticator by typing the key the
page shows into pyotp (as an app would), sees the recovery codes once, logs in again with a code
at the second step, and an administrator resets it. The enrolment page fits a phone and passes
axe on both widths."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp
from playwright.sync_api import expect

from tests.e2e.conftest import Server, check_accessibility, log_in

USER = "totp.gebruiker@example.org"
PHONE_USER = "totp.telefoon@example.org"
PASSWORD = "een lang wachtwoord voor de tweede stap"


def _log_out(page: Any) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))


def _create_user(page: Any, email: str, name: str) -> None:
    page.goto("/admin/users")
    page.fill("#email", email)
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Gebruiker aanmaken").click()
    expect(page.locator("main")).to_contain_text(email)


def _enrol(page: Any) -> str:
    """Set up the factor on the open enrolment page; the secret, read from the page."""
    secret = page.locator("#secret-key").inner_text().replace(" ", "")
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    page.get_by_role("textbox", name="Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Tweestapsverificatie inschakelen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Herstelcodes")
    expect(page.locator("ol.recovery-codes li")).to_have_count(10)
    expect(page.locator("main")).to_contain_text("alleen deze ene keer")
    return secret


def test_enrolment_and_log_in_with_a_code_on_a_laptop(page: Any, server: Server) -> None:
    log_in(page, server)
    _create_user(page, USER, "Tineke Tweestap")
    _log_out(page)

    log_in(page, server, USER, PASSWORD)
    page.goto("/account/password")
    page.get_by_role("link", name="Tweestapsverificatie").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tweestapsverificatie")
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    check_accessibility(page, "second-factor-enrol")
    secret = _enrol(page)
    check_accessibility(page)
    page.get_by_role("button", name="Ik heb de codes bewaard").click()
    page.goto("/account/two-step")
    expect(page.locator("main")).to_contain_text("Herstelcodes over")
    expect(page.locator("#secret-key")).to_have_count(0)  # never shown again
    _log_out(page)

    page.get_by_label("E-mailadres").fill(USER)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page).to_have_url(re.compile(r"/login/code$"))
    check_accessibility(page)
    page.goto("/")  # not logged in yet: back to the log-in page
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/login/code")
    # The enrolment spent the current step's code; the next step's is within the window.
    page.get_by_role("textbox", name="Code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(server.url + "/")
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()
    _log_out(page)

    log_in(page, server)
    page.goto("/admin/users")
    page.get_by_role("link", name=USER).click()
    page.get_by_role("button", name=re.compile("Tweestapsverificatie wissen")).click()
    expect(page.locator(".flash-success")).to_contain_text(USER)
    expect(page.locator("main")).to_contain_text("Niet ingeschakeld")
    _log_out(page)


def test_the_enrolment_page_fits_a_phone(page: Any, server: Server) -> None:
    log_in(page, server)
    _create_user(page, PHONE_USER, "Pim Telefoon")
    _log_out(page)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, server, PHONE_USER, PASSWORD)
    page.goto("/account/two-step")
    qr = page.locator("figure.qr-code svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll <= client, f"the enrolment page is {scroll} px wide in {client} px"
    check_accessibility(page, "second-factor-enrol-phone")
    _enrol(page)
    check_accessibility(page)

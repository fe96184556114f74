"""The real thing: `dossier init` + `dossier run` (waitress) on a free loopback port, driven by
headless Chromium through Playwright. Chromium is Debian's (/usr/bin/chromium); Playwright never
downloads a browser. Outside CI a missing browser skips these tests; under CI it fails them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, ROOT, need

CHROMIUM = Path(os.environ.get("DOSSIER_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
# Screenshots go to build/screenshots (ignored by git), so a test run leaves the checkout clean;
# `make screenshots` writes the README's pictures in docs/screenshots instead.
SCREENSHOTS = Path(os.environ.get("DOSSIER_SCREENSHOTS") or ROOT / "build" / "screenshots")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Ports Chromium refuses to connect to ("unsafe ports"), so never hand them to the server.
UNSAFE_PORTS = {5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6697, 10080}


@dataclass
class Server:
    url: str
    email: str
    password: str
    instance: Path


def _free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in UNSAFE_PORTS:
            return port


def _dossier_command() -> str:
    return str(Path(sys.executable).parent / "dossier")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh installation served by waitress in a child process, as `make run` starts it."""
    instance = tmp_path_factory.mktemp("instance")
    env = {**os.environ, "DOSSIER_INSTANCE_PATH": str(instance)}
    # Every flow logs in as the first administrator, whom the default would first send to set
    # up two-step verification; tests/e2e/test_second_factor.py covers that with users of its own.
    env["DOSSIER_SECOND_FACTOR_REQUIRED_ROLES"] = "[]"
    for name in ("DOSSIER_DATABASE_URL", "DOSSIER_TEST_DATABASE_URL"):
        env.pop(name, None)  # the embedded default: SQLite in the instance folder
    env["DOSSIER_TRANSFER_ORGANISATION_NAME"] = "Gemeente Voorbeeld"  # MDTO transfer packages
    init = subprocess.run(
        [_dossier_command(), "init"], env=env, capture_output=True, text=True, timeout=120
    )
    assert init.returncode == 0, init.stderr
    password = (instance / "initial-admin-password.txt").read_text().strip()
    port = _free_port()
    log = (instance / "server.log").open("w")
    process = subprocess.Popen(
        [_dossier_command(), "run", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield Server(url, "admin@dossier.local", password, instance)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dossier run exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail("dossier run did not answer within 30 s")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    need(CHROMIUM.exists(), f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "Playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser tab (own cookies) that fails the test on any CSP violation or JS error."""
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1280, "height": 800}, locale="nl-NL"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert not problems, problems


@pytest.fixture()
def shared_corpus() -> Path:
    need(CORPUS.is_dir(), f"the shared corpus is not at {CORPUS}")
    return CORPUS


def log_in(page: Any, server: Server, email: str = "", password: str = "") -> None:
    """Log in through the form, as the first administrator unless told otherwise."""
    page.goto("/login")
    page.get_by_label("E-mailadres").fill(email or server.email)
    page.get_by_label("Wachtwoord").fill(password or server.password)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_load_state()
    if page.url == server.url + "/account/password":
        # A one-time password (from `dossier init` or an administrator) must be replaced
        # first. The tests keep logging in with the password they know, so choose a
        # temporary one and then change back to it, both through the real form.
        known = password or server.password
        for current, new in ((known, known + " (tijdelijk)"), (known + " (tijdelijk)", known)):
            page.goto("/account/password")
            page.fill("#current_password", current)
            page.fill("#new_password", new)
            page.fill("#confirm", new)
            page.locator("form[action$='/account/password'] button[type=submit]").click()
            page.wait_for_url(server.url + "/")
    page.wait_for_url(server.url + "/")


def check_accessibility(page: Any, name: str | None = None) -> None:
    """Run axe-core on the current page; fail on serious or critical violations.

    axe is evaluated through the DevTools protocol rather than as a <script> tag, so the page's
    own Content-Security-Policy stays in force during the whole flow. With `name`, also save a
    screenshot for the README.
    """
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'best-practice']}})"
    )
    serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    report = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in serious
    ]
    assert not serious, f"axe on {page.url}:\n" + json.dumps(report, indent=1)
    if name:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

"""Single sign-on in Chromium: log in through the real OpenID provider of tests/oidc, land on
Dossier's dashboard with the role the provider's group maps to, and log out at both ends.

This file starts its own installation (`dossier init` + `dossier run`) configured for the
provider, beside the suite's shared server, so no other browser test meets single sign-on."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need
from tests.e2e.conftest import (
    Server,
    _dossier_command,
    _free_port,
    _wait_until_up,
    check_accessibility,
)
from tests.oidc import provider as op

EMAIL = "oidc-alice@example.org"


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A provider with one user in the group `dossier-admins`, and a Dossier that maps that
    group to the administrator role."""
    missing = op.missing_tools()
    need(missing is None, missing or "")
    try:
        op.install()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        need(False, f"npm ci of tests/oidc failed: {error}")
    folder = tmp_path_factory.mktemp("oidc")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    provider = op.OpenIdProvider(
        folder, [op.client("dossier", f"{url}/sso/callback", f"{url}/login")], {}
    )
    provider.users(
        {"alice": {"email": EMAIL, "name": "Alice SSO", "groups": ["dossier-admins", "inkoop"]}}
    )
    instance = folder / "instance"
    env = {
        **os.environ,
        "DOSSIER_INSTANCE_PATH": str(instance),
        "DOSSIER_OIDC_ISSUER": provider.issuer,
        "DOSSIER_OIDC_CLIENT_ID": "dossier",
        "DOSSIER_OIDC_CLIENT_SECRET": op.CLIENT_SECRET,
        "DOSSIER_OIDC_SCOPES": "openid email profile groups",
        "DOSSIER_OIDC_PROVIDER_NAME": "Test-IdP",
        "DOSSIER_OIDC_ROLE_MAPPING": json.dumps({"dossier-admins": "admin"}),
        "DOSSIER_OIDC_GROUP_MAPPING": json.dumps({"inkoop": ["Inkoop"]}),
    }
    for name in ("DOSSIER_DATABASE_URL", "DOSSIER_TEST_DATABASE_URL"):
        env.pop(name, None)
    init = subprocess.run(
        [_dossier_command(), "init"], env=env, capture_output=True, text=True, timeout=120
    )
    assert init.returncode == 0, init.stderr
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [_dossier_command(), "run", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    try:
        _wait_until_up(url, process)
        yield Server(url, EMAIL, "", Path(instance))
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
        provider.stop()


@pytest.fixture()
def sso_page(browser: Any, sso_server: Server) -> Iterator[Any]:
    """A fresh tab on the single sign-on installation; CSP violations and script errors fail."""
    context = browser.new_context(base_url=sso_server.url, locale="nl-NL")
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


def test_log_in_through_the_provider_lands_on_the_dashboard_with_the_mapped_role(
    sso_page: Any, sso_server: Server
) -> None:
    page = sso_page
    page.goto("/login")
    check_accessibility(page)
    page.get_by_role("button", name="Inloggen met Test-IdP").click()

    # The provider's own log-in page.
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(op.PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(sso_server.url + "/")
    nav = page.get_by_role("navigation", name="Hoofdnavigatie")
    assert nav.get_by_role("link", name="Alice SSO").is_visible()
    administration = nav.get_by_role("link", name="Beheer")
    assert administration.is_visible(), "the provider's group maps to the administrator role"
    check_accessibility(page)
    administration.click()
    row = page.get_by_role("row").filter(has_text=EMAIL)
    assert row.count() == 1

    # Log-out ends Dossier's session and, after the provider's question, the provider's.
    page.get_by_role("button", name="Uitloggen").click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(sso_server.url + "/login?**")  # the provider adds its state
    assert page.get_by_text("U bent uitgelogd").is_visible()
    page.goto("/")
    assert page.url.startswith(sso_server.url + "/login")

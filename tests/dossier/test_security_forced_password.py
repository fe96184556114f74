"""One-time passwords (from `dossier init`, or given by an administrator) must be replaced at
the first log-in: until then every page leads to the change-password page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier.accounts import FIRST_ADMIN_EMAIL
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import Dossier, User

NEW_PASSWORD = "mijn eigen wachtwoord 2025"
# Pages a user with a one-time password must not reach (GET), and forms (POST).
BLOCKED_GETS = ["/", "/admin/users", "/search?q=x", "/dossiers/new", "/reports/deadlines"]
BLOCKED_POSTS = ["/admin/users", "/dossiers/new"]


def _login(app: Flask, email: str, password: str) -> tuple[FlaskClient, Any]:
    client = app.test_client()
    response = client.post("/login?next=/admin/users", data={"email": email, "password": password})
    return client, response


def _assert_forced(client: FlaskClient, first: Any) -> None:
    assert first.status_code == 302 and first.location.endswith("/account/password")
    for url in BLOCKED_GETS:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.endswith("/account/password"), url
    for url in BLOCKED_POSTS:
        response = client.post(url, data={"email": "sneaky@example.org", "reference": "X-1"})
        assert response.status_code == 302 and response.location.endswith("/account/password")
    page = client.get("/account/password")
    assert page.status_code == 200
    assert "Kies eerst uw eigen wachtwoord" in page.text  # the Dutch notice
    # No menu of pages that would all lead back here; logging out stays.
    assert "Contractregister" not in page.text and "Uitloggen" in page.text
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    static.close()
    assert client.post("/language", data={"lang": "en"}).status_code == 302
    assert db.session.scalar(sa.select(User).where(User.email == "sneaky@example.org")) is None
    assert db.session.scalar(sa.select(Dossier)) is None


def _change(client: FlaskClient, current: str) -> None:
    response = client.post(
        "/account/password",
        data={"current_password": current, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.text


def test_the_first_admin_from_init_must_change_the_password(app: Flask) -> None:
    result = app.test_cli_runner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    password = re.search(r"with password (\S+)", result.stdout).group(1)
    client, first = _login(app, FIRST_ADMIN_EMAIL, password)
    _assert_forced(client, first)
    # The same password again is no change.
    same = client.post(
        "/account/password",
        data={"current_password": password, "new_password": password, "confirm": password},
    )
    assert same.status_code == 400
    assert client.get("/admin/users").status_code == 302
    _change(client, password)
    assert client.get("/admin/users").status_code == 200
    assert "Contract register" in client.get("/account/password").text  # the menu is back
    assert client.get("/").status_code == 200
    admin = db.session.scalar(sa.select(User).where(User.email == FIRST_ADMIN_EMAIL))
    db.session.refresh(admin)
    assert admin.must_change_password is False


@pytest.mark.parametrize("chosen", ["", "door de beheerder gekozen"])
def test_a_user_created_by_an_admin_must_change_the_password(
    app: Flask, admin: User, chosen: str
) -> None:
    response = app.test_client(user=admin).post(
        "/admin/users", data={"email": "nieuw@example.org", "password": chosen}
    )
    assert response.status_code in (200, 302)
    password = chosen or re.search(r'class="one-time-password">([^<]+)<', response.text).group(1)
    client, first = _login(app, "nieuw@example.org", password)
    _assert_forced(client, first)
    _change(client, password)
    assert client.get("/").status_code == 200
    assert client.get("/search?q=x").status_code == 200


def test_a_password_reset_by_an_admin_must_be_changed(
    app: Flask, admin: User, make_user: Callable[..., User]
) -> None:
    user = make_user("vergeten@example.org")
    assert user.must_change_password is False
    response = app.test_client(user=admin).post(
        f"/admin/users/{user.id}/password", data={"password": ""}
    )
    password = re.search(r'class="one-time-password">([^<]+)<', response.text).group(1)
    client, first = _login(app, user.email, password)
    _assert_forced(client, first)
    _change(client, password)
    assert client.get("/").status_code == 200


def test_create_user_on_the_command_line_is_not_forced(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        cli, ["create-user", "zelf@example.org", "--password-stdin"], input=NEW_PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    client, first = _login(app, "zelf@example.org", NEW_PASSWORD)
    assert first.status_code == 302 and first.location.endswith("/admin/users")
    assert client.get("/").status_code == 200

"""`dossier/web/auth.py`: logging in (a Dutch page by default, afterwards only to a local page)
and changing one's password."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from dossier.extensions import db
from dossier.models import User
from tests.conftest import PASSWORD

# Logging in


def test_login_page_is_dutch_by_default(app: Flask) -> None:
    response = app.test_client().get("/login")
    assert response.status_code == 200
    assert "Inloggen" in response.text, "Dutch is the default language"


def test_login_with_password_then_register_is_shown(app: Flask, admin: User) -> None:
    client = app.test_client()
    response = client.post("/login", data={"email": "ADMIN@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_the_language_chosen_before_log_in_stays_and_is_remembered(app: Flask, admin: User) -> None:
    """The log-in starts a fresh session (no fixation), but the language picked on the log-in
    page is no secret: it carries over, and a choice made while logged in is the account's."""
    client = app.test_client()

    def page(path: str) -> str:
        with app.app_context():  # Flask-Babel caches the locale per app context
            return client.get(path).text

    client.post("/language", data={"lang": "en", "next": "/login"})
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert 'lang="en"' in page("/")
    client.post("/language", data={"lang": "nl"})
    client.post("/logout")
    db.session.expire_all()
    assert db.session.get(User, admin.id).locale == "nl"
    client.post("/language", data={"lang": "en", "next": "/login"})
    client.post("/language", data={"lang": "nl", "next": "/login"})
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    assert 'lang="nl"' in page("/")


def test_wrong_password_is_refused_with_a_message(app: Flask, admin: User) -> None:
    response = app.test_client().post(
        "/login", data={"email": admin.email, "password": "wrong password 123"}
    )
    assert response.status_code == 400
    assert "wachtwoord" in response.text


def test_login_next_only_to_local_paths(app: Flask, admin: User) -> None:
    for target, expected in [
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/dossiers/new", "/dossiers/new"),
    ]:
        response = app.test_client().post(
            f"/login?next={target}", data={"email": admin.email, "password": PASSWORD}
        )
        assert response.headers["Location"] == expected


# Changing one's password


def test_password_change_reports_every_problem(app: Flask, make_user: Callable[..., User]) -> None:
    user = make_user("someone@example.org")
    response = app.test_client(user=user).post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "kort", "confirm": "anders"},
    )
    assert response.status_code == 400
    assert "12 tekens" in response.text
    assert "De wachtwoorden komen niet overeen." in response.text


def test_password_change_ends_other_sessions_and_keeps_this_one(app: Flask, admin: User) -> None:
    here, elsewhere = app.test_client(), app.test_client()
    for client in (here, elsewhere):
        client.post("/login", data={"email": admin.email, "password": PASSWORD})
    new = "another long passphrase"
    response = here.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert (
        app.test_client().post("/login", data={"email": admin.email, "password": new}).status_code
        == 302
    )


@pytest.mark.parametrize(
    ("current", "new", "confirm"),
    [
        ("wrong password!!", "another long passphrase", "another long passphrase"),
        (PASSWORD, "short", "short"),
        (PASSWORD, "another long passphrase", "different passphrase"),
    ],
)
def test_password_change_refusals(
    app: Flask, admin: User, current: str, new: str, confirm: str
) -> None:
    client = app.test_client(user=admin)
    response = client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "confirm": confirm},
    )
    assert response.status_code == 400
    assert (
        app.test_client()
        .post("/login", data={"email": admin.email, "password": PASSWORD})
        .status_code
        == 302
    )

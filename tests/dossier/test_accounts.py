"""`dossier/accounts.py`: passwords that are common or trivially repetitive are refused with the
reason, wherever a password is set: the password page, an administrator, the command line.
Outside a request (the `dossier` commands) the policy speaks English, in errors that serialise."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask_babel import force_locale

from dossier import accounts
from dossier.errors import ValidationError
from dossier.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.any_database

WEAK = {
    "aaaaaaaaaaaa": "repeats the same characters",
    "abcabcabcabc": "repeats the same characters",
    "password1234": "list of commonly used passwords",
    "123456789012": "list of commonly used passwords",
    "qwertyuiopas": "list of commonly used passwords",
    "Welkom012345": "list of commonly used passwords",
}
# Passwords the tests, scripts and browser tests log in with must stay acceptable.
STRONG = [
    PASSWORD,
    "a long enough password",
    "another long passphrase",
    "een lang genoeg wachtwoord",
    "bench password 12345",  # scripts/bench_pages.py
    "load test password 2025",  # scripts/load_test.py
    PASSWORD + " (tijdelijk)",  # tests/e2e/conftest.py
]


@pytest.mark.parametrize(("password", "reason"), WEAK.items())
def test_weak_passwords_are_refused_with_the_reason(app: Flask, password: str, reason: str) -> None:
    with force_locale("en"), pytest.raises(ValidationError) as caught:
        accounts.check_password_policy(password, "someone@example.org")
    assert reason in caught.value.errors["password"]


@pytest.mark.parametrize("password", STRONG)
def test_strong_passwords_pass(app: Flask, password: str) -> None:
    accounts.check_password_policy(password, "someone@example.org")


def test_generated_passwords_pass(app: Flask) -> None:
    for _ in range(20):
        accounts.check_password_policy(accounts.generate_password(), "someone@example.org")


def test_the_password_page_refuses_a_common_password(app: Flask, admin: User) -> None:
    new = "password1234"
    response = app.test_client(user=admin).post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 400
    assert "staat op een lijst van veelgebruikte wachtwoorden" in response.text
    assert accounts.authenticate(admin.email, PASSWORD) is not None


def test_an_administrator_cannot_set_a_repetitive_password(app: Flask, admin: User) -> None:
    client = app.test_client(user=admin)
    created = client.post(
        "/admin/users", data={"email": "new@example.org", "password": "aaaaaaaaaaaa"}
    )
    assert created.status_code == 400
    assert "herhaalt steeds dezelfde tekens" in created.text
    reset = client.post(f"/admin/users/{admin.id}/password", data={"password": "123456789012"})
    assert reset.status_code == 400
    assert accounts.authenticate(admin.email, PASSWORD) is not None


@pytest.mark.parametrize("password", ["petradevries2026", "Petra de Vries 1", "p.devries-2026!"])
def test_a_password_made_of_the_users_own_name_is_refused(app: Flask, password: str) -> None:
    with force_locale("en"), pytest.raises(ValidationError) as caught:
        accounts.check_password_policy(password, "p.devries@gemeente.nl", "Petra de Vries")
    assert "your own name or e-mail address" in caught.value.errors["password"]
    accounts.check_password_policy(PASSWORD, "p.devries@gemeente.nl", "Petra de Vries")


def test_commands_get_english_messages_that_serialise(app: Flask) -> None:
    # No request: the `dossier` commands, whose own output is English.
    with pytest.raises(ValidationError) as caught:
        accounts.check_password_policy("short")
    assert str(caught.value) == "password: use at least 12 characters"
    assert json.loads(json.dumps(caught.value.errors)) == {"password": "use at least 12 characters"}

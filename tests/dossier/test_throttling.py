"""Failed log-ins are throttled per address and per account without letting a stranger lock a
user out, are audited and logged; the password page's current-password check is throttled too."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import throttling
from dossier.extensions import db
from dossier.models import AuditEvent, GlobalRole, User
from tests.conftest import PASSWORD, need

OWNER, ATTACKER, STRANGER = "198.51.100.7", "203.0.113.66", "192.0.2.9"


@pytest.fixture
def throttled(app: Flask) -> Flask:
    """The test app with throttling on (the suite runs with it off) and small limits."""
    app.config.update(
        RATELIMIT_ENABLED=True,
        LOGIN_LIMITS="3 per minute",
        LOGIN_ACCOUNT_LIMITS="3 per minute",
        PASSWORD_CHECK_LIMITS="2 per minute",
    )
    throttling.init_app(app)
    return app


def _login(client: FlaskClient, email: str, password: str, address: str) -> int:
    response = client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def _logged(caplog: pytest.LogCaptureFixture, event: str) -> list[dict]:
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dossier.security"]
    return [line for line in lines if line["event"] == event]


def test_wrong_passwords_from_elsewhere_do_not_lock_the_user_out(
    throttled: Flask, admin: User
) -> None:
    client = throttled.test_client()
    # One wrong guess from each of four addresses: no address is over its limit, the account is.
    attackers = [f"203.0.113.{n}" for n in range(1, 5)]
    assert [_login(client, admin.email, "wrong guess 1234", a) for a in attackers] == [400] * 4
    # An address that failed for this account is refused, even with the right password ...
    refused = client.post(
        "/login",
        data={"email": admin.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": attackers[0]},
    )
    assert refused.status_code == 429
    assert "te veel mislukte inlogpogingen op dit account" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # ... a new address gets one guess ...
    assert _login(client, admin.email, "wrong guess 5678", STRANGER) == 400
    assert _login(client, admin.email, PASSWORD, STRANGER) == 429
    # ... and the owner, from an address that has not failed, logs in.
    assert _login(throttled.test_client(), admin.email, PASSWORD, OWNER) == 302


def test_an_address_that_fails_too_often_is_refused_for_every_account(
    throttled: Flask, make_user: Callable[..., User]
) -> None:
    client = throttled.test_client()
    users = [make_user() for _ in range(4)]
    codes = [_login(client, u.email, "wrong guess 1234", ATTACKER) for u in users]
    assert codes == [400, 400, 400, 429]
    response = client.post(
        "/login",
        data={"email": users[3].email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": ATTACKER},
    )
    assert response.status_code == 429
    assert "te veel mislukte inlogpogingen van uw netwerkadres" in response.text
    assert _login(client, users[3].email, PASSWORD, OWNER) == 302


def test_failed_logins_and_lockouts_are_audited_logged_and_filterable(
    throttled: Flask, admin: User, make_user: Callable[..., User], caplog
) -> None:
    caplog.set_level("INFO", logger="dossier.security")
    client = throttled.test_client()
    users_before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    assert _login(client, admin.email, "wrong guess 1234", ATTACKER) == 400
    # An unknown address, typed with spaces, capitals and a right-to-left override.
    assert _login(client, " Nobody\u202e@Example.org ", "wrong guess 1234", ATTACKER) == 400
    assert _login(client, admin.email, "wrong guess 5678", ATTACKER) == 400
    for _ in range(3):
        assert _login(client, admin.email, "wrong guess 9999", ATTACKER) == 429

    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users_before
    failed = _events("login.failed")
    assert [(e.object_id, e.after["email"], e.after["address"]) for e in failed] == [
        (admin.id, admin.email, ATTACKER),
        (None, "…@example.org", ATTACKER),  # an address of no account: only its domain
        (admin.id, admin.email, ATTACKER),
    ]
    assert {e.actor_label for e in failed} == {"anonymous"} and failed[0].actor_id is None
    locked = _events("login.locked")  # once, when the third failure closed the address
    assert [(e.after["scope"], e.after["address"]) for e in locked] == [("address", ATTACKER)]

    assert len(_logged(caplog, "login.failed")) == 3
    assert len(_logged(caplog, "login.locked")) == 1
    throttled_lines = _logged(caplog, "login.throttled")
    assert len(throttled_lines) == 3
    assert throttled_lines[0]["address"] == ATTACKER and throttled_lines[0]["scope"] == "address"

    auditor = make_user("auditor@example.org", GlobalRole.AUDITOR)
    viewer = throttled.test_client(user=auditor)
    page = viewer.get("/audit", query_string={"action": "login.failed"}).text
    assert page.count(">Mislukte inlogpoging</td>") == 3
    assert page.count(">niet ingelogd</td>") == 3 and ">anonymous<" not in page  # in Dutch
    assert "…@example.org" in page and "nobody" not in page and ATTACKER in page
    assert ">Inloggen geblokkeerd na mislukte pogingen</td>" not in page
    locks = viewer.get("/audit", query_string={"action": "login.locked"}).text
    assert locks.count(">Inloggen geblokkeerd na mislukte pogingen</td>") == 1
    assert "inloggen vanaf dit netwerkadres" in locks
    options = viewer.get("/audit").text
    assert 'value="login.failed"' in options and 'value="login.locked"' in options


def test_the_current_password_check_is_throttled(throttled: Flask, admin: User, caplog) -> None:
    client = throttled.test_client(user=admin)

    def change(current: str) -> int:
        new = "a brand new passphrase"
        data = {"current_password": current, "new_password": new, "confirm": new}
        return client.post("/account/password", data=data).status_code

    assert [change("wrong guess 1234"), change("wrong guess 5678")] == [400, 400]
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "x" * 12, "confirm": "x" * 12},
    )
    assert response.status_code == 429
    assert "Het huidige wachtwoord is te vaak verkeerd ingevuld" in response.text
    assert change(PASSWORD) == 429  # even the right one, until the window ends
    assert [e.after["scope"] for e in _events("login.locked")] == ["password"]
    assert _events("login.locked")[0].actor_id == admin.id
    assert len(_logged(caplog, "password.check_failed")) == 2
    assert len(_logged(caplog, "password.throttled")) == 2


def test_invisible_characters_make_no_fresh_account_to_guess(throttled: Flask, admin: User) -> None:
    client = throttled.test_client()
    for number, address in enumerate(("203.0.113.1", "203.0.113.2", "203.0.113.3")):
        assert _login(client, admin.email, f"wrong guess {number}000", address) == 400
    # The account is closed to addresses that failed for it; variants of its e-mail address
    # with invisible characters are the same account, not new keys with a fresh allowance.
    variants = [admin.email.replace("@", mark + "@") for mark in ("\u200e", "\u200f", "\x01")]
    assert [_login(client, v, "wrong guess 4000", "203.0.113.1") for v in variants] == [429] * 3


def test_a_password_typed_in_the_e_mail_field_is_not_kept(
    throttled: Flask, admin: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="dossier.security")
    assert _login(throttled.test_client(), "Geheim-Wachtwoord-2026", PASSWORD, ATTACKER) == 400
    assert [e.after["email"] for e in _events("login.failed")] == ["…"]
    assert "geheim" not in json.dumps(_logged(caplog, "login.failed")).lower()


# The page a throttled visitor gets.


def test_login_attempts_are_throttled_with_a_clear_message(
    tmp_path: Path, sqlite_template: Path
) -> None:
    import shutil

    from dossier import create_app
    from tests.conftest import _config

    target = tmp_path / "throttle.sqlite3"
    shutil.copy(sqlite_template, target)
    config = _config(tmp_path, f"sqlite:///{target}") | {
        "RATELIMIT_ENABLED": True,
        "LOGIN_LIMITS": "3 per minute",
    }
    throttled = create_app(config)
    client = throttled.test_client()
    codes = [
        client.post(
            "/login", data={"email": "nobody@example.org", "password": "x" * 12}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    response = client.post("/login", data={"email": "nobody@example.org", "password": "x"})
    assert "Traceback" not in response.text and response.status_code == 429
    # A logged-out visitor is sent to the log-in page, not to the register they cannot open.
    assert "Terug naar het contractregister" not in response.text
    assert '<a href="/login">Naar de inlogpagina</a>' in response.text


@pytest.mark.parametrize("shared", [True, False], ids=["redis", "memory"])
def test_failures_count_across_web_processes_only_with_a_shared_store(
    app: Flask, shared: bool
) -> None:
    """With RATELIMIT_STORAGE_URI on Redis, the failures one web process saw refuse the address
    in another (here: the counters' store opened afresh, as a second process opens it); with
    the per-process memory store they do not (which is why several nodes need Redis)."""
    uri = "memory://"
    if shared:
        redis = pytest.importorskip("redis")
        try:
            redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
        except redis.exceptions.ConnectionError:
            need(False, "no Redis at 127.0.0.1:6379")
        uri = "redis://127.0.0.1:6379"
    app.config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=uri, LOGIN_LIMITS="3 per hour")
    throttling.init_app(app)
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    email = f"{uuid.uuid4().hex}@example.org"  # fresh keys in a Redis other runs share
    for _ in range(3):
        throttling.record_login_failure(email, address)
    assert throttling.login_refusal(email, address) is not None
    throttling.init_app(app)  # another web process
    refused = throttling.login_refusal(email, address)
    assert (refused is not None) == shared
    if shared:
        assert refused.scope == throttling.ADDRESS

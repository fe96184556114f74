"""`dossier/security.py`: log-in sessions end at log-out and when the user is disabled, a form
without its CSRF token is refused, error pages (also for a request over the size limit) show
nothing internal, pages escape user text and carry the security headers. Deployment behind
https and reverse proxies: Secure on every cookie, HSTS, the client's real address from trusted
proxies only; access denials logged as JSON lines."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import create_app
from dossier.extensions import db
from dossier.models import AuditEvent, Dossier, GlobalRole, User
from tests.conftest import _PASSWORD_HASH, PASSWORD, _config

HTTPS = "https://dossier.example.org"


@pytest.fixture
def build(tmp_path: Path, sqlite_template: Path) -> Iterator[Callable[..., Flask]]:
    """Apps made by `create_app` itself (settings are derived there), each on its own copy."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        folder = tmp_path / f"app{len(made)}"
        folder.mkdir()
        shutil.copy(sqlite_template, folder / "db.sqlite3")
        app = create_app(_config(folder, f"sqlite:///{folder / 'db.sqlite3'}") | settings)
        made.append(app)
        with app.app_context():
            db.session.add(User(email="ada@example.org", name="Ada", password_hash=_PASSWORD_HASH))
            db.session.commit()
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _log_in(app: Flask, base_url: str = HTTPS, **environ: str):
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": "ada@example.org", "password": PASSWORD, "remember": "y"},
        base_url=base_url,
        environ_base=environ,
    )
    return response


@pytest.mark.any_database
def test_secure_cookies_make_the_remember_me_cookie_secure_too(
    build: Callable[..., Flask],
) -> None:
    response = _log_in(build(SESSION_COOKIE_SECURE=True))
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    names = {c.split("=", 1)[0] for c in cookies}
    assert {"dossier_session", "remember_token"} <= names
    assert all("; Secure" in c for c in cookies), cookies


@pytest.mark.any_database
def test_secure_cookies_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOSSIER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DOSSIER_SESSION_COOKIE_SECURE", "true")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.any_database
def test_cookies_are_not_secure_unless_configured(build: Callable[..., Flask]) -> None:
    cookies = _log_in(build(), base_url="http://localhost").headers.getlist("Set-Cookie")
    assert cookies and not any("Secure" in c for c in cookies)


@pytest.mark.any_database
def test_hsts_is_sent_over_https_when_configured(build: Callable[..., Flask]) -> None:
    client = build(HSTS_SECONDS=31536000).test_client()
    secure = client.get("/login", base_url=HTTPS)
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/login").headers  # plain http
    with_subdomains = build(HSTS_SECONDS=600, HSTS_INCLUDE_SUBDOMAINS=True).test_client()
    header = with_subdomains.get("/login", base_url=HTTPS).headers["Strict-Transport-Security"]
    assert header == "max-age=600; includeSubDomains"
    plain = build().test_client().get("/login", base_url=HTTPS)
    assert "Strict-Transport-Security" not in plain.headers


@pytest.mark.any_database
def test_a_trusted_proxy_tells_the_scheme(build: Callable[..., Flask]) -> None:
    """TLS ends at the proxy: its X-Forwarded-Proto says https, but only when trusted."""
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    behind = build(HSTS_SECONDS=600, TRUSTED_PROXIES=1).test_client()
    assert "Strict-Transport-Security" in behind.get("/login", headers=forwarded).headers
    direct = build(HSTS_SECONDS=600).test_client()
    assert "Strict-Transport-Security" not in direct.get("/login", headers=forwarded).headers


def _failures(app: Flask, client_address: str, count: int) -> list[int]:
    client = app.test_client()
    return [
        client.post(
            "/login",
            data={"email": f"guess{n}@example.org", "password": "wrong guess 1234"},
            headers={"X-Forwarded-For": client_address},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},  # every request comes from the proxy
        ).status_code
        for n in range(count)
    ]


@pytest.mark.any_database
def test_behind_a_trusted_proxy_each_client_has_its_own_login_limit(
    build: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    limits = {"RATELIMIT_ENABLED": True, "LOGIN_LIMITS": "2 per minute"}
    behind = build(TRUSTED_PROXIES=1, **limits)
    assert _failures(behind, "203.0.113.5", 3) == [400, 400, 429]
    assert _failures(behind, "198.51.100.7", 1) == [400]  # another client is not throttled
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dossier.security"]
    assert {line["address"] for line in lines} == {"203.0.113.5", "198.51.100.7"}
    # Without trusted proxies the header is the client's word: ignored, so no way around it.
    direct = build(**limits)
    assert _failures(direct, "203.0.113.5", 2) == [400, 400]
    assert _failures(direct, "198.51.100.7", 1) == [429]


@pytest.mark.any_database
def test_trusted_proxies_must_be_a_count(build: Callable[..., Flask]) -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        build(TRUSTED_PROXIES="yes")


@pytest.mark.any_database
def test_access_denials_are_logged_not_audited(
    app: Flask,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="dossier.security")
    make_dossier("2025-001")
    reader = make_user("reader@example.org", GlobalRole.BEHEERDER)
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    client = app.test_client(user=reader)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/dossiers/2025-001%0D%0AX-Evil:%201").status_code == 404
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dossier.security"]
    denied = [line for line in lines if line["event"] == "access.denied"]
    assert [(d["status"], d["path"], d["user_id"]) for d in denied] == [
        (403, "/admin/users", reader.id)
    ]
    missing = [line for line in lines if line["event"] == "access.not_found"]
    assert missing[0]["path"] == "/dossiers/2025-001\r\nX-Evil: 1"
    assert all("\n" not in r.getMessage() for r in caplog.records)  # one line each
    after = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert after == events_before


@pytest.mark.any_database
def test_an_untrusted_proxy_in_front_is_reported_once(
    build: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="dossier.security")
    client = build().test_client()
    for _ in range(3):
        client.get("/login", headers={"X-Forwarded-For": "203.0.113.5"})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dossier.security"]
    noticed = [line for line in lines if line["event"] == "config.untrusted_proxy"]
    assert len(noticed) == 1 and "DOSSIER_TRUSTED_PROXIES" in noticed[0]["advice"]
    trusted = build(TRUSTED_PROXIES=1).test_client()
    caplog.clear()
    trusted.get("/login", headers={"X-Forwarded-For": "203.0.113.5"})
    assert "config.untrusted_proxy" not in caplog.text


# CSRF, sessions and error pages.


def test_post_without_csrf_token_is_refused(app: Flask, admin: User) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = app.test_client(user=admin).post(
        "/dossiers/new",
        data={
            "reference": "2025-060",
            "title": "x",
            "status": "draft",
            "confidentiality": "normal",
        },
    )
    assert response.status_code == 400
    assert db.session.scalar(db.select(Dossier).where(Dossier.reference == "2025-060")) is None


def test_logout_ends_the_session_cookie_everywhere(app: Flask, admin: User) -> None:
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        client.post("/login", data={"email": admin.email, "password": PASSWORD})
        assert client.get("/").status_code == 200
    first.post("/logout")
    response = second.get("/")
    assert response.status_code == 302, "a session from before log-out must not survive it"


def test_disabled_user_is_logged_out(app: Flask, admin: User) -> None:
    client = app.test_client()
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    admin.is_enabled = False
    db.session.commit()
    assert client.get("/").status_code == 302


def test_errors_show_no_internals(app: Flask, admin: User) -> None:
    response = app.test_client(user=admin).get("/dossiers/%00%ff")
    assert response.status_code == 404
    assert "Traceback" not in response.text


def test_request_over_the_size_limit_is_refused_before_reading(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-070")
    app.config["MAX_CONTENT_LENGTH"] = 10_000
    response = app.test_client(user=admin).post(
        "/dossiers/2025-070/documents/new",
        data={
            "file": (io.BytesIO(b"x" * 20_000), "big.txt"),
            "kind": "other",
            "confidentiality": "normal",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "Traceback" not in response.text


# Escaping and security headers.


def test_pages_escape_user_text(app: Flask, admin: User, make_dossier) -> None:
    make_dossier("2025-003", title="<script>alert(1)</script> {{7*7}}")
    page = app.test_client(user=admin).get("/dossiers/2025-003").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page and "{{7*7}}" in page


def test_security_headers_on_pages(app: Flask, admin: User) -> None:
    response = app.test_client(user=admin).get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"

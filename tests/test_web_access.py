"""The first access rules on the web: hidden dossiers are 404, forbidden actions 403, CSRF and
log-out hold. (The full role × endpoint matrix belongs to the access issue.)"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from dossier import documents
from dossier.extensions import db
from dossier.models import Confidentiality, DocumentKind, Dossier, MemberRole, User
from tests.conftest import PASSWORD


@pytest.fixture
def setting(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> dict[str, object]:
    reader, outsider = make_user("reader@example.org"), make_user("outsider@example.org")
    dossier = make_dossier("2025-050", members={reader: MemberRole.READER})
    with documents.receive(io.BytesIO(b"open\n"), "open.txt") as upload:
        normal = documents.file_document(admin, dossier, upload, kind=DocumentKind.OTHER)
    with documents.receive(io.BytesIO(b"secret prices\n"), "prices.txt") as upload:
        secret = documents.file_document(
            admin,
            dossier,
            upload,
            kind=DocumentKind.ANNEX,
            confidentiality=Confidentiality.CONFIDENTIAL,
        )
    db.session.commit()
    return {"reader": reader, "outsider": outsider, "normal": normal.id, "secret": secret.id}


def test_outsider_gets_404_everywhere(app: Flask, setting: dict) -> None:
    client = app.test_client(user=setting["outsider"])
    for url in [
        "/dossiers/2025-050",
        "/dossiers/2025-050/edit",
        "/dossiers/2025-050/documents/new",
        f"/dossiers/2025-050/documents/{setting['normal']}",
        f"/dossiers/2025-050/documents/{setting['normal']}/versions/1/download",
        "/dossiers/does-not-exist",
    ]:
        assert client.get(url).status_code == 404, url
    assert "2025-050" not in client.get("/").text


def test_reader_reads_but_may_not_file_or_edit(app: Flask, setting: dict) -> None:
    client = app.test_client(user=setting["reader"])
    assert client.get("/dossiers/2025-050").status_code == 200
    assert client.get("/dossiers/2025-050/edit").status_code == 403
    assert client.get("/dossiers/2025-050/documents/new").status_code == 403
    response = client.post(
        "/dossiers/2025-050/documents/new",
        data={"file": (io.BytesIO(b"x\n"), "x.txt"), "kind": "other", "confidentiality": "normal"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403


def test_confidential_document_is_invisible_to_a_reader(app: Flask, setting: dict) -> None:
    client = app.test_client(user=setting["reader"])
    assert "prices.txt" not in client.get("/dossiers/2025-050").text
    base = f"/dossiers/2025-050/documents/{setting['secret']}"
    assert client.get(base).status_code == 404
    assert client.get(base + "/versions/1/download").status_code == 404


def test_document_of_another_dossier_is_not_reachable_through_this_one(
    app: Flask, admin: User, setting: dict, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-051", members={setting["reader"]: MemberRole.READER})
    client = app.test_client(user=setting["reader"])
    assert client.get(f"/dossiers/2025-051/documents/{setting['normal']}").status_code == 404


def test_anonymous_is_sent_to_login(app: Flask) -> None:
    response = app.test_client().get("/dossiers/2025-050")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


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

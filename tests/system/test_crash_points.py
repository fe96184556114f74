"""R2: a crash at any named step of filing, versioning, withdrawal, membership change or indexing
leaves the operation whole or absent, and `dossier verify` passes after a restart.

Each test runs the real operation in a child process with DOSSIER_CRASH_AT set, checks that it
died at that step, "restarts" with `dossier worker --once` (start-up recovery, then the queued
index work), and runs `dossier verify`. The database is the test's own (SQLite file or PostgreSQL).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import crash, documents, indexing, memberships
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    MemberRole,
    Membership,
    OutboxItem,
    User,
)

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "system" / "crash_driver.py"
DOSSIER = Path(sys.executable).with_name("dossier")
WORD = "bureaustoelenleverantie"
ADMIN = "admin@example.org"  # the `admin` fixture

# What each operation adds when it happens; a crash must leave all of it or none of it.
EFFECTS = {
    "file": {"documents": 1, "versions": 1, "audit": 2},
    "version": {"versions": 1, "audit": 1},
    "withdraw": {"withdrawn": 1, "audit": 1},
    "grant": {"memberships": 1, "audit": 1},
    "revoke": {"memberships": -1, "audit": 1},
    "index": {},
}
CLI_OPERATIONS = {
    "grant": ["grant", "lezer@example.org", "2025-001", "reader"],
    "revoke": ["revoke", "oud-lid@example.org", "2025-001"],
}
UPLOAD_POINTS = [
    ("upload.after_staging", False),
    ("upload.after_blob", False),
    ("upload.after_version_row", False),
    ("upload.before_commit", False),
    ("upload.after_commit", True),
]
POINTS = [
    *[("file", name, happened) for name, happened in UPLOAD_POINTS],
    *[("version", name, happened) for name, happened in UPLOAD_POINTS],
    ("withdraw", "withdraw.after_mark", False),
    ("withdraw", "withdraw.before_commit", False),
    ("grant", "membership.after_row", False),
    ("grant", "membership.before_commit", False),
    ("grant", "membership.after_commit", True),
    ("revoke", "membership.after_delete", False),
    ("revoke", "membership.revoke_before_commit", False),
    ("revoke", "membership.revoke_after_commit", True),
    ("index", "indexing.after_extract", None),
    ("index", "indexing.after_extract_commit", None),
    ("index", "indexing.after_index_commit", None),
    ("index", "indexing.after_outbox_done", None),
]


def _env(app: Flask, crash_at: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env |= {
        "DOSSIER_INSTANCE_PATH": app.instance_path,
        "DOSSIER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "DOSSIER_BLOB_ROOT": app.config["BLOB_ROOT"],
        "DOSSIER_STAGING_DIR": app.config["STAGING_DIR"],
        "DOSSIER_INDEX_DIR": app.config["INDEX_DIR"],
        "DOSSIER_SECRET_KEY": "crash-test",
        "DOSSIER_INDEXING": "off",
        "DOSSIER_WTF_CSRF_ENABLED": "false",
        "DOSSIER_RATELIMIT_ENABLED": "false",
        "DOSSIER_SECOND_FACTOR_REQUIRED_ROLES": "[]",  # the driver acts as the administrator
        "DOSSIER_OCR": "false",
        # The restarted process is the only one: everything in staging is a crash's leftover.
        "DOSSIER_STAGING_GRACE_SECONDS": "0",
    }
    if crash_at:
        env[crash.ENV_VAR] = crash_at
    return env


def _run(app: Flask, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args],
        env=_env(app, crash_at),
        cwd=app.instance_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _state() -> dict[str, int]:
    db.session.rollback()  # a fresh snapshot: the child processes changed the database

    def count(model: type, *where: sa.ColumnElement[bool]) -> int:
        query = sa.select(sa.func.count()).select_from(model).where(*where)
        return db.session.scalar(query) or 0

    state = {
        "documents": count(Document),
        "versions": count(DocumentVersion),
        "withdrawn": count(Document, Document.withdrawn_at.is_not(None)),
        "memberships": count(Membership),
        "audit": count(AuditEvent),
        "outbox": count(OutboxItem),
    }
    db.session.rollback()
    return state


def _file_text(actor: User, dossier: Dossier, name: str, text: str) -> Document:
    with documents.receive(_bytes(text), name) as upload:
        document = documents.file_document(actor, dossier, upload, kind=DocumentKind.CONTRACT)
    db.session.commit()
    return document


def _bytes(text: str):  # noqa: ANN202
    import io

    return io.BytesIO(text.encode())


def memberships_grant(dossier: Dossier, user: User) -> Dossier:
    memberships.set_role(None, dossier, user, MemberRole.READER)
    db.session.commit()
    return dossier


@pytest.fixture
def seeded(app: Flask, admin: User, make_user: Callable[..., User], make_dossier) -> Flask:
    dossier = make_dossier("2025-001")
    make_user("lezer@example.org")
    dossier = memberships_grant(dossier, make_user("oud-lid@example.org"))
    _file_text(admin, dossier, "contract.txt", "Artikel 1 Levering\nDe leverancier levert.\n")
    indexing.drain()
    db.session.commit()
    db.session.remove()
    return app


@pytest.mark.parametrize(("operation", "point", "happened"), POINTS, ids=[p[1] for p in POINTS])
def test_a_crash_at_each_step_loses_nothing(
    seeded: Flask, tmp_path: Path, operation: str, point: str, happened: bool | None
) -> None:
    app = seeded
    args: list[str] = []
    if operation in ("file", "version"):
        upload = tmp_path / "brief.txt"
        upload.write_text(f"Brief over de {WORD}.\n", encoding="utf-8")
        args = [str(upload)]
    if operation == "index":
        dossier = db.session.scalars(sa.select(Dossier)).one()
        actor = db.session.scalars(sa.select(User).where(User.email == ADMIN)).one()
        _file_text(actor, dossier, "brief.txt", f"Over de {WORD}.\n")
        db.session.remove()
    before = _state()

    if operation in CLI_OPERATIONS:
        command = [DOSSIER, *CLI_OPERATIONS[operation], "--as", ADMIN]
    else:
        command = [sys.executable, DRIVER, operation, *args]
    crashed = _run(app, *command, crash_at=point)
    assert crashed.returncode == crash.EXIT_CODE, (crashed.stdout, crashed.stderr)

    middle = _state()
    expected = {k: before[k] + v for k, v in EFFECTS[operation].items()}
    if happened is not None:
        got = {k: middle[k] for k in expected}
        assert got == (expected if happened else {k: before[k] for k in expected}), point

    restarted = _run(app, DOSSIER, "worker", "--once")
    assert restarted.returncode == 0, restarted.stderr
    assert not list(Path(app.config["STAGING_DIR"]).iterdir()), "staging not cleaned"

    verified = _run(app, DOSSIER, "verify", "--json")
    report = json.loads(verified.stdout)
    assert verified.returncode == 0 and report["ok"], report["problems"]

    after = _state()
    assert after["outbox"] == 0, "queued index work was not finished after the restart"
    assert {k: after[k] for k in expected} == {k: middle[k] for k in expected}

    if operation == "index":
        found = _run(app, DOSSIER, "search", WORD, "--as", ADMIN, "--json")
        assert found.returncode == 0, found.stderr
        assert len(json.loads(found.stdout)) == 1


def test_a_retried_upload_after_a_crash_reuses_the_orphan_blob(seeded: Flask, tmp_path: Path):
    """The blob written before the crash is the one the retry refers to: nothing piles up."""
    app = seeded
    upload = tmp_path / "brief.txt"
    upload.write_text(f"Brief over de {WORD}.\n", encoding="utf-8")
    driver = (sys.executable, DRIVER, "file", upload)
    assert _run(app, *driver, crash_at="upload.after_blob").returncode == crash.EXIT_CODE
    young = json.loads(_run(app, DOSSIER, "verify", "--json").stdout)
    assert [n["kind"] for n in young["notes"]] == ["young_orphan_blob"]
    retried = _run(app, *driver)
    assert json.loads(retried.stdout) == {"status": 302}
    report = json.loads(_run(app, DOSSIER, "verify", "--json").stdout)
    assert report["ok"] and report["notes"] == [] and report["blobs"] == 2


# The points an e-mail's extraction passes: filing an attachment is an upload inside the drain.
MAIL_POINTS = [
    "upload.after_blob",
    "upload.before_commit",
    "indexing.after_extract",
    "indexing.after_extract_commit",
]


@pytest.mark.parametrize("point", MAIL_POINTS)
def test_a_crash_while_an_email_is_extracted_files_each_attachment_once(
    seeded: Flask, point: str
) -> None:
    from email.message import EmailMessage

    app = seeded
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "a@leverancier.nl", ADMIN, "Offerte"
    mail.set_content("Zie de bijlagen.\n")
    for name in ("offerte.txt", "planning.txt"):
        mail.add_attachment(f"{name}: {WORD}.\n".encode(), "text", "plain", filename=name)
    dossier = db.session.scalars(sa.select(Dossier)).one()
    actor = db.session.scalars(sa.select(User).where(User.email == ADMIN)).one()
    with documents.receive(_bytes(mail.as_string()), "bericht.eml") as upload:
        message = documents.file_document(actor, dossier, upload, kind=DocumentKind.CORRESPONDENCE)
    db.session.commit()
    message_id = message.id
    db.session.remove()

    crashed = _run(app, sys.executable, DRIVER, "index", crash_at=point)
    assert crashed.returncode == crash.EXIT_CODE, (crashed.stdout, crashed.stderr)
    restarted = _run(app, DOSSIER, "worker", "--once")
    assert restarted.returncode == 0, restarted.stderr
    assert not list(Path(app.config["STAGING_DIR"]).iterdir()), "scratch files left"
    verified = _run(app, DOSSIER, "verify", "--json")
    assert verified.returncode == 0, json.loads(verified.stdout)["problems"]

    db.session.rollback()
    names = db.session.scalars(
        sa.select(DocumentVersion.original_filename)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Document.parent_id == message_id)
    ).all()
    assert sorted(names) == ["offerte.txt", "planning.txt"]
    assert _state()["outbox"] == 0
    found = _run(app, DOSSIER, "search", WORD, "--as", ADMIN, "--json")
    assert len(json.loads(found.stdout)) == 2, found.stdout

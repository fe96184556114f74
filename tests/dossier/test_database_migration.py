"""`dossier migrate-database --to URL`: an installation on SQLite moves into an empty PostgreSQL
database whole (ids, text, clauses, audit chain), new rows there get fresh ids, `dossier
verify` is clean on the target, a non-empty target is refused, and a copy that fails half-way
leaves the target without rows."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import create_app, database_migration, documents, indexing, verify
from dossier.cli import cli
from dossier.config import normalise_url
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Clause,
    Document,
    DocumentKind,
    Dossier,
    User,
)
from dossier.services import blob_store
from tests.conftest import PG_URL, need


@pytest.fixture
def target_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database beside the test database, dropped afterwards."""
    need(bool(PG_URL), "DOSSIER_TEST_DATABASE_URL is not set (PostgreSQL)")
    base = sa.make_url(normalise_url(PG_URL))
    name = f"dossier_move_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _file(admin: User, dossier: Dossier, name: str, text: str) -> Document:
    with documents.receive(io.BytesIO(text.encode()), name) as upload:
        document = documents.file_document(admin, dossier, upload, kind=DocumentKind.CONTRACT)
    db.session.commit()
    return document


@pytest.fixture
def filled(app: Flask, admin: User, make_dossier: Callable[..., Dossier]) -> Flask:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the move is from SQLite (the source is the test app's database)")
    dossier = make_dossier("2025-040")
    _file(admin, dossier, "overeenkomst.txt", "Artikel 1 Levering\nDe leverancier levert.\n")
    _file(admin, dossier, "brief.txt", "Geachte heer,\nOver de levering.\n")
    indexing.drain()
    db.session.remove()
    return app


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0
            for table in db.metadata.sorted_tables
        }


def _target_app(app: Flask, url: str) -> Flask:
    return create_app(
        dict(app.config) | {"SQLALCHEMY_DATABASE_URI": normalise_url(url), "INDEXING": "off"}
    )


def test_an_installation_moves_whole_and_goes_on_with_fresh_ids(
    filled: Flask, target_url: str
) -> None:
    app = filled
    before = _counts(db.engine)
    head = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    head_id, head_hash = head.id, head.hash
    clauses = sorted(db.session.scalars(sa.select(Clause.text)))
    db.session.remove()

    outcome = app.test_cli_runner().invoke(cli, ["migrate-database", "--to", target_url, "--json"])
    assert outcome.exit_code == 0, outcome.output
    assert '"audit_head"' in outcome.output

    moved = _target_app(app, target_url)
    with moved.app_context():
        after = _counts(db.engine)
        assert after.pop("audit_event") == before.pop("audit_event") + 1  # the move itself
        assert after == before
        events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
        assert (events[-2].id, events[-2].hash) == (head_id, head_hash)
        assert events[-1].action == AuditAction.DATABASE_MIGRATE
        assert events[-1].prev_hash == head_hash
        assert sorted(db.session.scalars(sa.select(Clause.text))) == clauses
        report = verify.run(blob_store())
        assert report.ok, report.problems
        # New rows continue after the copied ids (the sequences were set).
        admin = db.session.scalars(sa.select(User).order_by(User.id)).first()
        dossier = db.session.scalars(sa.select(Dossier)).one()
        highest = db.session.scalar(sa.select(sa.func.max(Document.id)))
        document = _file(admin, dossier, "nota.txt", "Artikel 2 Betaling\nBinnen dertig dagen.\n")
        assert document.id == highest + 1
        db.session.remove()
        db.engine.dispose()


def test_a_target_with_rows_is_refused_and_left_alone(filled: Flask, target_url: str) -> None:
    app = filled
    with app.app_context():
        database_migration.migrate(target_url)
    moved = _target_app(app, target_url)
    with moved.app_context():
        counts = _counts(db.engine)
        db.engine.dispose()
    outcome = app.test_cli_runner().invoke(cli, ["migrate-database", "--to", target_url])
    assert outcome.exit_code == 1
    assert "not empty" in outcome.output and "nothing was copied" in outcome.output
    assert "Traceback" not in outcome.output
    with moved.app_context():
        assert _counts(db.engine) == counts
        db.engine.dispose()


def test_a_copy_that_fails_half_way_leaves_no_rows(
    filled: Flask, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = filled
    real_copy = database_migration._copy

    def fail_at_versions(source, target, table, progress):  # noqa: ANN001, ANN202
        if table.name == "document_version":
            raise sa.exc.OperationalError("INSERT", {}, Exception("connection lost"))
        return real_copy(source, target, table, progress)

    monkeypatch.setattr(database_migration, "_copy", fail_at_versions)
    outcome = app.test_cli_runner().invoke(cli, ["migrate-database", "--to", target_url])
    assert outcome.exit_code == 1
    assert "undone" in outcome.output and "Traceback" not in outcome.output
    with _target_app(app, target_url).app_context():
        # Nothing copied: every table as a fresh database has it (only the shipped list).
        counts = _counts(db.engine)
        assert {n for name, n in counts.items() if name not in database_migration.SEEDED} == {0}
        db.engine.dispose()
    monkeypatch.setattr(database_migration, "_copy", real_copy)
    with app.app_context():  # and the retry succeeds
        result = database_migration.migrate(target_url)
    assert result.rows["document"] == 2


def test_the_database_in_use_is_refused_as_target(filled: Flask, tmp_path: Path) -> None:
    app = filled
    outcome = app.test_cli_runner().invoke(
        cli, ["migrate-database", "--to", app.config["SQLALCHEMY_DATABASE_URI"]]
    )
    assert outcome.exit_code == 1
    assert "already uses" in outcome.output

"""The migrations build exactly the schema the models describe, and SQLite is tuned for safety."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from dossier.extensions import db
from dossier.models import Dossier


def test_migrations_match_the_models(app: Flask) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_sqlite_runs_with_wal_full_sync_and_foreign_keys(app: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys")
        }
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}


def test_the_polish2_migration_keeps_every_row_both_ways(tmp_path: Path) -> None:
    """The reference widening and the new user column change no stored row (on SQLite the
    dossier table is not rebuilt, so ON DELETE CASCADE never fires)."""
    from flask_migrate import downgrade, upgrade

    from dossier import create_app, dossiers
    from dossier.database import MIGRATIONS_DIR
    from dossier.models import Membership, User
    from tests.conftest import _config

    app = create_app(_config(tmp_path, f"sqlite:///{tmp_path / 'old.sqlite3'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        user = User(email="b@example.org", name="B", password_hash="x")
        db.session.add(user)
        db.session.flush()
        dossiers.create_dossier(user, {"reference": "2025-001", "title": "Schoonmaak"})
        db.session.commit()

        def rows() -> tuple[int, int, int]:
            return tuple(  # type: ignore[return-value]
                db.session.scalar(sa.select(sa.func.count()).select_from(table))
                for table in (User, Membership, Dossier)
            )

        before = rows()
        assert before == (1, 1, 1)
        db.session.remove()
        downgrade(directory=MIGRATIONS_DIR, revision="reports_deadlines")
        with db.engine.connect() as connection:
            columns = [r[1] for r in connection.exec_driver_sql('PRAGMA table_info("user")')]
            assert "must_change_password" not in columns
            assert connection.exec_driver_sql("SELECT count(*) FROM membership").scalar() == 1
        upgrade(directory=MIGRATIONS_DIR)
        assert rows() == before
        long_reference = "raamovereenkomst-schoonmaak-gemeentelijke-gebouwen-en-sport-2025"
        assert len(long_reference) == 64
        user = db.session.scalar(sa.select(User))
        dossiers.create_dossier(user, {"reference": long_reference, "title": "Lang"})
        db.session.commit()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        db.session.remove()
        db.engine.dispose()

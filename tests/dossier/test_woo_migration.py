"""The woo_requests migration: it widens the global-role check for the Woo handler, adds the
Woo tables, and goes down only while nobody holds the role and no request is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from dossier.extensions import db
from dossier.models import GlobalRole, User


def test_the_woo_migration_goes_down_and_up_and_refuses_to_lose_requests(tmp_path: Path) -> None:
    from flask_migrate import downgrade, upgrade

    from dossier import create_app, dossiers
    from dossier.database import MIGRATIONS_DIR
    from tests.conftest import _config

    app = create_app(_config(tmp_path, f"sqlite:///{tmp_path / 'woo.sqlite3'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        user = User(email="w@example.org", name="W", password_hash="x")
        db.session.add(user)
        db.session.flush()
        dossiers.create_dossier(user, {"reference": "2025-001", "title": "Schoonmaak"})
        user.global_role = GlobalRole.WOO
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # the role is held: Flask-Migrate reports and exits
            downgrade(directory=MIGRATIONS_DIR, revision="intake")
        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE user SET global_role = NULL")
            connection.exec_driver_sql(
                "INSERT INTO woo_request (received_on, requester, subject, status, "
                "extension_reason, suspended_days, decision_text, created_at) VALUES "
                "('2026-01-05', 'Krant', 'Alles', 'open', '', 0, '', '2026-01-05 10:00:00')"
            )
        with pytest.raises(SystemExit):  # a request is recorded
            downgrade(directory=MIGRATIONS_DIR, revision="intake")
        with db.engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM woo_request")
        downgrade(directory=MIGRATIONS_DIR, revision="intake")
        with db.engine.connect() as connection:
            tables = {r[0] for r in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
            assert not tables & {"woo_request", "woo_document", "woo_passage"}
            assert connection.exec_driver_sql("SELECT count(*) FROM membership").scalar() == 1
            declared = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'user'"
            ).scalar()
            assert "'archivist')" in declared and "'woo'" not in declared
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE user SET global_role = 'woo'")
            assert connection.exec_driver_sql("SELECT count(*) FROM membership").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        db.engine.dispose()

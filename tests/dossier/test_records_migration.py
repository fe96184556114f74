"""The retention_disposal migration: the shipped selection list is loaded, a dossier whose old
retention period matches exactly one shipped category gets it, the others keep their value and
get the default; the archivist role fits the widened check; down and up again keep every row."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from dossier.extensions import db


def test_the_records_migration_maps_the_old_retention_period(tmp_path: Path) -> None:
    from flask_migrate import downgrade, upgrade

    from dossier import create_app
    from dossier.database import MIGRATIONS_DIR
    from tests.conftest import _config

    app = create_app(_config(tmp_path, f"sqlite:///{tmp_path / 'old.sqlite3'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="contacts_notices")
        for number, years in ((1, 10), (2, 7), (3, 4), (4, None)):
            db.session.execute(
                sa.text(
                    "INSERT INTO dossier (reference, title, description, client_department, "
                    "status, option_count, auto_renewal, tender_reference, cpv_code, "
                    "confidentiality, retention_years, personal_data, created_at, updated_at, "
                    "row_version) VALUES (:ref, 'T', '', '', 'ended', 0, 0, '', '', 'normal', "
                    ":years, 0, '2020-01-01', '2020-01-01', 1)"
                ),
                {"ref": f"M-{number}", "years": years},
            )
        db.session.commit()
        upgrade(directory=MIGRATIONS_DIR, revision="retention_disposal")
        codes = db.session.execute(
            sa.text(
                "SELECT d.reference, c.code, r.reason FROM dossier_retention r "
                "JOIN dossier d ON d.id = r.dossier_id "
                "JOIN selection_category c ON c.id = r.category_id ORDER BY d.reference"
            )
        ).all()
        assert [(ref, code) for ref, code, _ in codes] == [
            ("M-1", "VB-INK-02"),
            ("M-2", "VB-INK-01"),
        ]
        assert "10 years" in codes[0][2]
        kept = db.session.scalar(
            sa.text("SELECT retention_years FROM dossier WHERE reference='M-3'")
        )
        assert kept == 4
        count = db.session.scalar(sa.text("SELECT count(*) FROM selection_category"))
        assert count == 6
        db.session.execute(
            sa.text(
                'INSERT INTO "user" (email, name, password_hash, is_enabled, global_role, '
                "session_token, must_change_password, created_at) VALUES ('a@example.org', 'A', "
                "'x', 1, 'archivist', 't', 0, '2020-01-01')"
            )
        )
        db.session.commit()
        db.session.execute(sa.text('UPDATE "user" SET global_role = NULL'))
        db.session.commit()
        downgrade(directory=MIGRATIONS_DIR, revision="contacts_notices")
        assert db.session.scalar(sa.text("SELECT count(*) FROM dossier")) == 4
        db.session.commit()
        upgrade(directory=MIGRATIONS_DIR)
        assert db.session.scalar(sa.text("SELECT count(*) FROM dossier_retention")) == 2
        db.engine.dispose()

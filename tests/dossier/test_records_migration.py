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


def test_the_selectielijst_2020_migration_replaces_the_unused_example_categories(
    tmp_path: Path,
) -> None:
    """The real categories come in (an organisation's own row under the same code wins), the
    example categories nothing uses go, one a dossier or a disposal list uses stays inactive
    with its assignment; down brings the examples back and up again does the same."""
    from flask_migrate import downgrade, upgrade

    from dossier import create_app, records
    from dossier.database import MIGRATIONS_DIR
    from tests.conftest import _config

    app = create_app(_config(tmp_path, f"sqlite:///{tmp_path / 'old.sqlite3'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision="woo_requests")
        for number in (1, 2):
            db.session.execute(
                sa.text(
                    "INSERT INTO dossier (reference, title, description, client_department, "
                    "status, option_count, auto_renewal, tender_reference, cpv_code, "
                    "confidentiality, personal_data, created_at, updated_at, row_version) "
                    "VALUES (:ref, 'T', '', '', 'ended', 0, 0, '', '', 'normal', 0, "
                    "'2020-01-01', '2020-01-01', 1)"
                ),
                {"ref": f"S-{number}"},
            )
        db.session.execute(
            sa.text(
                "INSERT INTO dossier_retention (dossier_id, category_id, assigned_at, reason) "
                "SELECT d.id, c.id, '2020-01-01', 'gekozen' FROM dossier d, selection_category c "
                "WHERE d.reference = 'S-1' AND c.code = 'VB-INK-02'"
            )
        )
        db.session.execute(
            sa.text(
                "INSERT INTO disposal_list (status, proposed_at, as_of) "
                "VALUES ('proposed', '2020-01-01', '2020-01-01')"
            )
        )
        db.session.execute(
            sa.text(
                "INSERT INTO disposal_item (list_id, dossier_id, reference, title, "
                "category_code, disposal_on, state, reason, withdrawn_documents) "
                "SELECT l.id, d.id, 'S-2', 'T', 'VB-INK-04', '2020-01-01', 'proposed', '', '' "
                "FROM disposal_list l, dossier d WHERE d.reference = 'S-2'"
            )
        )
        db.session.execute(
            sa.text(
                "INSERT INTO selection_category (code, description, valuation, retention_years, "
                "trigger, for_documents, is_active, created_at) VALUES ('16.2', 'Eigen tekst', "
                "'vernietigen', 6, 'dossier_closed', 0, 1, '2020-01-01')"
            )
        )
        db.session.commit()

        def categories() -> dict[str, tuple]:
            rows = db.session.execute(
                sa.text(
                    "SELECT code, description, valuation, retention_years, trigger, "
                    "for_documents, is_active FROM selection_category"
                )
            ).all()
            return {row[0]: tuple(row[1:]) for row in rows}

        upgrade(directory=MIGRATIONS_DIR, revision="selectielijst_2020")
        after = categories()
        shipped = records.parse_selection_list(
            (Path(records.__file__).parent / records.SHIPPED_LIST).read_text("utf-8")
        )
        assert len(shipped) == 14
        for row in shipped:
            expected = (
                row["description"],
                row["valuation"].value,
                row["retention_years"],
                row["trigger"].value,
                row["for_documents"],
                True,
            )
            if row["code"] == "16.2":  # the organisation's own row stays as it was
                expected = ("Eigen tekst", "vernietigen", 6, "dossier_closed", False, True)
            assert after.pop(row["code"]) == expected
        assert {code: values[-1] for code, values in after.items()} == {
            "VB-INK-02": False,
            "VB-INK-04": False,
        }
        assigned = db.session.execute(
            sa.text(
                "SELECT c.code FROM dossier_retention r "
                "JOIN selection_category c ON c.id = r.category_id"
            )
        ).scalars()
        assert list(assigned) == ["VB-INK-02"]
        db.session.commit()

        downgrade(directory=MIGRATIONS_DIR, revision="woo_requests")
        before = categories()
        assert sorted(before) == ["16.2"] + [f"VB-INK-0{n}" for n in range(1, 7)]
        assert all(values[-1] for values in before.values())
        assert before["16.2"][0] == "Eigen tekst"
        db.session.commit()

        upgrade(directory=MIGRATIONS_DIR)
        assert len(categories()) == 16
        assert db.session.scalar(sa.text("SELECT count(*) FROM dossier_retention")) == 1
        db.engine.dispose()

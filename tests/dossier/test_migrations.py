"""The migrations (`dossier/migrations`) build exactly the schema the models describe, and each
keeps every row, upgraded and downgraded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from dossier.extensions import db
from dossier.models import Dossier, User


def test_migrations_match_the_models(app: Flask) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


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


def test_dropping_the_people_columns_keeps_every_row_both_ways(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> None:
    """The migration that drops dossier.owner_id, manager_id and beheerder_id runs on a
    database with data: no row of any table goes (on SQLite a table rebuild would delete the
    dossiers first, failing or cascading to their memberships), and back down and up again."""
    import io

    from flask_migrate import downgrade, upgrade

    from dossier import deadlines, documents, groups, memberships
    from dossier.database import MIGRATIONS_DIR
    from dossier.models import Base, DeadlineKind, DeadlineStatus, DocumentKind, MemberRole

    app.config["REPORT_DATE"] = "2026-01-15"
    reader = make_user("lezer@example.org")
    dossier = make_dossier(
        "2026-MIG", members={reader: MemberRole.READER}, tags=["schoonmaak"],
        end_on=date(2026, 6, 30),
    )  # fmt: skip
    memberships.set_role(admin, dossier, groups.create_group(admin, "Inkoop"), MemberRole.OWNER)
    with documents.receive(io.BytesIO(b"contract\n"), "contract.txt") as upload:
        documents.file_document(admin, dossier, upload, kind=DocumentKind.CONTRACT)
    deadlines.set_status(
        admin, dossier, DeadlineKind.END, date(2026, 6, 30), DeadlineStatus.ACTED_ON, "verlengd"
    )
    # What a migrated database holds (PostgreSQL tests start from truncated tables).
    from dossier import records

    records.ensure_shipped_list()
    db.session.commit()
    admin_id, dossier_id = admin.id, dossier.id
    counts = {t.name: _count(t.name) for t in Base.metadata.sorted_tables}
    assert counts["membership"] == 3 and counts["document"] == 1 and counts["deadline_action"] == 1

    def columns() -> set[str]:
        return {c["name"] for c in sa.inspect(db.engine).get_columns("dossier")}

    old = {"owner_id", "manager_id", "beheerder_id"}
    assert not columns() & old
    db.session.remove()
    try:
        downgrade(directory=MIGRATIONS_DIR, revision="polish2_password_reference")
        assert columns() >= old
        with db.engine.begin() as connection:  # as an old version may have left them
            connection.execute(
                sa.text("UPDATE dossier SET owner_id = :u, manager_id = :u, beheerder_id = :u"),
                {"u": admin_id},
            )
    finally:
        upgrade(directory=MIGRATIONS_DIR)
    assert not columns() & old
    assert {name: _count(name) for name in counts} == counts
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
        if connection.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    # Twice down and up: the downgrade's own declaration is dropped again as well.
    db.session.remove()
    try:
        downgrade(directory=MIGRATIONS_DIR, revision="polish2_password_reference")
    finally:
        upgrade(directory=MIGRATIONS_DIR)
    assert {name: _count(name) for name in counts} == counts
    assert db.session.get(Dossier, dossier_id).tag_names == ["schoonmaak"]


def _count(table: str) -> int:
    return db.session.scalar(sa.text(f'SELECT count(*) FROM "{table}"'))  # noqa: S608


def test_the_clause_types_migration_keeps_every_clause_both_ways(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """Adding clause.clause_types changes no clause row (SQLite adds the column in place, no
    table copy), and down and up again leaves the clauses untyped until reindex --clauses."""
    import io

    from flask_migrate import downgrade, upgrade

    from dossier import documents, indexing
    from dossier.database import MIGRATIONS_DIR
    from dossier.models import Clause, DocumentKind

    dossier = make_dossier("2026-TYP")
    text = b"Artikel 1 Aansprakelijkheid\nDe schade wordt vergoed.\n\nArtikel 2 Slot\nEinde.\n"
    with documents.receive(io.BytesIO(text), "contract.txt") as upload:
        documents.file_document(admin, dossier, upload, kind=DocumentKind.CONTRACT)
    db.session.commit()
    indexing.drain()
    rows = [
        (c.id, c.number, c.text) for c in db.session.scalars(sa.select(Clause).order_by(Clause.id))
    ]
    assert rows and db.session.scalar(sa.select(Clause.clause_types).limit(1)) == "liability"

    def columns() -> set[str]:
        return {c["name"] for c in sa.inspect(db.engine).get_columns("clause")}

    db.session.remove()
    try:
        downgrade(directory=MIGRATIONS_DIR, revision="outbox_claims")
        assert "clause_types" not in columns()
    finally:
        upgrade(directory=MIGRATIONS_DIR)
    assert "clause_types" in columns()
    clauses = list(db.session.scalars(sa.select(Clause).order_by(Clause.id)))
    assert [(c.id, c.number, c.text) for c in clauses] == rows
    assert all(c.clause_types == "" for c in clauses)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_the_performance_migration_widens_the_role_check_and_keeps_every_row(
    tmp_path: Path,
) -> None:
    """The portfolio role is a new value of a CHECK-constrained string column: on SQLite the
    declaration is edited in place (no rebuild of the user table, so no cascade takes the
    memberships), the downgrade refuses while someone holds the role, and both ways keep
    every row."""
    from flask_migrate import downgrade, upgrade

    from dossier import create_app, dossiers
    from dossier.database import MIGRATIONS_DIR
    from dossier.models import GlobalRole
    from tests.conftest import _config

    app = create_app(_config(tmp_path, f"sqlite:///{tmp_path / 'perf.sqlite3'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        user = User(email="p@example.org", name="P", password_hash="x")
        db.session.add(user)
        db.session.flush()
        dossiers.create_dossier(user, {"reference": "2025-001", "title": "Schoonmaak"})
        user.global_role = GlobalRole.PORTFOLIO
        db.session.commit()
        db.session.remove()
        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE user SET global_role = 'auditor'")
        downgrade(directory=MIGRATIONS_DIR, revision="actions_obligations")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM membership").scalar() == 1
            tables = {r[0] for r in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
            assert "kpi" not in tables and "kpi_measurement" not in tables
            declared = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'user'"
            ).scalar()
            assert "global_role IN ('admin', 'auditor', 'beheerder'))" in declared
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.begin() as connection:
            connection.exec_driver_sql("UPDATE user SET global_role = 'portfolio'")
            assert connection.exec_driver_sql("SELECT count(*) FROM membership").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        db.engine.dispose()


def test_the_performance_downgrade_refuses_while_someone_holds_the_portfolio_role(
    tmp_path: Path,
) -> None:
    from flask_migrate import downgrade, upgrade

    from dossier import create_app
    from dossier.database import MIGRATIONS_DIR
    from dossier.models import GlobalRole
    from tests.conftest import _config

    app = create_app(_config(tmp_path, f"sqlite:///{tmp_path / 'refuse.sqlite3'}"))
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        db.session.add(
            User(
                email="p@example.org", name="P", password_hash="x", global_role=GlobalRole.PORTFOLIO
            )
        )
        db.session.commit()
        db.session.remove()
        with pytest.raises(SystemExit):  # Flask-Migrate reports the RuntimeError and exits
            downgrade(directory=MIGRATIONS_DIR, revision="actions_obligations")
        with db.engine.connect() as connection:
            tables = {r[0] for r in connection.exec_driver_sql("SELECT name FROM sqlite_master")}
            assert "kpi" in tables
            role = connection.exec_driver_sql('SELECT global_role FROM "user"').scalar()
            assert role == "portfolio"
        db.engine.dispose()


def test_the_contacts_notices_migration_goes_down_and_up(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """The contacts and notices tables go away on downgrade (dossiers and members stay) and
    come back empty and as the models declare them."""
    from flask_migrate import downgrade, upgrade

    from dossier import contacts, following
    from dossier.database import MIGRATIONS_DIR

    dossier = make_dossier("2026-CON")
    contacts.add_contact(admin, dossier, {"name": "Jan"})
    following.follow(admin, dossier)
    db.session.commit()
    new_tables = {"contact", "contact_mandate", "notice", "notice_recipient", "dossier_follow"}

    def tables() -> set[str]:
        return set(sa.inspect(db.engine).get_table_names())

    db.session.remove()
    try:
        downgrade(directory=MIGRATIONS_DIR, revision="performance_portfolio")
        assert not tables() & new_tables
        assert _count("dossier") == 1 and _count("membership") == 1
    finally:
        db.session.remove()  # end the read of the old schema before it changes
        upgrade(directory=MIGRATIONS_DIR)
    assert new_tables <= tables() and _count("contact") == 0
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_the_webhooks_migration_goes_down_and_up(app: Flask, admin: User) -> None:
    """The webhook tables and queued deliveries go away on downgrade (the rest stays) and come
    back empty and as the models declare them."""
    from flask_migrate import downgrade, upgrade

    from dossier import webhooks
    from dossier.database import MIGRATIONS_DIR

    webhook, _secret = webhooks.create_webhook(
        admin, {"name": "X", "url": "https://example.org/", "events": ["dossier.changed"]}
    )
    webhooks.send_test(admin, webhook)
    db.session.commit()
    new_tables = {"webhook", "webhook_delivery", "webhook_attempt", "webhook_deadline_signal"}

    def tables() -> set[str]:
        return set(sa.inspect(db.engine).get_table_names())

    db.session.remove()
    try:
        downgrade(directory=MIGRATIONS_DIR, revision="intake")
        assert not tables() & new_tables
        assert _count("outbox") == 0 and _count("user") == 1
    finally:
        db.session.remove()
        upgrade(directory=MIGRATIONS_DIR)
    assert new_tables <= tables() and _count("webhook") == 0
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []

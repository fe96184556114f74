"""`dossier/database.py`: SQLite runs with WAL, full synchronous writes and foreign keys."""

from __future__ import annotations

from flask import Flask

from dossier.extensions import db


def test_sqlite_runs_with_wal_full_sync_and_foreign_keys(app: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys")
        }
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}

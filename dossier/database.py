"""Database binding: SQLite pragmas and write transactions that never deadlock on upgrade."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, has_request_context, request
from flask_migrate import upgrade

from dossier.extensions import db, migrate
from storage import make_private_dir

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    """Bind SQLAlchemy and Alembic, and tune SQLite for durability."""
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _create_private(db.engine.url.database)
            _tune_sqlite(db.engine, int(app.config["SQLITE_BUSY_TIMEOUT_MS"]))


def _create_private(path: str | None) -> None:
    """Create the SQLite file owner-only before SQLite does (its -wal and -shm files take the
    main file's mode), and tighten a file that an older version left readable by others."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    make_private_dir(os.path.dirname(os.path.abspath(path)))  # an existing folder is kept
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        info = os.fstat(fd)
        if info.st_uid == os.geteuid() and info.st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _tune_sqlite(engine: sa.Engine, busy_timeout_ms: int) -> None:
    """WAL, full fsync, foreign keys; write requests take the write lock when they begin."""

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        # A deferred transaction that reads and then writes fails with SQLITE_BUSY when another
        # writer got in between; taking the lock up front makes writers queue instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _wants_write() else "BEGIN")


# Work outside a request (CLI commands, the worker) begins as a writer unless told otherwise;
# tests that share one thread with the requests they make switch it off.
writes_outside_requests: ContextVar[bool] = ContextVar("writes_outside_requests", default=True)
_read_only: ContextVar[bool] = ContextVar("read_only", default=False)
_writing: ContextVar[bool] = ContextVar("writing", default=False)


def _wants_write() -> bool:
    """Requests that may change state, and CLI commands, begin as writers."""
    if _writing.get():
        return True
    if _read_only.get():
        return False
    if has_request_context():
        return request.method not in SAFE_METHODS
    return writes_outside_requests.get()


@contextmanager
def read_only() -> Iterator[None]:
    """Transactions begun inside this block only read, so they never queue for the write lock."""
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


@contextmanager
def writing() -> Iterator[None]:
    """Run the block in a short write transaction of its own, committed at its end.

    For a read request that must also write (the audit event of a confidential read). Its read
    transaction is ended first: on SQLite a transaction that has read cannot start writing once
    another connection has written since (SQLITE_BUSY at once, without waiting), while one that
    begins as a writer waits its turn for the lock. Objects loaded before are expired and reload
    on their next use.
    """
    db.session.commit()
    token = _writing.set(True)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        _writing.reset(token)


# SQLite result codes (low byte) and PostgreSQL SQLSTATEs that mean "another transaction held
# on too long": serialization failure, deadlock, lock not available.
_SQLITE_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED
_SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked")
_POSTGRES_BUSY_STATES = frozenset({"40001", "40P01", "55P03"})


def is_contention(error: sa.exc.DBAPIError) -> bool:
    """Whether `error` is lock contention, which a retry a moment later would get past."""
    original = error.orig
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_BUSY_CODES
    if getattr(original, "sqlstate", None) in _POSTGRES_BUSY_STATES:
        return True
    return any(message in str(original) for message in _SQLITE_BUSY_MESSAGES)


def create_or_upgrade() -> None:
    """Bring the database schema to the newest migration."""
    upgrade(directory=MIGRATIONS_DIR)


def lock_row(statement: sa.Select[Any]) -> sa.Select[Any]:
    """Lock the selected rows until commit where the database supports it (SQLite: whole db)."""
    return statement.with_for_update()

"""`dossier migrate-database --to URL`: copy an installation's database into an empty PostgreSQL
(or other) database, for the move from one machine to several nodes.

The target gets the schema from the migrations (so it is at the newest revision, exactly as
`dossier init` would leave it), must then hold no rows at all, and receives every table in
foreign-key order in ONE transaction: an interrupted copy leaves the target empty, and the
command can simply run again. Ids are kept (documents, versions and audit events are referred
to by id in links, logs and the audit chain), and on PostgreSQL each table's id sequence is set
past the highest id. Outbox claims are not copied (the claimants belong to the old set-up).
Afterwards every table's row count and the audit chain's head (id and hash) are compared
between source and target; the move is recorded as an audit event in the target only, after
the comparison, so the source's chain is a prefix of the target's.

The source is only read, and the switch (`DOSSIER_DATABASE_URL`) is the operator's step, with
the server and workers stopped during the copy: see the README.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from dossier import audit, database
from dossier.extensions import db
from dossier.models import AuditAction, AuditEvent

__all__ = ["DatabaseMigration", "MigrationRefused", "migrate"]

BATCH = 500


class MigrationRefused(Exception):
    """The copy cannot start or did not arrive intact; the message says why."""


@dataclass
class DatabaseMigration:
    """What one run copied: rows per table and the audit chain head both sides agree on."""

    target: str
    rows: dict[str, int] = field(default_factory=dict)
    audit_head: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Tables a migration fills with shipped reference data (the selection list of
# retention_disposal): a freshly created target holds them already, so they do not make it
# "not empty"; the source's rows replace them.
SEEDED = frozenset({"selection_category"})


def migrate(
    target_url: str, progress: Callable[[str, int], None] | None = None
) -> DatabaseMigration:
    """Copy the current app's database into the empty database at `target_url` and check it."""
    source_engine = db.engine
    target_url = _normalise(target_url)
    if sa.make_url(target_url) == source_engine.url:
        raise MigrationRefused("the target is the database this installation already uses")
    tables = list(db.metadata.sorted_tables)
    with _app_on(target_url) as target_app, target_app.app_context():
        try:
            database.create_or_upgrade()
        except sa.exc.SQLAlchemyError as exc:
            raise MigrationRefused(f"the target database cannot be used: {_reason(exc)}") from exc
        target_engine = db.engine
        result = DatabaseMigration(target=target_engine.url.render_as_string(hide_password=True))
        with source_engine.connect() as source, target_engine.begin() as target:
            _require_empty(target, [t for t in tables if t.name not in SEEDED])
            for table in tables:
                if table.name in SEEDED:
                    target.execute(table.delete())  # the source's rows are the installation's
                result.rows[table.name] = _copy(source, target, table, progress)
            if target.dialect.name == "postgresql":
                _set_sequences(target, tables)
            _compare(source, target, tables, result)
        audit.record(
            None,
            AuditAction.DATABASE_MIGRATE,
            "database",
            None,
            after={
                "from": source_engine.url.render_as_string(hide_password=True),
                "rows": sum(result.rows.values()),
                "audit_head": result.audit_head,
            },
        )
        db.session.commit()
        db.session.remove()
    return result


def _normalise(url: str) -> str:
    from dossier.config import normalise_url

    return normalise_url(url)


@contextmanager
def _app_on(url: str) -> Iterator[Flask]:
    """The same installation's app, on the target database, indexing nothing."""
    from dossier import create_app

    config = dict(current_app.config)
    config.update(
        SQLALCHEMY_DATABASE_URI=url,
        INDEXING="off",
        SEARCH_BACKEND="whoosh",  # never opened: the target's index is built by reindex
        INSTANCE_PATH=current_app.instance_path,
    )
    app = create_app(config)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def _require_empty(target: sa.Connection, tables: list[sa.Table]) -> None:
    filled = [
        table.name
        for table in tables
        if target.scalar(sa.select(sa.func.count()).select_from(table))
    ]
    if filled:
        raise MigrationRefused(
            "the target database is not empty (rows in " + ", ".join(filled) + "); "
            "give an empty database: nothing was copied"
        )


def _copy(
    source: sa.Connection,
    target: sa.Connection,
    table: sa.Table,
    progress: Callable[[str, int], None] | None,
) -> int:
    order = list(table.primary_key.columns) or list(table.columns)
    rows = source.execution_options(yield_per=BATCH).execute(sa.select(table).order_by(*order))
    copied = 0
    for batch in rows.partitions(BATCH):
        values = [dict(row._mapping) for row in batch]
        if table.name == "outbox":
            for value in values:
                value.update(claimed_by="", claimed_until=None)
        target.execute(table.insert(), values)
        copied += len(values)
        if progress is not None:
            progress(table.name, copied)
    return copied


def _set_sequences(target: sa.Connection, tables: list[sa.Table]) -> None:
    """Let the next id of every table with a generated integer id follow the copied ones."""
    for table in tables:
        if "id" not in table.columns or not isinstance(table.c.id.type, sa.Integer):
            continue
        sequence = target.scalar(
            sa.text("SELECT pg_get_serial_sequence(:table, 'id')"),
            {"table": target.dialect.identifier_preparer.quote(table.name)},
        )
        if sequence is None:
            continue
        highest = target.scalar(sa.select(sa.func.max(table.c.id)))
        target.execute(
            sa.text("SELECT setval(CAST(:sequence AS regclass), :value, :called)"),
            {"sequence": sequence, "value": highest or 1, "called": highest is not None},
        )


def _compare(
    source: sa.Connection, target: sa.Connection, tables: list[sa.Table], result: DatabaseMigration
) -> None:
    for table in tables:
        count = target.scalar(sa.select(sa.func.count()).select_from(table))
        if count != result.rows[table.name]:
            raise MigrationRefused(
                f"table {table.name}: {result.rows[table.name]} rows read, {count} in the target"
            )
    events = AuditEvent.__table__
    head = sa.select(events.c.id, events.c.hash).order_by(events.c.id.desc()).limit(1)
    theirs, ours = source.execute(head).first(), target.execute(head).first()
    if theirs != ours:
        raise MigrationRefused(f"the audit chain's head differs: {theirs} in the source, {ours}")
    if ours is not None:
        result.audit_head = {"id": ours.id, "hash": ours.hash}


def _reason(exc: sa.exc.SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    return str(original or exc).strip().splitlines()[0]

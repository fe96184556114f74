"""Keeping the data safe: `verify`, `backup`, `restore`, `reindex` and `migrate-storage`."""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from dossier import (
    backup,
    database,
    database_migration,
    indexing,
    services,
    storage_migration,
    verify,
)
from dossier.cli.common import fail, require_database
from dossier.extensions import db
from dossier.models import Document
from search.backend import BACKENDS
from storage import FileSystemBlobStore, StorageError

# Versions whose clauses `reindex --clauses` splits again between two commits.
RESEGMENT_BATCH = 100


@click.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--backup",
    "backups",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also check that the audit trail still holds this backup's chain head (repeatable).",
)
@with_appcontext
def verify_command(as_json: bool, backups: tuple[Path, ...]) -> None:
    """Re-hash every blob; check rows, blobs, numbering, the audit chain and its anchored head,
    the database and the search index.

    Exit 1 on a fault; index work still queued is listed as pending, not as a fault.
    """
    require_database()
    grace = timedelta(hours=float(current_app.config["VERIFY_ORPHAN_GRACE_HOURS"]))
    try:
        anchors = [(backup.manifest_head(path), str(path / backup.MANIFEST)) for path in backups]
    except backup.BackupError as exc:
        fail(str(exc))
    try:
        with database.read_only():
            report = verify.run(services.blob_store(), grace=grace, anchors=anchors)
    except StorageError as exc:  # the object store is unreachable, or refused a read
        fail(f"the blob store cannot be checked: {exc}")
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        destroyed = (
            f" ({report.destroyed_versions} destroyed under approved destruction lists)"
            if report.destroyed_versions
            else ""
        )
        click.echo(
            f"{report.versions} versions{destroyed}, {report.blobs} blobs, "
            f"{report.audit_events} audit events, {report.index_units} index units checked "
            f"({', '.join(report.checks)})"
        )
        for note in report.notes:
            click.echo(f"info {note.kind}: {note.subject}: {note.detail}")
        for problem in report.problems:
            click.echo(f"PROBLEM {problem.kind}: {problem.subject}: {problem.detail}")
        for note in report.pending:
            click.echo(f"PENDING {note.kind}: {note.subject}: {note.detail}")
        click.echo(
            "OK: nothing lost, nothing altered"
            if report.ok
            else f"FAILED: {len(report.problems)} problems"
        )
    sys.exit(0 if report.ok else 1)


@click.command("backup")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
@with_appcontext
def backup_command(path: Path, as_json: bool) -> None:
    """Back up the database, the blobs and the audit chain head into PATH (never the index)."""
    require_database()
    try:
        manifest = backup.backup(path)
    except backup.BackupError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(manifest, indent=2))
        return
    head = manifest["audit_head"]
    click.echo(
        f"Backup written to {path}: {manifest['database']['file']}, "
        f"{len(manifest['blobs'])} blobs, audit chain head event {head['id']} "
        f"({head['events']} events)"
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an instance that already holds data.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def restore_command(path: Path, force: bool, as_json: bool) -> None:
    """Restore a backup made by `dossier backup` after checking every checksum in it, then
    rebuild the search index from the restored text (a backup never holds the index).

    Stop the server first. Afterwards run `dossier verify`.
    """
    try:
        outcome = backup.restore(path, force=force)
    except backup.BackupError as exc:
        fail(str(exc))
    except OSError as exc:  # an unreadable file or folder in the backup, or a full disk
        fail(f"the restore stopped: {exc.strerror or exc} ({exc.filename or path})")
    db.session.remove()
    with indexing.writer_lock():
        outcome["indexed_documents"] = indexing.rebuild()
    db.session.commit()
    if as_json:
        click.echo(json.dumps(outcome, indent=2))
        return
    manifest = outcome["manifest"]
    click.echo(
        f"Restored the backup of {manifest['created_at']}: {len(manifest['blobs'])} blobs, "
        f"audit chain head event {manifest['audit_head']['id']} checked"
    )
    if outcome["displaced_blobs"]:
        click.echo(
            f"{outcome['displaced_blobs']} blobs not in the backup, or damaged, were moved "
            f"aside into {current_app.instance_path}"
        )
    click.echo(f"Search index rebuilt: {outcome['indexed_documents']} documents")
    click.echo("Now run `dossier verify`.")


@click.command("reindex")
@click.option(
    "--processes",
    type=click.IntRange(1, 16),
    default=lambda: min(2, os.cpu_count() or 1),
    show_default="2 on a machine with two or more cores",
    help="Indexing processes (each takes up to about 500 MB).",
)
@click.option(
    "--clauses",
    is_flag=True,
    help="First split the stored text of every version into clauses again "
    "(once after an upgrade that changes clause segmentation).",
)
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default=None,
    help="Fill this search backend's index instead of the configured one (SEARCH_BACKEND), "
    "e.g. `--backend postgres` before switching an embedded installation over.",
)
@with_appcontext
def reindex_command(processes: int, clauses: bool, backend: str | None) -> None:
    """Rebuild the search index from the text stored in the database."""
    require_database()
    try:
        index = indexing.open_search_backend(current_app.config, backend) if backend else None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if clauses:
        _resegment()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Document)) or 0
    with (
        indexing.writer_lock(),
        click.progressbar(length=total, label="Indexing documents", file=sys.stderr) as bar,
    ):
        seen = {"n": 0}

        def progress(documents_done: int) -> None:
            bar.update(documents_done - seen["n"])
            seen["n"] = documents_done

        count = indexing.rebuild(progress, processes=processes, index=index)
    click.echo(f"Index rebuilt: {count} documents")


@click.command("migrate-storage")
@click.option(
    "--to",
    "to",
    type=click.Choice(["s3"]),
    required=True,
    help="The store to copy into, as the DOSSIER_S3_* settings describe it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def migrate_storage_command(to: str, as_json: bool) -> None:
    """Copy every blob of the file-system store (BLOB_ROOT) into the object store, verifying each.

    Resumable and idempotent: run it again after an interruption, or once more with the server
    stopped, and it copies only what is missing or damaged. It does not switch the store: set
    DOSSIER_BLOB_STORE=s3 afterwards, then run `dossier verify`. Exit 1 on a problem.
    """
    require_database()
    root = Path(current_app.config["BLOB_ROOT"])
    if not root.is_dir():
        fail(f"there is no file-system blob store at {root} (BLOB_ROOT)")
    try:
        source = FileSystemBlobStore(root)
        target = services.s3_store(current_app.config)
        target.check()  # type: ignore[attr-defined]
    except (ValueError, StorageError) as exc:
        fail(f"the object store cannot be used: {exc}")

    def progress(result: storage_migration.Migration) -> None:
        if result.source_blobs % 100 == 0:
            click.echo(f"{result.source_blobs} blobs done", err=True)

    try:
        with database.read_only():  # the copy never holds the database's write lock
            result = storage_migration.migrate(source, target, progress)
    except StorageError as exc:
        fail(f"the copy stopped: {exc}. What was copied stays; run the command again to go on.")
    finally:
        db.session.rollback()
    with database.writing():
        storage_migration.record(result, to, target)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(
            f"{result.source_blobs} blobs in {root}: {result.copied} copied "
            f"({result.bytes_copied} bytes), {result.already_there} already there and intact, "
            f"{result.replaced} damaged copies replaced; every copy read back and re-hashed "
            f"into {target!r}"
        )
        if result.arrived_during_copy:
            click.echo(
                f"{result.arrived_during_copy} blobs were filed during the copy: run the command "
                "again (with the server stopped before the switch) to copy them"
            )
        for problem in result.problems:
            click.echo(f"PROBLEM {problem}")
        if result.ok:
            click.echo(
                "OK. To switch: stop the server, run this command once more, set "
                "DOSSIER_BLOB_STORE=s3, start the server and run `dossier verify`."
            )
    sys.exit(0 if result.ok else 1)


@click.command("migrate-database")
@click.option(
    "--to",
    "to",
    required=True,
    help="The EMPTY target database, e.g. postgresql+psycopg://dossier@db.internal/dossier.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@with_appcontext
def migrate_database_command(to: str, as_json: bool) -> None:
    """Copy this installation's database into an empty one (SQLite to PostgreSQL, say).

    Stop the server and workers first. Creates the schema in the target, copies every table in
    one transaction (ids kept), compares row counts and the audit chain's head. Then set
    DOSSIER_DATABASE_URL to the target and run `dossier verify`. Exit 1 when refused.
    """
    require_database()

    def progress(table: str, rows: int) -> None:
        if rows % 5000 == 0:
            click.echo(f"{table}: {rows} rows", err=True)

    try:
        result = database_migration.migrate(to, progress)
    except database_migration.MigrationRefused as exc:
        fail(f"the database was not copied: {exc}")
    except sa.exc.ArgumentError as exc:
        fail(f"not a database address: {exc}")
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"the copy stopped and was undone (the target holds no rows): {reason}")
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    click.echo(
        f"Copied {sum(result.rows.values())} rows in {len(result.rows)} tables into "
        f"{result.target}; row counts and the audit chain's head "
        f"(event {result.audit_head.get('id', '-')}) agree."
    )
    click.echo(
        "Now set DOSSIER_DATABASE_URL to it, run `dossier reindex` (or `--backend postgres`) "
        "and `dossier verify`."
    )


def _resegment() -> None:
    """Split every version's stored text into clauses again, committing every batch, so an
    interrupted run keeps what it did (running it again is harmless)."""
    version_ids = indexing.versions_with_text()
    changed = 0
    with click.progressbar(
        length=len(version_ids), label="Splitting clauses", file=sys.stderr
    ) as bar:
        for start in range(0, len(version_ids), RESEGMENT_BATCH):
            batch = version_ids[start : start + RESEGMENT_BATCH]
            changed += indexing.resegment(batch)
            db.session.commit()
            db.session.expunge_all()
            bar.update(len(batch))
    click.echo(f"Clauses split again: {changed} of {len(version_ids)} versions changed")


COMMANDS = [
    verify_command,
    backup_command,
    restore_command,
    reindex_command,
    migrate_storage_command,
    migrate_database_command,
]

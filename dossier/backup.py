"""`dossier backup` and `dossier restore`: the database, the blobs and the audit chain head.

A backup folder holds:
- `database.sqlite3` (SQLite's online backup API) or `database.pgdump` (`pg_dump -Fc`);
- `blobs/ab/cd/<sha256>`: every blob the copied database refers to; a blob's name is its checksum;
- `manifest.json`: the database file's SHA-256 and size, every blob's key and size, the audit
  chain head (last event id and hash, event count) and when and from what it was made. It is
  written last: a folder without it is an unfinished backup.
Never the search index: it is a cache (rule 3) and Whoosh stores pickles; `dossier reindex`
rebuilds it after a restore.

The blobs come from whichever store is configured (the file system or S3) and go back into it
on restore.

Consistency: the blob list and the chain head are read from the same snapshot as the database
copy (the backup file itself for SQLite; an exported snapshot shared with pg_dump for
PostgreSQL). Blobs are immutable and written before the row that refers to them commits, so
every blob the snapshot refers to is in the store.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from dossier import audit
from dossier.extensions import db
from dossier.services import blob_store
from storage import (
    CHUNK_SIZE,
    BlobCorrupted,
    BlobNotFound,
    BlobStore,
    FileSystemBlobStore,
    InvalidKey,
    StorageError,
    make_private_dir,
    validate_key,
)

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
# The blobs of versions destroyed under an approved destruction list are gone on purpose. The
# redacted PDFs of Woo requests are blobs of their own (derived, not versions).
BLOB_QUERY = (
    "SELECT blob_key, size FROM document_version "
    "WHERE id NOT IN (SELECT version_id FROM destroyed_version) "
    "UNION SELECT redacted_blob_key, redacted_size FROM woo_document "
    "WHERE redacted_blob_key IS NOT NULL ORDER BY 1"
)
HEAD_QUERY = "SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1"
COUNT_QUERY = "SELECT count(*) FROM audit_event"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class Snapshot:
    blobs: list[tuple[str, int]]
    audit_head: dict[str, Any]


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _dialect() -> str:
    return db.engine.dialect.name


def libpq_url() -> str:
    """The database URL as pg_dump and pg_restore understand it (no SQLAlchemy driver name)."""
    url = db.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _head(row: Any, count: int) -> dict[str, Any]:
    """The audit chain head: the last event's id and hash, and how many events there are."""
    return {"id": row[0] if row else None, "hash": row[1] if row else None, "events": count}


# ---------------------------------------------------------------------------- backup


def backup(target: Path) -> dict[str, Any]:
    """Write a complete backup into `target` (new or empty) and return its manifest."""
    target = target.resolve()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; choose a new folder for the backup")
    make_private_dir(target, tighten=True)  # a backup holds every document: the owner's alone (R16)
    if _dialect() == "sqlite":
        database_file = _private_file(target / SQLITE_FILE)
        snapshot = _backup_sqlite(database_file)
    elif _dialect() == "postgresql":
        database_file = _private_file(target / PG_FILE)
        snapshot = _backup_postgresql(database_file)
    else:
        raise BackupError(f"backups of {_dialect()} databases are not supported")
    _fsync(database_file)
    blobs = _copy_blobs(snapshot.blobs, target / "blobs")
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dialect": _dialect(),
        "database": {
            "file": database_file.name,
            "sha256": _sha256_file(database_file),
            "size": database_file.stat().st_size,
        },
        "blobs": [{"key": key, "size": size} for key, size in blobs],
        "audit_head": snapshot.audit_head,
    }
    _write_manifest(target, manifest)
    return manifest


def _private_file(path: Path) -> Path:
    """Create an empty file readable by its owner only, for a writer that keeps its mode."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600))
    return path


def _backup_sqlite(destination: Path) -> Snapshot:
    source_path = db.engine.url.database
    if not source_path or source_path == ":memory:":
        raise BackupError("the SQLite database is not a file")
    db.session.remove()
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(destination)
    try:
        source.backup(copy)  # a consistent copy even while others write
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        blobs = [(k, s) for k, s in copy.execute(BLOB_QUERY)]
        count = copy.execute(COUNT_QUERY).fetchone()[0]
        head = _head(copy.execute(HEAD_QUERY).fetchone(), count)
    finally:
        copy.close()
        source.close()
    return Snapshot(blobs, head)


def _backup_postgresql(destination: Path) -> Snapshot:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    db.session.remove()
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot_id = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            done = subprocess.run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot_id}",
                    f"--file={destination}",
                    f"--dbname={libpq_url()}",
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
            blobs = [(k, s) for k, s in conn.execute(sa.text(BLOB_QUERY))]
            count = conn.execute(sa.text(COUNT_QUERY)).scalar_one()
            head = _head(conn.execute(sa.text(HEAD_QUERY)).first(), count)
    return Snapshot(blobs, head)


def _copy_blobs(blobs: list[tuple[str, int]], folder: Path) -> list[tuple[str, int]]:
    """Copy each blob, re-hashing it on the way: a damaged blob stops the backup."""
    store = blob_store()
    copied: list[tuple[str, int]] = []
    for key, size in blobs:
        path = _blob_path(folder, key)
        make_private_dir(path.parent)
        digest = hashlib.sha256()
        try:
            with store.open(key) as source, _private_file(path).open("wb") as out:
                while chunk := source.read(CHUNK_SIZE):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BlobNotFound as exc:
            raise BackupError(f"blob {key} is missing; run `dossier verify`") from exc
        except BlobCorrupted as exc:
            raise BackupError(f"blob {key} is damaged in the store; run `dossier verify`") from exc
        except StorageError as exc:
            raise BackupError(f"blob {key} cannot be read from the store: {exc}") from exc
        if digest.hexdigest() != key or path.stat().st_size != size:
            raise BackupError(f"blob {key} is damaged in the store; run `dossier verify`")
        copied.append((key, size))
    return copied


def _blob_path(folder: Path, key: str) -> Path:
    key = validate_key(key)
    return folder / key[:2] / key[2:4] / key


def _write_manifest(target: Path, manifest: dict[str, Any]) -> None:
    fd, temp = tempfile.mkstemp(dir=target, prefix=".manifest-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, target / MANIFEST)
    _fsync(target)


# ---------------------------------------------------------------------------- restore


def _read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"{source} has no {MANIFEST}: not a (finished) backup") from exc
    except ValueError as exc:
        raise BackupError(f"{source / MANIFEST} is not valid JSON") from exc
    except OSError as exc:
        raise BackupError(f"{source / MANIFEST} cannot be read ({exc.strerror})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {_format_of(manifest)} is not supported")
    return manifest


def manifest_head(source: Path) -> dict[str, Any]:
    """The audit chain head a backup recorded, without checking the rest of the backup."""
    head = _read_manifest(source).get("audit_head")
    if not isinstance(head, dict):
        raise BackupError(f"{source / MANIFEST} is malformed (no audit chain head)")
    return head


def check(source: Path) -> dict[str, Any]:
    """Read the manifest and check every checksum in the backup; raise `BackupError` if off."""
    manifest = _read_manifest(source)
    try:
        database = database_file(source, manifest)
        if _sha256_file(database) != manifest["database"]["sha256"]:
            raise BackupError(f"{database.name} does not match its checksum")
        for blob in manifest["blobs"]:
            path = _blob_path(source / "blobs", blob["key"])
            if path.is_symlink() or not path.is_file() or path.stat().st_size != blob["size"]:
                raise BackupError(f"blob {blob['key']} is missing or has the wrong size")
            if _sha256_file(path) != blob["key"]:
                raise BackupError(f"blob {blob['key']} does not match its checksum")
        manifest["audit_head"]["id"]  # noqa: B018 (present, or the manifest is malformed)
    except (KeyError, TypeError, AttributeError, InvalidKey) as exc:
        raise BackupError(f"{source / MANIFEST} is malformed ({exc})") from exc
    except OSError as exc:  # a folder where a file should be, an unreadable file
        raise BackupError(f"the backup cannot be read: {exc.strerror} ({exc.filename})") from exc
    return manifest


def database_file(source: Path, manifest: dict[str, Any]) -> Path:
    """The backup's database file: only the fixed name for its dialect, never a link.

    The manifest is untrusted input; a name such as "../x" or "/x" must not make restore read
    a file the checksum check did not look at.
    """
    expected = {"sqlite": SQLITE_FILE, "postgresql": PG_FILE}.get(manifest["dialect"])
    if expected is None or manifest["database"]["file"] != expected:
        raise BackupError(
            f"the manifest names an unexpected database file for {manifest['dialect']}"
        )
    path = source / expected
    if path.is_symlink() or not path.is_file():
        raise BackupError(f"{expected} is missing or not a plain file")
    return path


def _format_of(manifest: object) -> object:
    return manifest.get("format") if isinstance(manifest, dict) else None


def instance_has_data() -> bool:
    """Dossiers, documents or blobs exist (a fresh `dossier init` with its admin does not count)."""
    try:
        if next(iter(blob_store().keys()), None) is not None:  # noqa: SIM118 (not a dict)
            return True
    except StorageError as exc:
        raise BackupError(f"the blob store cannot be read: {exc}") from exc
    inspector = sa.inspect(db.engine)
    for table in ("dossier", "document"):
        if inspector.has_table(table) and db.session.scalar(
            sa.text(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (fixed names)
        ):
            db.session.rollback()
            return True
    db.session.rollback()
    return False


def restore(source: Path, force: bool = False) -> dict[str, Any]:
    """Check the backup, then replace this instance's database and blobs with it."""
    source = source.resolve()
    manifest = check(source)
    if manifest["dialect"] != _dialect():
        raise BackupError(
            f"the backup is of a {manifest['dialect']} database; this instance uses {_dialect()}"
        )
    if not force and instance_has_data():
        raise BackupError(
            "this instance already holds dossiers, documents or files; restoring would replace "
            "them. Stop the server and run again with --force to replace them."
        )
    database = database_file(source, manifest)
    if _dialect() == "sqlite":
        _restore_sqlite(database, manifest)
    else:
        _restore_postgresql(database)
    try:
        displaced = _restore_blobs(source / "blobs", {b["key"] for b in manifest["blobs"]})
    except StorageError as exc:
        raise BackupError(
            f"the blobs could not be written back: {exc}. The database is restored; run the "
            "restore again once the blob store is reachable."
        ) from exc
    _drop_index()
    head = _current_head()
    if head != manifest["audit_head"]:
        raise BackupError(f"the restored audit chain head {head} differs from the manifest")
    # The instance's anchor named the replaced trail's head; the restored one starts over.
    audit.reset_anchor(current_app.config["AUDIT_ANCHOR_PATH"], head)
    return {"manifest": manifest, "displaced_blobs": displaced}


def _restore_sqlite(database: Path, manifest: dict[str, Any]) -> None:
    """Install a checked copy of the backup's database; the replaced one is kept aside.

    The copy is re-hashed and its audit chain head compared with the manifest before anything
    of this instance changes.
    """
    target = Path(db.engine.url.database or "")
    db.session.remove()
    db.engine.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
    os.close(fd)
    temp = Path(temp_name)
    try:
        shutil.copyfile(database, temp)
        if _sha256_file(temp) != manifest["database"]["sha256"]:
            raise BackupError(f"{database.name} changed while it was copied")
        head = _sqlite_head(temp)
        if head != manifest["audit_head"]:
            raise BackupError(f"the backup's audit chain head {head} differs from the manifest")
        _fsync(temp)
        if target.exists():
            os.replace(target, target.with_name(f"{target.name}.before-restore-{int(time.time())}"))
        # A log left by the replaced database must not be replayed into the restored one.
        for suffix in ("-wal", "-shm", "-journal"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.replace(temp, target)
        _fsync(target.parent)
    finally:
        temp.unlink(missing_ok=True)


def _sqlite_head(path: Path) -> dict[str, Any]:
    """The audit chain head of an SQLite database file, read without touching this instance."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            count = connection.scalar(sa.text(COUNT_QUERY))
            return _head(connection.execute(sa.text(HEAD_QUERY)).first(), count)
    except sa.exc.DatabaseError as exc:
        raise BackupError(f"the backup's database cannot be read ({exc.orig})") from exc
    finally:
        engine.dispose()


def _restore_postgresql(database: Path) -> None:
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise BackupError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
    db.session.remove()
    db.engine.dispose()
    done = subprocess.run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={libpq_url()}",
            str(database),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def _restore_blobs(folder: Path, keys: set[str]) -> int:
    """Install the backup's blobs; move any others aside (never delete them) and count them.

    Aside means a folder in the instance folder, for the object store too: its objects are
    copied there (and fsynced) before they are deleted from the bucket.
    """
    store = blob_store()
    aside = Path(current_app.instance_path) / f"blobs-displaced-by-restore-{int(time.time())}"
    displaced = 0
    for key in list(store.keys()):
        # A blob the backup does not hold, or a stored copy whose bytes no longer match its
        # hash (the backup's copy replaces it), is moved aside, never deleted.
        if key not in keys or not store.verify(key):
            path = _blob_path(aside, key)
            make_private_dir(path.parent)
            _move_aside(store, key, path)
            displaced += 1
    for key in sorted(keys):
        store.put_file(_blob_path(folder, key), key)  # re-hashes the backup's copy
    return displaced


def _move_aside(store: BlobStore, key: str, path: Path) -> None:
    """Take a blob out of the store into `path`, as it is (damaged or not)."""
    if isinstance(store, FileSystemBlobStore):
        os.replace(store.path_for(key), path)
        return
    # The S3 store checks the hash while reading; a damaged blob is moved aside as it is.
    opener = getattr(store, "open_unchecked", store.open)
    with _private_file(path).open("wb") as out:
        with opener(key) as source:
            while chunk := source.read(CHUNK_SIZE):
                out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    store.delete(key)


def _drop_index() -> None:
    """The index of the replaced database is wrong for the restored one: remove it."""
    shutil.rmtree(current_app.config["INDEX_DIR"], ignore_errors=True)


def _current_head() -> dict[str, Any]:
    count = db.session.scalar(sa.text(COUNT_QUERY))
    head = _head(db.session.execute(sa.text(HEAD_QUERY)).first(), count)
    db.session.rollback()
    return head

"""`dossier restore` of a damaged or hostile backup folder: a clear error, never a traceback,
and nothing of the instance replaced."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from dossier.cli import cli
from dossier.models import User

GOOD_KEY = hashlib.sha256(b"blob").hexdigest()


def _database(folder: Path) -> str:
    data = b"not really a database"
    (folder / "database.sqlite3").write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _manifest(folder: Path, **changes: object) -> None:
    manifest: dict[str, object] = {
        "format": 1,
        "created_at": "2026-01-01T00:00:00+00:00",
        "dialect": "sqlite",
        "database": {"file": "database.sqlite3", "sha256": _database(folder), "size": 21},
        "blobs": [],
        "audit_head": {"id": 1, "hash": "0" * 64, "events": 1},
    }
    manifest.update(changes)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _manifest_is_a_folder(folder: Path) -> None:
    (folder / "manifest.json").mkdir()


def _blob_key_is_a_path(folder: Path) -> None:
    _manifest(folder, blobs=[{"key": "../../../etc/passwd", "size": 1}])


def _blobs_is_not_a_list(folder: Path) -> None:
    _manifest(folder, blobs="everything")


def _blob_folder_is_a_file(folder: Path) -> None:
    (folder / "blobs").write_bytes(b"x")
    _manifest(folder, blobs=[{"key": GOOD_KEY, "size": 4}])


def _blob_is_a_folder(folder: Path) -> None:
    (folder / "blobs" / GOOD_KEY[:2] / GOOD_KEY[2:4] / GOOD_KEY).mkdir(parents=True)
    _manifest(folder, blobs=[{"key": GOOD_KEY, "size": 4}])


def _database_is_garbage(folder: Path) -> None:
    _manifest(folder)  # the checksum matches, the content is no SQLite database


def _manifest_is_binary(folder: Path) -> None:
    (folder / "manifest.json").write_bytes(b"\xff\xfe\x00garbage")


DAMAGES: list[Callable[[Path], None]] = [
    _manifest_is_a_folder,
    _blob_key_is_a_path,
    _blobs_is_not_a_list,
    _blob_folder_is_a_file,
    _blob_is_a_folder,
    _database_is_garbage,
    _manifest_is_binary,
]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda d: d.__name__.strip("_"))
def test_a_damaged_backup_folder_gives_a_clear_error(
    app: Flask, admin: User, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("the damaged folders are SQLite backups; the dialect check is tested apart")
    folder = tmp_path / "backup"
    folder.mkdir()
    damage(folder)
    result = app.test_cli_runner().invoke(cli, ["restore", str(folder), "--force"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Error:" in result.output
    assert "Traceback" not in result.output

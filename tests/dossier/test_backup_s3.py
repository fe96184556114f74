"""`dossier backup` and `dossier restore` on the S3 blob store: the backup holds the bucket's
blobs, and a restore writes them back, moving stray and damaged objects aside into the instance
folder (never deleting them)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from dossier.models import Dossier, User
from dossier.services import blob_store
from tests.dossier.s3_helpers import blob_of, delete_object, file_text, overwrite_object
from tests.system import test_crash_points as crash_points

DOSSIER = Path(sys.executable).with_name("dossier")
TEXTS = {
    "contract.txt": "Artikel 1 Looptijd\nVier jaar.\n",
    "sla.txt": "Bijlage 2 Service levels\nBeschikbaarheid 99,8%.\n",
    "brief.txt": "Geachte leverancier,\nhierbij de verlenging.\n",
}


@pytest.fixture
def app(s3_app: Flask) -> Flask:
    return s3_app


def _cli(app: Flask, *args: str) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it: the S3 store chosen by DOSSIER_* variables."""
    config = app.config
    env = crash_points._env(app) | {
        "DOSSIER_BLOB_STORE": "s3",
        "DOSSIER_S3_ENDPOINT": config["S3_ENDPOINT"],
        "DOSSIER_S3_BUCKET": config["S3_BUCKET"],
        "DOSSIER_S3_ACCESS_KEY": config["S3_ACCESS_KEY"],
        "DOSSIER_S3_SECRET_KEY": config["S3_SECRET_KEY"],
        "DOSSIER_S3_PREFIX": config["S3_PREFIX"],
    }
    return subprocess.run(
        [str(DOSSIER), *args],
        env=env,
        cwd=app.instance_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


def test_backup_and_restore_through_the_object_store(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], tmp_path: Path
) -> None:
    dossier = make_dossier("2026-BK")
    filed = {name: file_text(admin, dossier, name, text) for name, text in TEXTS.items()}
    keys = {name: blob_of(document) for name, document in filed.items()}
    target = tmp_path / "backup"
    manifest = json.loads(_ok(_cli(app, "backup", str(target), "--json")))
    assert sorted(b["key"] for b in manifest["blobs"]) == sorted(keys.values())
    for name, key in keys.items():
        assert (target / "blobs" / key[:2] / key[2:4] / key).read_text() == TEXTS[name]

    # Damage the bucket: one object altered, one gone, one stray object beside them.
    altered = TEXTS["contract.txt"].replace("Vier", "Tien").encode()
    overwrite_object(keys["contract.txt"], altered)
    delete_object(keys["sla.txt"])
    stray = blob_store().put_file(_write(tmp_path / "stray.bin", b"stray"), _sha(b"stray"))
    assert stray is True
    damaged = json.loads(_cli(app, "verify", "--json").stdout)
    assert sorted(p["kind"] for p in damaged["problems"]) == ["corrupt_blob", "missing_blob"]

    restored = _ok(_cli(app, "restore", str(target), "--force"))
    assert "moved aside" in restored
    report = json.loads(_ok(_cli(app, "verify", "--json")))
    assert report["ok"] and report["blobs"] == 3, report
    assert sorted(blob_store().keys()) == sorted(keys.values())  # noqa: SIM118
    aside = Path(app.instance_path)
    moved = {p.name: p.read_bytes() for p in aside.glob("blobs-displaced-by-restore-*/*/*/*")}
    assert moved == {keys["contract.txt"]: altered, _sha(b"stray"): b"stray"}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path

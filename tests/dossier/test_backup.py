"""R11: backups restore. The drill: seed → backup → wipe → restore → verify → reindex → the same
searches return the same ids; plus the refusals (non-empty instance, damaged backup)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import database, documents, indexing
from dossier.extensions import db
from dossier.models import Document, DocumentKind, Dossier, User
from dossier.services import blob_store
from storage import FileSystemBlobStore
from tests.conftest import need
from tests.system import test_crash_points as crash_points

DOSSIER = Path(sys.executable).with_name("dossier")
VNG = "dutch/vng-softwarecatalogus-aanbesteding"
FILES = {
    "Bijlage 3.01 - Overeenkomst ten behoeve van ICT Prestatie GIBIT 2023.docx": "contract",
    "Bijlage 6 - Prijzenblad SWC.xlsx": "annex",
    "20250128_kennismaking.pdf": "minutes",
}
QUERIES = ["overeenkomst", "softwarecatalogus", "prijs", '"intellectuele eigendom"']
ADMIN = "admin@example.org"


def _cli(app: Flask, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DOSSIER), *args],
        env=crash_points._env(app),
        cwd=app.instance_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    return done.stdout


def _searches(app: Flask) -> dict[str, list[tuple[object, ...]]]:
    """Document hits and clause hits of each query, as ids in result order."""
    results: dict[str, list[tuple[object, ...]]] = {}
    for query in QUERIES:
        args = ["search", query, "--as", ADMIN, "--json", "--limit", "50"]
        hits = json.loads(_ok(_cli(app, *args)))
        results[query] = [(h["document_id"], h["version"]) for h in hits]
        clauses = json.loads(_ok(_cli(app, *args, "--clauses")))
        results[f"{query} (clauses)"] = [
            (h["document_id"], h["clause_number"], h["page"], (h["text"] or "")[:60])
            for h in clauses
        ]
    return results


# Two small text documents: enough for the refusals, which need a backup, not a corpus
# (extracting the VNG files for every refusal made these the slowest tests of the suite).
SMALL = {
    "overeenkomst.txt": b"Artikel 1 Overeenkomst\nDe softwarecatalogus en de prijs.\n",
    "brief.txt": b"Artikel 2 Intellectuele eigendom\nDe intellectuele eigendom blijft.\n",
}


def _filed(
    app: Flask, admin: User, dossier: Dossier, files: dict[str, tuple[bytes, str]]
) -> Iterator[Flask]:
    """File the documents, index them, and hand the app over with no connection open; afterwards
    a database that a refused restore left empty gets its tables back for the next test."""
    if db.engine.dialect.name == "postgresql":
        need(shutil.which("pg_dump") is not None, "pg_dump is not installed (postgresql-client)")
    for name, (data, kind) in files.items():
        with documents.receive(io.BytesIO(data), name) as upload:
            documents.file_document(admin, dossier, upload, kind=DocumentKind(kind))
        db.session.commit()
    indexing.drain()
    db.session.commit()
    db.session.remove()
    db.engine.dispose()
    yield app
    db.session.remove()
    db.engine.dispose()
    database.create_or_upgrade()
    db.engine.dispose()


@pytest.fixture
def seeded(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], corpus: Path
) -> Iterator[Flask]:
    files = {name: ((corpus / VNG / name).read_bytes(), kind) for name, kind in FILES.items()}
    yield from _filed(app, admin, make_dossier("2025-300"), files)


@pytest.fixture
def small(app: Flask, admin: User, make_dossier: Callable[..., Dossier]) -> Iterator[Flask]:
    files = {name: (data, "contract") for name, data in SMALL.items()}
    yield from _filed(app, admin, make_dossier("2025-301"), files)


def _wipe(app: Flask) -> None:
    """Lose the whole instance: database, blobs and index."""
    db.session.remove()
    db.engine.dispose()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        path = Path(sa.make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
        engine.dispose()
    shutil.rmtree(app.config["BLOB_ROOT"])
    shutil.rmtree(app.config["INDEX_DIR"], ignore_errors=True)


def test_the_restore_drill(seeded: Flask, tmp_path: Path) -> None:
    app = seeded
    # Both sides search an index rebuilt from the database: an index written document by
    # document still counts the units it replaced in its statistics until its segments merge,
    # so near-ties can fall the other way than after a rebuild. The drill is about the data.
    _ok(_cli(app, "reindex"))
    before = _searches(app)
    assert all(before.values()), before  # every query finds something, so the drill can fail
    target = tmp_path / "backup"
    manifest = json.loads(_ok(_cli(app, "backup", str(target), "--json")))
    assert len(manifest["blobs"]) == len(FILES)
    assert manifest["audit_head"]["id"] is not None
    assert not (target / "index").exists()
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["blobs", "manifest.json", manifest["database"]["file"]]
    )

    _wipe(app)
    restored = _ok(_cli(app, "restore", str(target)))
    assert "audit chain head" in restored
    report = json.loads(_ok(_cli(app, "verify", "--json")))
    assert report["ok"] and report["versions"] == len(FILES), report
    _ok(_cli(app, "reindex"))
    assert _searches(app) == before

    db.session.remove()
    titles = db.session.scalars(sa.select(Document.title).order_by(Document.id)).all()
    assert len(titles) == len(FILES)


def test_restore_refuses_to_overwrite_a_non_empty_instance(small: Flask, tmp_path: Path) -> None:
    app = small
    target = tmp_path / "backup"
    _ok(_cli(app, "backup", str(target)))
    refused = _cli(app, "restore", str(target))
    assert refused.returncode == 1
    assert "--force" in refused.stderr
    forced = _cli(app, "restore", str(target), "--force")
    _ok(forced)
    assert json.loads(_ok(_cli(app, "verify", "--json")))["ok"]


def test_a_damaged_local_blob_is_replaced_from_the_backup(small: Flask, tmp_path: Path) -> None:
    app = small
    target = tmp_path / "backup"
    manifest = json.loads(_ok(_cli(app, "backup", str(target), "--json")))
    key = manifest["blobs"][0]["key"]
    with app.app_context():
        store = blob_store()
        assert isinstance(store, FileSystemBlobStore)
        local = store.path_for(key)
    damaged = bytearray(local.read_bytes())
    damaged[0] ^= 0xFF
    local.chmod(0o600)
    local.write_bytes(bytes(damaged))
    assert json.loads(_cli(app, "verify", "--json").stdout)["ok"] is False

    restored = _ok(_cli(app, "restore", str(target), "--force"))
    assert "moved aside" in restored
    assert json.loads(_ok(_cli(app, "verify", "--json")))["ok"]
    aside = list(Path(app.instance_path).glob(f"blobs-displaced-by-restore-*/*/*/{key}"))
    assert aside and aside[0].read_bytes() == bytes(damaged)  # kept, never deleted


def test_a_backup_into_a_non_empty_folder_is_refused(small: Flask, tmp_path: Path) -> None:
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "something.txt").write_text("x")
    refused = _cli(small, "backup", str(tmp_path / "occupied"))
    assert refused.returncode == 1 and "not empty" in refused.stderr


@pytest.mark.parametrize("damage", ["blob", "database", "manifest"])
def test_a_damaged_backup_is_refused_before_anything_is_replaced(
    small: Flask, tmp_path: Path, damage: str
) -> None:
    app = small
    target = tmp_path / "backup"
    manifest = json.loads(_ok(_cli(app, "backup", str(target), "--json")))
    if damage == "blob":
        key = manifest["blobs"][0]["key"]
        victim = target / "blobs" / key[:2] / key[2:4] / key
    elif damage == "database":
        victim = target / manifest["database"]["file"]
    else:
        victim = target / "manifest.json"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    _wipe(app)
    refused = _cli(app, "restore", str(target))
    assert refused.returncode == 1, refused.stdout
    assert "Error:" in refused.stderr and "Traceback" not in refused.stderr
    assert not Path(app.config["BLOB_ROOT"]).exists() or not any(
        Path(app.config["BLOB_ROOT"]).rglob("*/*/*")
    )


def test_a_manifest_naming_another_database_file_is_refused(small: Flask, tmp_path: Path) -> None:
    # The manifest is untrusted: pointing it at an unchecked file must not replace the database.
    app = small
    target = tmp_path / "backup"
    manifest = json.loads(_ok(_cli(app, "backup", str(target), "--json")))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / manifest["database"]["file"]).write_bytes(b"garbage, not a database")
    manifest["database"]["file"] = str(elsewhere / manifest["database"]["file"])
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    before = _titles()
    refused = _cli(app, "restore", str(target), "--force")
    assert refused.returncode == 1, refused.stdout
    assert "unexpected database file" in refused.stderr and "Traceback" not in refused.stderr
    assert _titles() == before == sorted(Path(name).stem for name in SMALL), "database untouched"
    assert json.loads(_ok(_cli(app, "verify", "--json")))["ok"], "and so are the blobs"


def _titles() -> list[str]:
    db.session.remove()
    db.engine.dispose()
    return sorted(db.session.scalars(sa.select(Document.title)))

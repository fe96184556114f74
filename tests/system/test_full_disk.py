"""R10: a full disk degrades safely: a clear 507 page in Dutch, nothing half-written (no row, no
blob, no staging or temp file), and the next upload that fits succeeds.

Two ways to fill the disk: a small tmpfs under the blob store and staging (real ENOSPC, needs
the right to mount; skipped with the reason otherwise), and RLIMIT_FSIZE on the real server
process (EFBIG), which works anywhere.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from dossier.extensions import db
from dossier.models import AuditEvent, Document, DocumentVersion, Dossier, OutboxItem, User
from storage import FileSystemBlobStore
from tests.system import test_crash_points as crash_points

ROOT = Path(__file__).resolve().parents[2]
DOSSIER = Path(sys.executable).with_name("dossier")
DUTCH_507 = "Er is onvoldoende opslagruimte"
KB = 1024


def _crash_loop_module():  # noqa: ANN202 (the harness's server helper, reused)
    spec = importlib.util.spec_from_file_location("crash_loop", ROOT / "scripts" / "crash_loop.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("crash_loop", module)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _text(size: int, seed: str) -> bytes:
    line = f"Regel van brief {seed} over de levering van bureaustoelen.\n".encode()
    return (line * (size // len(line) + 1))[:size]


def _counts() -> dict[str, int]:
    db.session.rollback()
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        for model in (Document, DocumentVersion, AuditEvent, OutboxItem)
    }


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1024k,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the RLIMIT test covers it")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_tmpfs_gives_507_and_leaves_nothing_half_written(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    client_for: Callable,
    small_disk: Path,
) -> None:
    store = FileSystemBlobStore(small_disk / "blobs")
    app.config["STAGING_DIR"] = str(small_disk / "staging")
    app.extensions["dossier.blobs"] = store
    dossier = make_dossier("2025-507")
    client = client_for(admin)
    url = f"/dossiers/{dossier.reference}/documents/new"

    def upload(size: int, seed: str):  # noqa: ANN202
        data = {"file": (io.BytesIO(_text(size, seed)), f"{seed}.txt")}
        data |= {"kind": "correspondence", "confidentiality": "normal"}
        return client.post(url, data=data, content_type="multipart/form-data")

    assert upload(200 * KB, "eerste").status_code == 302
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * 400 * KB)  # someone else's data on the same disk
    before = _counts()
    blobs_before = _files(store.root)

    # (Sizes stay below werkzeug's 500 KB in-memory limit for form files.)
    # 300 KB: the staging copy fits, the blob next to it does not (ENOSPC in the blob write).
    # 450 KB: already the staging copy does not fit.
    for size, seed in ((300 * KB, "past-niet-als-blob"), (450 * KB, "past-niet-in-staging")):
        response = upload(size, seed)
        assert response.status_code == 507, seed
        page = response.get_data(as_text=True)
        assert DUTCH_507 in page and "Traceback" not in page
        assert _counts() == before, seed
        assert _files(store.root) == blobs_before, seed  # no half-written blob or temp file
        assert _files(small_disk / "staging") == [], seed

    filler.unlink()  # space freed
    assert upload(300 * KB, "past-nu-wel").status_code == 302
    after = _counts()
    assert after[DocumentVersion.__name__] == before[DocumentVersion.__name__] + 1

    from dossier import verify

    report = verify.run(store)
    assert report.ok, report.problems


def test_the_real_server_on_a_full_tmpfs_gives_507(small_disk: Path, tmp_path: Path) -> None:
    """`dossier run` (waitress) with its blob store and staging on the small tmpfs."""
    loop = _crash_loop_module()
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env |= {
        "DOSSIER_INSTANCE_PATH": str(instance),
        "DOSSIER_OCR": "false",
        "DOSSIER_SECOND_FACTOR_REQUIRED_ROLES": "[]",  # the administrator logs in without an app
        "DOSSIER_BLOB_ROOT": str(small_disk / "blobs"),
        "DOSSIER_STAGING_DIR": str(small_disk / "staging"),
    }
    password = loop.prepare(env, instance)
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * 700 * KB)
    server = loop.Server(env, loop.free_port(), tmp_path / "server.log")
    try:
        server.start()
        session = requests.Session()
        loop.log_in(session, server.url, password)
        form = f"{server.url}/dossiers/{loop.REFERENCE}/documents/new"

        def upload(size: int, seed: str) -> requests.Response:
            token = loop.csrf_token(session.get(form, timeout=10).text)
            return session.post(
                form,
                data={"csrf_token": token, "kind": "correspondence", "confidentiality": "normal"},
                files={"file": (f"{seed}.txt", _text(size, seed), "text/plain")},
                allow_redirects=False,
                timeout=60,
            )

        blobs_before = _files(small_disk / "blobs")
        too_big = upload(200 * KB, "te-groot")
        assert too_big.status_code == 507
        assert DUTCH_507 in too_big.text
        assert _files(small_disk / "staging") == []
        assert _files(small_disk / "blobs") == blobs_before
        filler.unlink()
        fits = upload(200 * KB, "past")
        assert fits.status_code == 302, fits.text[:500]
        session.get(server.url + fits.headers["Location"], timeout=10).raise_for_status()
    finally:
        server.stop()
    verified = subprocess.run(
        [str(DOSSIER), "verify", "--json"], env=env, capture_output=True, text=True
    )
    report = json.loads(verified.stdout)
    assert verified.returncode == 0 and report["ok"], report
    assert report["versions"] == 2  # the seed and the upload that fitted: nothing of the other


def _limit_file_size(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_file_size_limit_gives_507(app: Flask, admin: User, make_dossier, tmp_path: Path):
    """The real filing view in a process under RLIMIT_FSIZE: EFBIG becomes the same 507.

    The file stays under werkzeug's in-memory form limit (500 KB), so the first file written
    is the staging copy; the database files are far below the limit.
    """
    make_dossier("2025-001")
    db.session.remove()
    env = crash_points._env(app)
    limit = 320 * KB
    before = _counts()

    def upload(size: int, seed: str) -> dict[str, int]:
        path = tmp_path / f"{seed}.txt"
        path.write_bytes(_text(size, seed))
        done = subprocess.run(
            [sys.executable, str(crash_points.DRIVER), "file", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=_limit_file_size(limit),
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    assert upload(450 * KB, "te-groot") == {"status": 507}
    assert _counts() == before
    assert _files(Path(app.config["STAGING_DIR"])) == []
    assert _files(Path(app.config["BLOB_ROOT"])) == []
    assert upload(200 * KB, "past") == {"status": 302}
    assert _counts()[DocumentVersion.__name__] == before[DocumentVersion.__name__] + 1

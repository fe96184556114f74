"""Start-up recovery removes what crashed processes left behind, and only that."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask import Flask

from dossier import recovery
from dossier.extensions import db
from dossier.models import OutboxItem
from dossier.services import blob_store
from storage import FileSystemBlobStore


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_recovery_removes_stale_leftovers_and_keeps_fresh_work(app: Flask) -> None:
    grace = app.config["STAGING_GRACE_SECONDS"]
    staging = Path(app.config["STAGING_DIR"])
    staging.mkdir(parents=True, exist_ok=True)
    store = blob_store()
    assert isinstance(store, FileSystemBlobStore)

    stale_staged = staging / "staged-crashed"
    stale_staged.write_bytes(b"half an upload")
    _age(stale_staged, grace + 60)
    fresh_staged = staging / "staged-running"
    fresh_staged.write_bytes(b"an upload in progress in another process")
    stale_scratch = staging / "tmpabc123"
    (stale_scratch / "attachments").mkdir(parents=True)
    (stale_scratch / "source.pdf").write_bytes(b"%PDF-")
    for path in (stale_scratch / "source.pdf", stale_scratch / "attachments", stale_scratch):
        _age(path, grace + 60)
    fresh_scratch = staging / "tmpdef456"
    fresh_scratch.mkdir()
    (fresh_scratch / "source.pdf").write_bytes(b"%PDF-")
    _age(fresh_scratch, grace + 60)  # the folder is old, but its file is being written now
    stale_blob_temp = store.tmp_dir / "blob-crashed"
    stale_blob_temp.write_bytes(b"half a blob")
    _age(stale_blob_temp, grace + 60)
    unrelated = staging / "notes.txt"
    unrelated.write_text("not ours")
    _age(unrelated, grace + 60)
    db.session.add(OutboxItem(topic="version.extract", object_id=1))
    db.session.commit()

    found = recovery.recover()

    assert (found.staging_files, found.scratch_folders, found.blob_temp_files) == (1, 1, 1)
    assert found.queued_work == 1  # still queued for the indexer, never dropped
    assert not stale_staged.exists() and not stale_scratch.exists()
    assert not stale_blob_temp.exists()
    assert fresh_staged.exists() and fresh_scratch.exists() and unrelated.exists()

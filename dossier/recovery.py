"""Start-up recovery after a crash: what a killed process can leave behind, and how it is undone.

A crash (kill -9, power loss, `crash.point`) at any step of filing leaves at worst:
- a staging file or an extraction scratch folder in STAGING_DIR: removed here once it has not
  been touched for STAGING_GRACE_SECONDS (other processes may be using younger ones);
- a half-written temp file under the blob store's `tmp/`, or an unfinished multipart upload in
  the S3 store (invisible, but holding space): removed here after the same grace;
- a complete blob that no version refers to: left alone, because a retry of the same upload
  reuses it; `dossier verify` reports it only after VERIFY_ORPHAN_GRACE_HOURS;
- outbox items whose work was half done (the index written, the item not yet removed): outbox
  items are removed only after their work committed, so they are still queued; every step is
  idempotent, and the caller drains them (`dossier run` in a background thread, `dossier worker`);
  the claims a crashed process of this machine held on them are released here at once (others
  wait out their lease, see `dossier.outbox`).
The database itself recovers on open (SQLite's WAL, PostgreSQL's own recovery).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from dossier import outbox
from dossier.extensions import db
from dossier.models import OutboxItem
from dossier.services import blob_store
from storage import StorageError, cleanup_staging

log = logging.getLogger(__name__)


@dataclass
class Recovered:
    staging_files: int = 0
    scratch_folders: int = 0
    blob_temp_files: int = 0
    released_claims: int = 0
    queued_work: int = 0


def recover() -> Recovered:
    """Clean what crashed processes left behind and count the index work still queued."""
    grace = float(current_app.config["STAGING_GRACE_SECONDS"])
    staging = current_app.config["STAGING_DIR"]
    result = Recovered(
        staging_files=cleanup_staging(staging, grace),
        scratch_folders=_remove_stale_folders(Path(staging), grace),
    )
    store = blob_store()
    # The file-system store's temp files; the S3 store's unfinished multipart uploads.
    cleanup = getattr(store, "cleanup_tmp", None)
    if cleanup is not None:
        try:
            result.blob_temp_files = cleanup(grace)
        except StorageError as exc:  # the object store is unreachable: the next start retries
            log.warning("start-up recovery could not clean the blob store: %s", exc)
    # Outbox items claimed by a process of this machine that crashed are free again at once.
    result.released_claims = outbox.release_dead_claimants()
    result.queued_work = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) or 0
    db.session.rollback()  # end the read, so the caller starts its own transaction
    if result.staging_files or result.scratch_folders or result.blob_temp_files:
        log.warning("start-up recovery removed what a crash left behind: %s", result)
    return result


def _remove_stale_folders(directory: Path, grace: float) -> int:
    """Remove extraction scratch folders (tempfile's `tmp*`) in which nothing changed lately."""
    cutoff = time.time() - grace
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not entry.name.startswith("tmp") or not entry.is_dir(follow_symlinks=False):
            continue
        if _newest_mtime(Path(entry.path)) < cutoff:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed


def _newest_mtime(folder: Path) -> float:
    newest = folder.stat().st_mtime
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            try:
                newest = max(newest, os.stat(os.path.join(root, name)).st_mtime)
            except FileNotFoundError:
                continue
    return newest

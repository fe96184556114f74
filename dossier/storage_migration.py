"""`dossier migrate-storage --to s3`: copy every blob of the file-system store into S3.

Each blob goes up with its SHA-256 (the object store refuses a body that does not match) and is
then read back and re-hashed. A blob already in the target is read back too: a good copy counts
as done, a damaged one is replaced by the file-system copy. So the command can be stopped at
any point and run again (it resumes, copying only what is missing or damaged) and running it
twice changes nothing. At the end every blob a version refers to must be in the target. Each
run is recorded in the audit trail by the caller's commit.

The switch itself (`DOSSIER_BLOB_STORE=s3`) is the operator's step, after a last run with the
server stopped; the README says how.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa

from dossier import audit
from dossier.extensions import db
from dossier.models import AuditAction, DestroyedVersion, DocumentVersion
from storage import BlobStore, FileSystemBlobStore


@dataclass
class Migration:
    """What one run did: blobs copied, found good, replaced, and what stops the switch."""

    source_blobs: int = 0
    copied: int = 0
    already_there: int = 0
    replaced: int = 0
    bytes_copied: int = 0
    # Versions filed while the run went on: their blobs are copied by the next run.
    arrived_during_copy: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def migrate(
    source: FileSystemBlobStore,
    target: BlobStore,
    progress: Callable[[Migration], None] | None = None,
) -> Migration:
    """Copy and verify every blob of `source` into `target`; check every version's blob is there.

    A `StorageError` (the target unreachable or refusing) stops the run; what was copied stays
    copied, and the next run goes on from there.
    """
    result = Migration()
    listed: set[str] = set()
    for key in source.keys():  # noqa: SIM118 (a BlobStore method, not a dict)
        listed.add(key)
        result.source_blobs += 1
        _copy_one(source, target, key, result)
        if progress is not None:
            progress(result)
    destroyed = sa.select(DestroyedVersion.version_id)  # gone on purpose, with proof
    referenced = db.session.scalars(
        sa.select(DocumentVersion.blob_key).where(DocumentVersion.id.not_in(destroyed)).distinct()
    )
    for key in referenced:
        if key in listed:
            continue  # copied and read back, found intact, or named as damaged above
        try:
            if target.exists(key):
                continue
            if source.exists(key):  # filed while this run went through the list
                result.arrived_during_copy += 1
                continue
        except ValueError:  # an altered row (not a blob key); `dossier verify` names it
            pass
        result.problems.append(f"blob {key} of a version is in neither store")
    return result


def _copy_one(source: FileSystemBlobStore, target: BlobStore, key: str, result: Migration) -> None:
    if target.exists(key):
        if target.verify(key):
            result.already_there += 1
            return
        target.delete(key)  # a damaged copy: the file system's good one replaces it
        result.replaced += 1
    if not source.verify(key):
        result.problems.append(f"blob {key} is damaged in the file-system store; not copied")
        return
    target.put_file(source.path_for(key), key)  # hashed again while it is sent
    if not target.verify(key):
        result.problems.append(f"blob {key} does not read back intact from the object store")
        return
    result.copied += 1
    result.bytes_copied += source.size(key)


def record(result: Migration, to: str, target: BlobStore) -> None:
    """Add the run to the audit trail (the caller commits)."""
    audit.record(
        None,
        AuditAction.STORAGE_MIGRATE,
        "blob_store",
        None,
        after={
            "to": to,
            "target": repr(target),
            **{k: v for k, v in result.as_dict().items() if k != "problems"},
            "problems": len(result.problems),
        },
    )

"""`dossier verify`: the single "nothing lost, nothing altered" check over database and blobs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from dossier import audit
from dossier.extensions import db
from dossier.models import Document, DocumentVersion
from storage import BlobNotFound, BlobStore, InvalidKey

# A blob younger than this may belong to an upload whose transaction is still running.
ORPHAN_GRACE = timedelta(hours=1)


@dataclass
class Problem:
    kind: str  # missing_blob, corrupt_blob, size_mismatch, orphan_blob, version_gap, audit_chain
    subject: str
    detail: str


@dataclass
class Report:
    versions: int = 0
    blobs: int = 0
    audit_events: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok": self.ok}


def run(store: BlobStore, now: datetime | None = None) -> Report:
    """Re-hash every blob, match rows to blobs and blobs to rows, check numbering and the chain."""
    report = Report()
    referenced = _check_versions(store, report)
    _check_orphans(store, referenced, report, now or datetime.now(UTC))
    _check_numbering(report)
    for problem in audit.check_chain():
        report.problems.append(Problem("audit_chain", f"event {problem.event_id}", problem.problem))
    report.audit_events = db.session.scalar(sa.text("SELECT count(*) FROM audit_event")) or 0
    return report


def _check_versions(store: BlobStore, report: Report) -> set[str]:
    referenced: set[str] = set()
    checked: dict[str, bool] = {}
    query = sa.select(DocumentVersion.id, DocumentVersion.blob_key, DocumentVersion.size)
    for version_id, key, size in db.session.execute(query):
        report.versions += 1
        referenced.add(key)
        subject = f"version {version_id} (blob {key})"
        try:
            if key not in checked:
                checked[key] = store.verify(key)
            if not checked[key]:
                report.problems.append(Problem("corrupt_blob", subject, "content does not match"))
            elif store.size(key) != size:
                report.problems.append(Problem("size_mismatch", subject, "size differs from row"))
        except BlobNotFound:
            report.problems.append(Problem("missing_blob", subject, "blob is not in the store"))
        except InvalidKey:  # an altered row: report it rather than stop the whole check
            report.problems.append(Problem("missing_blob", subject, "not a valid blob key"))
    return referenced


def _check_orphans(store: BlobStore, referenced: set[str], report: Report, now: datetime) -> None:
    stored = store.keys()
    for key in stored:
        report.blobs += 1
        if key in referenced:
            continue
        age = now - datetime.fromtimestamp(store.stored_at(key), UTC)
        if age >= ORPHAN_GRACE:
            report.problems.append(
                Problem("orphan_blob", f"blob {key}", "stored but no version refers to it")
            )


def _check_numbering(report: Report) -> None:
    """Versions of each document are numbered 1..n, and the document's counter says n."""
    query = (
        sa.select(
            Document.id,
            Document.current_version_number,
            sa.func.count(DocumentVersion.id),
            sa.func.min(DocumentVersion.number),
            sa.func.max(DocumentVersion.number),
        )
        .outerjoin(DocumentVersion, DocumentVersion.document_id == Document.id)
        .group_by(Document.id, Document.current_version_number)
        .order_by(Document.id)
    )
    for document_id, current, count, low, high in db.session.execute(query):
        if count == 0 or low != 1 or high != count or current != high:
            report.problems.append(
                Problem(
                    "version_gap",
                    f"document {document_id}",
                    f"{count} versions numbered {low}..{high}, current version {current}",
                )
            )

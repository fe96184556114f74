"""`dossier verify`: the single "nothing lost, nothing altered" check over database and blobs.

The check is a list of independent check functions (`CHECKS`), each taking the shared
`Context` and adding problems (violations) or notes (information) to the `Report`. To add a
check, write one more function and append it to `CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from dossier import audit, indexing
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Clause,
    DestroyedVersion,
    Document,
    DocumentVersion,
    OutboxItem,
    OutboxTopic,
)
from search.types import IndexUnavailable, VersionEntry
from storage import BlobNotFound, BlobStore, InvalidKey

# A blob younger than this may belong to an upload whose transaction is still running, or to a
# crashed upload that a retry of the same bytes will reuse. Configurable: VERIFY_ORPHAN_GRACE_HOURS.
ORPHAN_GRACE = timedelta(hours=24)


@dataclass
class Problem:
    # destruction_unproven, missing_blob, corrupt_blob, size_mismatch, orphan_blob, version_gap,
    # audit_chain, audit_truncated, index_unavailable, index_missing, index_extra, index_stale,
    # database_integrity, foreign_key, database_consistency
    kind: str
    subject: str
    detail: str


@dataclass
class Report:
    versions: int = 0
    destroyed_versions: int = 0  # destroyed under an approved list: no blob expected
    blobs: int = 0
    audit_events: int = 0
    index_units: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Differences still covered by queued outbox work: not violations, the worker catches up.
    pending: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # information, not violations
    checks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok": self.ok}


@dataclass
class Context:
    """What the checks share: the store, the clock, and the blob keys the rows refer to."""

    store: BlobStore
    now: datetime
    grace: timedelta
    referenced: set[str] = field(default_factory=set)
    # Blob keys of versions destroyed under an approved destruction list.
    destroyed: set[str] = field(default_factory=set)
    # Chain heads recorded elsewhere (a backup manifest's), with where they come from.
    anchors: list[tuple[dict[str, object], str]] = field(default_factory=list)


Check = Callable[[Context, Report], None]


def run(
    store: BlobStore,
    now: datetime | None = None,
    grace: timedelta | None = None,
    anchors: list[tuple[dict[str, object], str]] | None = None,
) -> Report:
    """Run every check in `CHECKS` in order and return the combined report."""
    context = Context(store, now or datetime.now(UTC), ORPHAN_GRACE if grace is None else grace)
    context.anchors = list(anchors or [])
    report = Report()
    for check in CHECKS:
        report.checks.append(check.__name__.removeprefix("check_"))
        check(context, report)
    return report


def check_versions(context: Context, report: Report) -> None:
    """Every version row has its blob, whose content hashes to the key and has the row's size."""
    checked: dict[str, bool] = {}
    store = context.store
    destroyed = set(db.session.scalars(sa.select(DestroyedVersion.version_id)))
    query = sa.select(DocumentVersion.id, DocumentVersion.blob_key, DocumentVersion.size)
    for version_id, key, size in db.session.execute(query):
        report.versions += 1
        if version_id in destroyed:
            report.destroyed_versions += 1
            context.destroyed.add(key)
            continue
        context.referenced.add(key)
        subject = f"version {version_id} (blob {key})"
        try:
            if key not in checked:
                checked[key] = store.verify(key)
            if not checked[key]:
                report.problems.append(Problem("corrupt_blob", subject, "content does not match"))
            elif store.size(key) != size:
                report.problems.append(
                    Problem(
                        "size_mismatch",
                        subject,
                        f"blob has {store.size(key)} bytes, the row says {size}",
                    )
                )
        except BlobNotFound:
            report.problems.append(Problem("missing_blob", subject, "blob is not in the store"))
        except InvalidKey:  # an altered row: report it rather than stop the whole check
            report.problems.append(Problem("missing_blob", subject, "not a valid blob key"))


def check_woo_files(context: Context, report: Report) -> None:
    """The redacted PDFs of Woo requests (derived files, dossier/woo.py) are present and
    intact; their blobs are no orphans."""
    from dossier.models import WooDocument

    query = sa.select(WooDocument.id, WooDocument.redacted_blob_key).where(
        WooDocument.redacted_blob_key.is_not(None)
    )
    for item_id, key in db.session.execute(query):
        context.referenced.add(key)
        subject = f"Woo redacted PDF {item_id} (blob {key})"
        try:
            if not context.store.verify(key):
                report.problems.append(Problem("corrupt_blob", subject, "content does not match"))
        except (BlobNotFound, InvalidKey):
            report.problems.append(Problem("missing_blob", subject, "blob is not in the store"))


def check_orphans(context: Context, report: Report) -> None:
    """No stored blob without a version beyond the grace period; younger ones are noted."""
    store = context.store
    for key in store.keys():  # noqa: SIM118 (a BlobStore method, not a dict)
        report.blobs += 1
        if key in context.referenced:
            continue
        if key in context.destroyed:
            report.notes.append(
                Problem(
                    "destroyed_blob_present",
                    f"blob {key}",
                    "destroyed under an approved list; the next purge run removes the blob",
                )
            )
            continue
        try:
            stored = datetime.fromtimestamp(store.stored_at(key), UTC)
        except BlobNotFound:  # removed while we looked
            continue
        age = context.now - stored
        if age >= context.grace:
            report.problems.append(
                Problem("orphan_blob", f"blob {key}", "stored but no version refers to it")
            )
        else:
            report.notes.append(
                Problem(
                    "young_orphan_blob",
                    f"blob {key}",
                    f"no version refers to it yet; {_hours(age)} old, within the grace period "
                    f"of {_hours(context.grace)}",
                )
            )


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def check_numbering(context: Context, report: Report) -> None:
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


def check_audit_chain(context: Context, report: Report) -> None:
    """Every audit event links to the one before and hashes to its stored hash."""
    for problem in audit.check_chain():
        report.problems.append(Problem("audit_chain", f"event {problem.event_id}", problem.problem))
    report.audit_events = db.session.scalar(sa.text("SELECT count(*) FROM audit_event")) or 0


def check_audit_anchor(context: Context, report: Report) -> None:
    """The newest events were not removed: the table still holds every anchored head (the
    instance's anchor file, and the heads of the backups named on the command line)."""
    path = current_app.config.get("AUDIT_ANCHOR_PATH")
    anchors = list(context.anchors)
    anchor = audit.read_anchor(path) if path else None
    if anchor is not None:
        anchors.insert(0, (anchor, path))
    elif report.audit_events:
        report.notes.append(
            Problem("audit_anchor", "audit trail", "no anchor yet; the next change writes one")
        )
    for anchor, source in anchors:
        for problem in audit.check_anchor(anchor, str(source)):
            report.problems.append(
                Problem("audit_truncated", f"event {problem.event_id}", problem.problem)
            )


def check_index(_context: Context, report: Report) -> None:
    """The search index holds exactly the units of every version of every live document.

    A unit is a clause of a version's text (or one unit for a version without clauses); the
    index keeps earlier versions too, flagged not current. Differences on documents with
    queued outbox work are reported as pending, not as problems.
    """
    expected = _expected_index()
    waiting = _documents_with_pending_work()
    for document_id, detail in sorted(waiting.items()):
        report.pending.append(Problem("index_pending", f"document {document_id}", detail))
    try:
        actual = indexing.search_index().version_summary()
    except IndexUnavailable as exc:
        if any(entry.document_id not in waiting for entry in expected.values()):
            report.problems.append(
                Problem(
                    "index_unavailable",
                    "search index",
                    f"{exc}; it is rebuilt by the next indexing run or `dossier reindex`",
                )
            )
        return
    report.index_units = sum(entry.units for entry in actual.values())
    for version_id in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(version_id), actual.get(version_id)
        if want == have:
            continue
        problem = _index_difference(version_id, want, have)
        document_id = (want or have).document_id  # type: ignore[union-attr]
        (report.pending if document_id in waiting else report.problems).append(problem)


def _index_difference(
    version_id: int, want: VersionEntry | None, have: VersionEntry | None
) -> Problem:
    subject = f"version {version_id}"
    if have is None:
        return Problem("index_missing", subject, "in the database but not in the search index")
    if want is None:
        return Problem(
            "index_extra", subject, "in the search index but withdrawn or not in the database"
        )
    return Problem(
        "index_stale",
        subject,
        f"index has {have.units} units of document {have.document_id} "
        f"(current: {sorted(have.current)}), the database {want.units} units of document "
        f"{want.document_id} (current: {sorted(want.current)})",
    )


def _expected_index() -> dict[int, VersionEntry]:
    """What the index should hold, per version, according to the database."""
    clauses = (
        sa.select(Clause.version_id, sa.func.count().label("n"))
        .group_by(Clause.version_id)
        .subquery()
    )
    query = (
        sa.select(
            DocumentVersion.id,
            Document.id,
            DocumentVersion.number == Document.current_version_number,
            sa.func.coalesce(clauses.c.n, 0),
        )
        .join(Document, DocumentVersion.document_id == Document.id)
        .outerjoin(clauses, clauses.c.version_id == DocumentVersion.id)
        .where(Document.withdrawn_at.is_(None))
    )
    return {
        version_id: VersionEntry(document_id, max(count, 1), frozenset([bool(current)]))
        for version_id, document_id, current, count in db.session.execute(query)
    }


def _documents_with_pending_work() -> dict[int, str]:
    """Documents whose index entries queued outbox work will still change, with why."""
    waiting: dict[int, str] = {}
    items = db.session.execute(
        sa.select(OutboxItem.topic, OutboxItem.object_id, OutboxItem.attempts)
    ).all()
    for topic, object_id, attempts in items:
        if topic == OutboxTopic.WEBHOOK_DELIVER:
            continue  # a delivery, not index work
        if topic == OutboxTopic.VERSION_EXTRACT:
            ids = db.session.scalars(
                sa.select(DocumentVersion.document_id).where(DocumentVersion.id == object_id)
            ).all()
        elif topic == OutboxTopic.DOSSIER_INDEX:
            ids = db.session.scalars(
                sa.select(Document.id).where(Document.dossier_id == object_id)
            ).all()
        else:
            ids = [object_id]
        note = f"{topic} queued" + (f" ({attempts} failed attempts)" if attempts else "")
        for document_id in ids:
            waiting.setdefault(document_id, note)
    return waiting


def check_database(context: Context, report: Report) -> None:
    """The database engine's own integrity checks (SQLite) or consistency queries (PostgreSQL)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite":
        _check_sqlite(report)
    else:
        _check_consistency(report)


def _check_sqlite(report: Report) -> None:
    rows = [r[0] for r in db.session.execute(sa.text("PRAGMA integrity_check"))]
    if rows != ["ok"]:
        for row in rows[:50]:
            report.problems.append(Problem("database_integrity", "sqlite", str(row)))
    for table, rowid, parent, _fk in db.session.execute(sa.text("PRAGMA foreign_key_check")):
        report.problems.append(
            Problem("foreign_key", f"{table} row {rowid}", f"refers to a missing {parent} row")
        )


# Rows whose parent is missing; the foreign keys forbid them, so finding one means the database
# was altered behind the application's back (or a constraint was dropped).
_PG_ORPHAN_QUERIES = {
    "document_version without its document": (
        "SELECT v.id FROM document_version v LEFT JOIN document d ON d.id = v.document_id "
        "WHERE d.id IS NULL"
    ),
    "document without its dossier": (
        "SELECT d.id FROM document d LEFT JOIN dossier s ON s.id = d.dossier_id WHERE s.id IS NULL"
    ),
    "clause without its version": (
        "SELECT c.id FROM clause c LEFT JOIN document_version v ON v.id = c.version_id "
        "WHERE v.id IS NULL"
    ),
    "membership without its dossier": (
        "SELECT m.id FROM membership m LEFT JOIN dossier s ON s.id = m.dossier_id "
        "WHERE s.id IS NULL"
    ),
}


def _check_consistency(report: Report) -> None:
    for what, query in _PG_ORPHAN_QUERIES.items():
        ids = [r[0] for r in db.session.execute(sa.text(query + " LIMIT 50"))]
        for row_id in ids:
            report.problems.append(Problem("foreign_key", f"row {row_id}", what))
    invalid = db.session.execute(
        sa.text(
            "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c "
            "JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = current_schema() AND NOT c.convalidated"
        )
    )
    for table, name in invalid:
        report.problems.append(
            Problem("database_consistency", f"table {table}", f"constraint {name} not validated")
        )
    indexes = db.session.execute(
        sa.text(
            "SELECT i.indexrelid::regclass::text FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND NOT (i.indisvalid AND i.indisready)"
        )
    )
    for (name,) in indexes:
        report.problems.append(Problem("database_consistency", f"index {name}", "invalid index"))


def check_destructions(_context: Context, report: Report) -> None:
    """Every destroyed version is named, with its hash, in a destruction event of the audit
    trail: content is never gone without proof."""
    proven: set[tuple[int | None, str]] = set()
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.DISPOSAL_DESTROY.value)
    )
    for event in events:
        for key in (event.after or {}).get("hashes", []):
            proven.add((event.dossier_id, key))
    query = (
        sa.select(DestroyedVersion.version_id, DestroyedVersion.blob_key, Document.dossier_id)
        .join(DocumentVersion, DocumentVersion.id == DestroyedVersion.version_id)
        .join(Document, Document.id == DocumentVersion.document_id)
    )
    for version_id, key, dossier_id in db.session.execute(query):
        if (dossier_id, key) not in proven:
            report.problems.append(
                Problem(
                    "destruction_unproven",
                    f"version {version_id} (blob {key})",
                    "marked destroyed, but no destruction record names its hash",
                )
            )


CHECKS: list[Check] = [
    check_versions,
    check_destructions,
    check_woo_files,
    check_orphans,
    check_numbering,
    check_audit_chain,
    check_audit_anchor,
    check_database,
    check_index,
]

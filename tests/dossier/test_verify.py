"""`dossier.verify.run`: every way a stored dossier can be lost or altered is reported."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import audit, documents, verify
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    User,
)
from dossier.services import blob_store
from storage import FileSystemBlobStore

VNG = "dutch/vng-softwarecatalogus-aanbesteding"
CONTRACT = "Bijlage 3.01 - Overeenkomst ten behoeve van ICT Prestatie GIBIT 2023.docx"
PRICES = "Bijlage 6 - Prijzenblad SWC.xlsx"
MINUTES = "20250128_kennismaking.pdf"
SLA = "Bijlage 3.1 - Service Level Agreement_Softwarecatalogus.docx"


@dataclass
class Seeded:
    dossier: Dossier
    contract: Document  # two versions
    prices: Document
    minutes: Document


def _file(actor: User, dossier: Dossier, path: Path, kind: DocumentKind) -> Document:
    with path.open("rb") as stream, documents.receive(stream, path.name) as upload:
        document = documents.file_document(actor, dossier, upload, kind=kind)
    db.session.commit()
    return document


@pytest.fixture
def seeded(app: Flask, admin: User, make_dossier: Callable[..., Dossier], corpus: Path) -> Seeded:
    folder = corpus / VNG
    dossier = make_dossier("2025-100")
    contract = _file(admin, dossier, folder / CONTRACT, DocumentKind.CONTRACT)
    prices = _file(admin, dossier, folder / PRICES, DocumentKind.ANNEX)
    minutes = _file(admin, dossier, folder / MINUTES, DocumentKind.MINUTES)
    with (folder / SLA).open("rb") as stream, documents.receive(stream, SLA) as upload:
        documents.add_version(admin, contract, upload, comment="tweede versie")
    db.session.commit()
    return Seeded(dossier, contract, prices, minutes)


def _store() -> FileSystemBlobStore:
    store = blob_store()
    assert isinstance(store, FileSystemBlobStore)
    return store


def _kinds(report: verify.Report) -> list[str]:
    return [p.kind for p in report.problems]


def _blob_of(document: Document, number: int = 1) -> str:
    key = db.session.scalar(
        sa.select(DocumentVersion.blob_key).where(
            DocumentVersion.document_id == document.id, DocumentVersion.number == number
        )
    )
    assert key is not None
    return key


def _flip_byte(path: Path, offset: int = 100) -> None:
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    path.chmod(0o444)


def test_a_clean_store_is_ok(seeded: Seeded) -> None:
    report = verify.run(_store())
    assert report.problems == []
    assert report.ok
    assert report.versions == 4
    assert report.blobs == 4
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert report.audit_events == events and events > 4
    as_dict = json.loads(json.dumps(report.as_dict()))
    assert as_dict["ok"] is True and as_dict["problems"] == []


def test_a_shared_blob_is_checked_and_counted_once(
    seeded: Seeded, admin: User, corpus: Path
) -> None:
    _file(admin, seeded.dossier, corpus / VNG / PRICES, DocumentKind.ANNEX)  # same bytes again
    report = verify.run(_store())
    assert report.ok, report.problems
    assert (report.versions, report.blobs) == (5, 4)


def test_a_missing_blob(seeded: Seeded) -> None:
    key = _blob_of(seeded.prices)
    _store().path_for(key).unlink()
    report = verify.run(_store())
    assert not report.ok
    assert _kinds(report) == ["missing_blob"]
    assert key in report.problems[0].subject


def test_a_flipped_byte(seeded: Seeded) -> None:
    key = _blob_of(seeded.minutes)
    _flip_byte(_store().path_for(key))
    report = verify.run(_store())
    assert _kinds(report) == ["corrupt_blob"]
    assert key in report.problems[0].subject


def test_a_truncated_blob_is_corrupt(seeded: Seeded) -> None:
    path = _store().path_for(_blob_of(seeded.contract, 2))
    path.chmod(0o644)
    with path.open("r+b") as handle:
        handle.truncate(1000)
    report = verify.run(_store())
    assert _kinds(report) == ["corrupt_blob"]


def test_a_size_that_differs_from_the_row(seeded: Seeded) -> None:
    db.session.execute(
        sa.update(DocumentVersion)
        .where(DocumentVersion.document_id == seeded.prices.id)
        .values(size=DocumentVersion.size + 1)
    )
    db.session.commit()
    assert _kinds(verify.run(_store())) == ["size_mismatch"]


def test_an_old_orphan_blob_is_reported_and_a_fresh_one_is_not(seeded: Seeded) -> None:
    store = _store()
    old = store.put_stream(io.BytesIO(b"left behind by a crashed upload\n")).key
    fresh = store.put_stream(io.BytesIO(b"an upload still committing\n")).key
    two_hours_ago = time.time() - verify.ORPHAN_GRACE.total_seconds() - 3600
    os.utime(store.path_for(old), (two_hours_ago, two_hours_ago))
    report = verify.run(store)
    assert _kinds(report) == ["orphan_blob"]
    assert old in report.problems[0].subject
    assert fresh not in report.problems[0].subject
    assert report.blobs == 6


def test_an_orphan_just_inside_the_grace_period_is_not_reported(seeded: Seeded) -> None:
    store = _store()
    key = store.put_stream(io.BytesIO(b"young orphan\n")).key
    almost = time.time() - verify.ORPHAN_GRACE.total_seconds() + 300
    os.utime(store.path_for(key), (almost, almost))
    assert verify.run(store).ok


def test_a_version_number_gap(seeded: Seeded) -> None:
    db.session.execute(
        sa.update(DocumentVersion)
        .where(DocumentVersion.document_id == seeded.contract.id, DocumentVersion.number == 2)
        .values(number=3)
    )
    db.session.commit()
    report = verify.run(_store())
    assert _kinds(report) == ["version_gap"]
    assert report.problems[0].subject == f"document {seeded.contract.id}"


def test_numbering_that_does_not_start_at_one(seeded: Seeded) -> None:
    db.session.execute(
        sa.update(DocumentVersion)
        .where(DocumentVersion.document_id == seeded.minutes.id)
        .values(number=2)
    )
    db.session.commit()
    assert _kinds(verify.run(_store())) == ["version_gap"]


def test_a_deleted_version_row_leaves_a_gap_and_an_orphan(seeded: Seeded) -> None:
    key = _blob_of(seeded.contract, 1)
    db.session.execute(
        sa.delete(DocumentVersion).where(
            DocumentVersion.document_id == seeded.contract.id, DocumentVersion.number == 1
        )
    )
    db.session.commit()
    old = time.time() - verify.ORPHAN_GRACE.total_seconds() - 3600
    os.utime(_store().path_for(key), (old, old))
    assert sorted(_kinds(verify.run(_store()))) == ["orphan_blob", "version_gap"]


def test_a_current_version_number_out_of_step(seeded: Seeded) -> None:
    db.session.execute(
        sa.update(Document).where(Document.id == seeded.prices.id).values(current_version_number=3)
    )
    db.session.commit()
    report = verify.run(_store())
    assert _kinds(report) == ["version_gap"]
    assert report.problems[0].subject == f"document {seeded.prices.id}"


def test_a_document_without_versions(seeded: Seeded) -> None:
    db.session.execute(
        sa.delete(DocumentVersion).where(DocumentVersion.document_id == seeded.prices.id)
    )
    db.session.commit()
    report = verify.run(_store(), now=datetime.now(UTC) + verify.ORPHAN_GRACE + timedelta(hours=1))
    assert sorted(_kinds(report)) == ["orphan_blob", "version_gap"]


@pytest.mark.parametrize("key", ["A" * 64, "../../etc/passwd", ""])
def test_a_row_whose_blob_key_is_no_sha256(seeded: Seeded, key: str) -> None:
    db.session.execute(
        sa.update(DocumentVersion)
        .where(DocumentVersion.document_id == seeded.minutes.id)
        .values(blob_key=key)
    )
    db.session.commit()
    report = verify.run(_store(), now=datetime.now(UTC) + verify.ORPHAN_GRACE + timedelta(hours=1))
    assert sorted(_kinds(report)) == ["missing_blob", "orphan_blob"]
    missing = next(p for p in report.problems if p.kind == "missing_blob")
    assert "not a valid blob key" in missing.detail


def _event_ids() -> list[int]:
    return list(db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)))


def test_a_tampered_audit_event(seeded: Seeded) -> None:
    ids = _event_ids()
    target = ids[len(ids) // 2]
    db.session.execute(
        sa.update(AuditEvent).where(AuditEvent.id == target).values(after={"title": "vervalst"})
    )
    db.session.commit()
    report = verify.run(_store())
    assert _kinds(report) == ["audit_chain"]
    assert report.problems[0].subject == f"event {target}"
    assert "hash" in report.problems[0].detail


def test_a_tampered_audit_actor(seeded: Seeded) -> None:
    target = _event_ids()[0]
    db.session.execute(
        sa.update(AuditEvent).where(AuditEvent.id == target).values(actor_label="iemand@anders")
    )
    db.session.commit()
    assert _kinds(verify.run(_store())) == ["audit_chain"]


def test_a_deleted_audit_event_in_the_middle(seeded: Seeded) -> None:
    ids = _event_ids()
    target = ids[len(ids) // 2]
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == target))
    db.session.commit()
    report = verify.run(_store())
    assert _kinds(report) == ["audit_chain"]
    following = ids[ids.index(target) + 1]
    assert report.problems[0].subject == f"event {following}"
    assert "link" in report.problems[0].detail
    assert report.audit_events == len(ids) - 1


def test_a_deleted_first_audit_event(seeded: Seeded) -> None:
    ids = _event_ids()
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == ids[0]))
    db.session.commit()
    report = verify.run(_store())
    assert _kinds(report) == ["audit_chain"]
    assert report.problems[0].subject == f"event {ids[1]}"


def test_several_faults_are_all_reported(seeded: Seeded) -> None:
    store = _store()
    store.path_for(_blob_of(seeded.prices)).unlink()
    _flip_byte(store.path_for(_blob_of(seeded.minutes)))
    target = _event_ids()[1]
    db.session.execute(
        sa.update(AuditEvent).where(AuditEvent.id == target).values(action="document.nothing")
    )
    db.session.commit()
    report = verify.run(store)
    assert sorted(_kinds(report)) == ["audit_chain", "corrupt_blob", "missing_blob"]
    assert json.loads(json.dumps(report.as_dict()))["ok"] is False


def test_a_young_orphan_is_information_not_a_problem(seeded: Seeded) -> None:
    store = _store()
    key = store.put_stream(io.BytesIO(b"an upload still committing\n")).key
    report = verify.run(store)
    assert report.ok
    assert [n.kind for n in report.notes] == ["young_orphan_blob"]
    assert key in report.notes[0].subject
    # The same blob past a shorter grace period is a violation.
    shorter = verify.run(store, now=datetime.now(UTC) + timedelta(minutes=2), grace=timedelta(0))
    assert _kinds(shorter) == ["orphan_blob"]


def test_every_check_runs(seeded: Seeded) -> None:
    report = verify.run(_store())
    assert report.checks == [c.__name__.removeprefix("check_") for c in verify.CHECKS]
    assert "database" in report.checks


def test_a_row_whose_parent_is_gone_is_a_database_problem(seeded: Seeded) -> None:
    """Foreign keys forbid this; verify must still notice when the database was altered."""
    connection = db.session.connection()
    document_id = seeded.prices.id
    if connection.dialect.name == "sqlite":
        db.session.commit()  # end the session's snapshot, so verify sees the change below
        raw = db.engine.raw_connection()
        try:
            raw.execute("PRAGMA foreign_keys=OFF")
            raw.execute("UPDATE document SET dossier_id = 9999 WHERE id = ?", (document_id,))
            raw.commit()
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
            raw.close()
    else:
        connection.exec_driver_sql("SET session_replication_role = replica")
        connection.execute(
            sa.text("UPDATE document SET dossier_id = 9999 WHERE id = :id"),
            {"id": seeded.prices.id},
        )
        connection.exec_driver_sql("SET session_replication_role = DEFAULT")
        db.session.commit()
    report = verify.run(_store())
    assert _kinds(report) == ["foreign_key"]
    assert "dossier" in report.problems[0].detail


def test_a_damaged_database_is_reported(seeded: Seeded, app: Flask) -> None:
    """SQLite: rows and an index that disagree; PostgreSQL: an index marked invalid."""
    if db.session.connection().dialect.name == "postgresql":
        _invalidate_a_postgresql_index()
        return
    db.session.commit()
    raw = db.engine.raw_connection()
    try:
        # Swap an index's definition behind SQLite's back: rows and index no longer agree.
        raw.execute("CREATE INDEX ix_probe ON document(title)")
        raw.commit()
        raw.execute("PRAGMA writable_schema=ON")
        raw.execute(
            "UPDATE sqlite_schema SET sql = 'CREATE INDEX ix_probe ON document(kind)' "
            "WHERE name = 'ix_probe'"
        )
        raw.commit()
    finally:
        raw.close()
    db.engine.dispose()
    report = verify.run(_store())
    assert "database_integrity" in _kinds(report)


def _invalidate_a_postgresql_index() -> None:
    index = "ix_document_version_document_id"
    flag = sa.text(
        "UPDATE pg_index SET indisvalid = :valid WHERE indexrelid = CAST(:name AS regclass)"
    )
    db.session.execute(flag, {"valid": False, "name": index})
    db.session.commit()
    try:
        report = verify.run(_store())
        assert _kinds(report) == ["database_consistency"]
        assert index in report.problems[0].subject
    finally:
        db.session.rollback()
        db.session.execute(flag, {"valid": True, "name": index})
        db.session.commit()


def _anchor_path(app: Flask) -> str:
    return app.config["AUDIT_ANCHOR_PATH"]


def test_every_commit_with_events_anchors_the_newest(app: Flask, seeded: Seeded) -> None:
    anchor = audit.read_anchor(_anchor_path(app))
    newest = db.session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).one()
    assert anchor == {"id": newest.id, "hash": newest.hash}
    assert oct(os.stat(_anchor_path(app)).st_mode & 0o777) == oct(0o600)
    audit.advance_anchor(_anchor_path(app), newest.id - 1, "older")  # a slower process
    assert audit.read_anchor(_anchor_path(app)) == anchor, "the anchor never moves back"


def test_deleting_the_newest_audit_events_is_detected(seeded: Seeded) -> None:
    ids = _event_ids()
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id >= ids[-2]))
    db.session.commit()
    report = verify.run(_store())
    assert _kinds(report) == ["audit_truncated"]
    assert "removed" in report.problems[0].detail
    assert report.problems[0].subject == f"event {ids[-1]}"


def test_a_rehashed_newest_event_differs_from_the_anchor(seeded: Seeded) -> None:
    # An editor who also recomputes the hash keeps the chain intact; the anchor still differs.
    newest = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert newest is not None
    newest.actor_label = "iemand@anders"
    newest.hash = audit._digest(newest)
    db.session.commit()
    assert _kinds(verify.run(_store())) == ["audit_truncated"]


def test_a_backup_head_is_an_anchor_too(seeded: Seeded) -> None:
    ids = _event_ids()
    head = db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.id == ids[-1]))
    assert verify.run(_store(), anchors=[({"id": ids[-1], "hash": head}, "backup")]).ok
    report = verify.run(_store(), anchors=[({"id": ids[-1] + 5, "hash": head}, "backup")])
    assert _kinds(report) == ["audit_truncated"]
    assert "backup anchors event" in report.problems[0].detail


def test_a_missing_anchor_is_information(app: Flask, seeded: Seeded) -> None:
    os.unlink(_anchor_path(app))
    report = verify.run(_store())
    assert report.ok
    assert "audit_anchor" in [n.kind for n in report.notes]


def test_only_the_outermost_commit_anchors_and_a_rolled_back_savepoint_never(
    app: Flask, seeded: Seeded, admin: User
) -> None:
    before = audit.read_anchor(_anchor_path(app))
    with db.session.begin_nested():  # the register import wraps each row like this
        audit.record(admin, AuditAction.DOSSIER_UPDATE, "dossier", seeded.dossier.id)
    assert audit.read_anchor(_anchor_path(app)) == before, "a savepoint is no commit"
    db.session.rollback()  # the import was interrupted: nothing was committed
    assert verify.run(_store()).ok
    # A savepoint rolled back inside a transaction that commits: its event is not anchored.
    audit.record(admin, AuditAction.DOSSIER_UPDATE, "dossier", seeded.dossier.id)
    nested = db.session.begin_nested()
    audit.record(admin, AuditAction.DOSSIER_UPDATE, "dossier", seeded.dossier.id)
    nested.rollback()
    db.session.commit()
    newest = db.session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).one()
    assert audit.read_anchor(_anchor_path(app)) == {"id": newest.id, "hash": newest.hash}
    assert verify.run(_store()).ok


def test_an_anchor_that_cannot_be_written_does_not_fail_the_change(
    app: Flask, seeded: Seeded, admin: User, tmp_path: Path
) -> None:
    app.config["AUDIT_ANCHOR_PATH"] = str(tmp_path / "missing-folder" / "audit-anchor.json")
    audit.record(admin, AuditAction.DOSSIER_UPDATE, "dossier", seeded.dossier.id)
    db.session.commit()  # committed; the anchor lags, which is safe
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) > 0

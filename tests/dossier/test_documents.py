"""Filing domain functions: versions, immutability, races, integrity on download."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import database, documents
from dossier.errors import UploadRefused
from dossier.extensions import db
from dossier.models import (
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    DossierStatus,
    ExtractionStatus,
    OutboxItem,
    User,
)
from dossier.services import blob_store
from storage import FileSystemBlobStore


def _file(actor: User, dossier: Dossier, data: bytes, name: str = "brief.txt") -> Document:
    with documents.receive(io.BytesIO(data), name) as upload:
        document = documents.file_document(actor, dossier, upload, kind=DocumentKind.OTHER)
    db.session.commit()
    return document


def test_version_row_blob_audit_and_outbox_together(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    document = _file(admin, make_dossier(), b"hello\n")
    version = document.versions[0]
    assert version.number == 1 and version.size == 6 and version.file_kind == "txt"
    assert blob_store().verify(version.blob_key)
    assert db.session.scalar(sa.select(OutboxItem.object_id)) == version.id


def test_staging_file_is_removed_after_filing_and_refusal(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier()
    _file(admin, dossier, b"hello\n")
    with pytest.raises(UploadRefused):
        _file(admin, dossier, b"\x00\x01binary", "x.txt")
    assert list(Path(app.config["STAGING_DIR"]).iterdir()) == []


def test_same_bytes_share_one_blob(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier()
    _file(admin, dossier, b"same\n", "a.txt")
    _file(admin, dossier, b"same\n", "b.txt")
    assert len(list(blob_store().keys())) == 1


def test_blobs_are_read_only_on_disk(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    document = _file(admin, make_dossier(), b"kept\n")
    store = blob_store()
    assert isinstance(store, FileSystemBlobStore)
    path = store.path_for(document.versions[0].blob_key)
    assert path.stat().st_mode & 0o777 == 0o400


def test_upload_over_the_limit_is_refused(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    app.config["MAX_UPLOAD_BYTES"] = 1000
    with pytest.raises(UploadRefused, match="larger than the limit"):
        _file(admin, make_dossier(), b"x" * 1001)


def test_nothing_is_filed_into_an_archived_dossier(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier(status=DossierStatus.ARCHIVED)
    with pytest.raises(UploadRefused, match="archived"):
        _file(admin, dossier, b"late\n")


def test_two_simultaneous_new_versions_are_numbered_in_order(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    document = _file(admin, make_dossier(), b"v1\n")
    barrier = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def upload(payload: bytes) -> None:
        try:
            with app.app_context():
                with database.read_only():
                    doc = db.session.get(Document, document.id)
                    assert doc is not None
                    db.session.commit()
                barrier.wait()
                with documents.receive(io.BytesIO(payload), "v.txt") as received:
                    documents.add_version(admin_in_thread(), doc, received, comment="race")
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    admin_id = admin.id

    def admin_in_thread() -> User:
        user = db.session.get(User, admin_id)
        assert user is not None
        return user

    threads = [threading.Thread(target=upload, args=(p,)) for p in (b"v2a\n", b"v2b\n")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    db.session.rollback()  # end this thread's snapshot to see the other threads' commits
    numbers = db.session.scalars(
        sa.select(DocumentVersion.number)
        .where(DocumentVersion.document_id == document.id)
        .order_by(DocumentVersion.number)
    ).all()
    assert numbers == [1, 2, 3]
    assert db.session.get(Document, document.id).current_version_number == 3


def test_a_corrupt_blob_is_never_served(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier("2025-900")
    document = _file(admin, dossier, b"original contract text\n")
    store = blob_store()
    assert isinstance(store, FileSystemBlobStore)
    path = store.path_for(document.versions[0].blob_key)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))
    response = app.test_client(user=admin).get(
        f"/dossiers/2025-900/documents/{document.id}/versions/1/download"
    )
    assert response.status_code == 500
    assert bytes(data) not in response.data
    assert "checksum" in response.text or "controlegetal" in response.text


def test_reading_a_confidential_document_is_audited(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    from dossier.models import AuditEvent, Confidentiality

    dossier = make_dossier("2025-901")
    with documents.receive(io.BytesIO(b"prijzen\n"), "prijzen.txt") as upload:
        document = documents.file_document(
            admin,
            dossier,
            upload,
            kind=DocumentKind.ANNEX,
            confidentiality=Confidentiality.CONFIDENTIAL,
        )
    db.session.commit()
    response = app.test_client(user=admin).get(
        f"/dossiers/2025-901/documents/{document.id}/versions/1/download"
    )
    response.close()
    assert response.status_code == 200
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "version.read")
        )
        == 1
    )


def test_a_markdown_text_is_filed_unchanged_and_its_clauses_are_found(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], corpus: Path
) -> None:
    """A Dutch regulation in Markdown (ARBIT-2010): its bytes are kept as they are, its text is
    the plain text, marks included, and its articles ("### Artikel 26", "####Aansprakelijkheid")
    are clauses that search finds."""
    from dossier import indexing, searching

    path = corpus / "dutch" / "ARBIT-2010_BWBR0027935.md"
    data = path.read_bytes()
    document = _file(admin, make_dossier("2025-060"), data, path.name)
    indexing.drain()
    version = db.session.get(DocumentVersion, document.current_version.id)
    assert (version.file_kind, version.mime_type) == ("md", "text/markdown; charset=utf-8")
    with blob_store().open(version.blob_key) as blob:
        assert blob.read() == data
    assert version.extraction_status == ExtractionStatus.OK
    assert "### Artikel  26  \n\n####Aansprakelijkheid\n" in data.decode()
    assert "### Artikel  26\n\n####Aansprakelijkheid\n" in version.text  # trailing spaces go
    assert "".join(clause.text for clause in version.clauses) == version.text
    liability = next(c for c in version.clauses if c.number == "26")
    assert liability.heading == "Aansprakelijkheid"
    assert liability.text.startswith("### Artikel  26\n")

    hits = searching.search(admin, "aansprakelijkheid beperkt", mode="clauses").result.hits
    assert hits and all(hit.document_id == document.id for hit in hits)
    assert any(hit.clause_number.startswith("26") for hit in hits[:5])

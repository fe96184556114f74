"""`dossier/indexing.py`: outbox topics are an enum, every topic has a worker stage that takes its
items out, the extraction stage extracts several files at once while one thread writes the
database, hands each stored extraction to the filing step once, only an app set to index in a
thread starts background indexing, and `reindex --clauses` splits stored texts into clauses
again."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import create_app, documents, indexing, messages, searching, webhooks
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    Clause,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    ExtractionStatus,
    OutboxItem,
    OutboxTopic,
    User,
)
from dossier.services import blob_store
from ingest import clauses
from ingest.extract import Extraction
from tests.conftest import _config


def test_every_topic_belongs_to_exactly_one_stage() -> None:
    stages = [*indexing.EXTRACTION_TOPICS, *indexing.INDEX_TOPICS, *webhooks.TOPICS]
    assert sorted(stages) == sorted(OutboxTopic)


@pytest.mark.parametrize("topic", list(OutboxTopic))
def test_drain_works_off_every_topic(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], topic: OutboxTopic
) -> None:
    """An item of each topic, for a real object, leaves the outbox after one drain."""
    dossier = make_dossier("2025-017")
    with documents.receive(io.BytesIO(b"Artikel 1 Looptijd\n"), "brief.txt") as upload:
        document: Document = documents.file_document(
            admin, dossier, upload, kind=DocumentKind.CORRESPONDENCE
        )
    db.session.commit()
    indexing.drain()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) == 0
    object_id = {
        OutboxTopic.VERSION_EXTRACT: document.current_version.id,
        OutboxTopic.DOCUMENT_INDEX: document.id,
        OutboxTopic.DOCUMENT_REMOVE: document.id,
        OutboxTopic.DOSSIER_INDEX: dossier.id,
        # A delivery whose webhook was deleted; tests/dossier/test_webhooks.py sends real ones.
        OutboxTopic.WEBHOOK_DELIVER: 999_999,
    }[topic]
    db.session.add(OutboxItem(topic=topic, object_id=object_id))
    db.session.commit()
    indexing.drain()
    left = db.session.scalars(sa.select(OutboxItem.topic)).all()
    assert left == []


def test_an_unknown_topic_is_refused_when_written(app: Flask) -> None:
    with pytest.raises(ValueError):
        OutboxItem(topic="document.reindex", object_id=1)


def _file_texts(admin: User, dossier: Dossier, count: int) -> list[Document]:
    filed = []
    for number in range(count):
        text = f"Artikel {number} Looptijd\nBrief nummer {number}.\n".encode()
        with documents.receive(io.BytesIO(text), f"brief-{number}.txt") as upload:
            filed.append(
                documents.file_document(admin, dossier, upload, kind=DocumentKind.CORRESPONDENCE)
            )
        db.session.commit()
    return filed


def test_drain_extracts_two_files_at_once_and_stores_them_in_order_in_one_thread(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["EXTRACT_WORKERS"] = 2
    filed = _file_texts(admin, make_dossier("2025-018"), 5)
    lock = threading.Lock()
    running = [0]
    most = [0]
    real_extract = indexing.extract

    def slow_extract(*args: object, **kwargs: object) -> Extraction:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.5)
        try:
            return real_extract(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                running[0] -= 1

    stored: list[tuple[int, str]] = []
    real_store = indexing._store_extraction

    def record_store(version: DocumentVersion, result: Extraction) -> None:
        stored.append((version.id, threading.current_thread().name))
        real_store(version, result)

    monkeypatch.setattr(indexing, "extract", slow_extract)
    monkeypatch.setattr(indexing, "_store_extraction", record_store)
    indexing.drain()
    assert most[0] == 2
    main = threading.current_thread().name
    assert stored == [(d.current_version.id, main) for d in filed]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) == 0
    for number, document in enumerate(filed):
        version = db.session.get(DocumentVersion, document.current_version.id)
        assert version.extraction_status == ExtractionStatus.OK
        assert f"Brief nummer {number}." in version.text


def test_a_failed_extraction_among_parallel_ones_is_recorded_on_its_own_item(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    app.config["EXTRACT_WORKERS"] = 2
    filed = _file_texts(admin, make_dossier("2025-019"), 3)
    broken = filed[1].current_version
    blob_store().delete(broken.blob_key)
    indexing.drain()
    left = db.session.scalars(sa.select(OutboxItem)).all()
    assert [(i.topic, i.object_id) for i in left] == [(OutboxTopic.VERSION_EXTRACT, broken.id)]
    assert "BlobNotFound" in left[0].last_error
    for document in (filed[0], filed[2]):
        version = db.session.get(DocumentVersion, document.current_version.id)
        assert version.extraction_status == ExtractionStatus.OK


def test_drain_stores_the_clauses_that_the_extraction_worker_segmented(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_segmenting_here(text: str) -> list[object]:
        raise AssertionError("segmented in the application process")

    monkeypatch.setattr(indexing, "segment", no_segmenting_here)
    (document,) = _file_texts(admin, make_dossier("2025-020"), 1)
    indexing.drain()
    version = db.session.get(DocumentVersion, document.current_version.id)
    assert version.extraction_status == ExtractionStatus.OK
    expected = [(c.number, c.heading, c.text) for c in clauses.segment(version.text)]
    assert expected and [(c.number, c.heading, c.text) for c in version.clauses] == expected


# The after-commit hook sits on the process-wide session: only an app set to "thread" kicks.


def test_an_app_with_indexing_off_never_indexes_in_the_background(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], tmp_path: Path
) -> None:
    """An app made earlier in the same process with INDEXING "thread" (the default) once made
    every later app's uploads start background indexing, INDEXING "off" or not; with the
    staging folder on a full disk, that indexing broke the full-disk test."""
    other = tmp_path / "other"
    create_app(_config(other, f"sqlite:///{other / 'db.sqlite3'}") | {"INDEXING": "thread"})
    dossier = make_dossier("2025-017")
    response = app.test_client(user=admin).post(
        f"/dossiers/{dossier.reference}/documents/new",
        data={
            "file": (io.BytesIO(b"Geachte heer,\n"), "brief.txt"),
            "kind": "correspondence",
            "confidentiality": "normal",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.text
    assert not any(thread.name == "indexer" for thread in threading.enumerate())
    pending = db.session.scalars(sa.select(OutboxItem.topic)).all()
    assert OutboxTopic.VERSION_EXTRACT in pending  # left for the test to drain


def test_the_filing_step_gets_each_stored_extraction_once_with_its_attachments_readable(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """Indexing stores text and hands the result to the filing step the application factory
    gave it (here one that only reads the attachments): once per version, while the scratch
    files exist, in the transaction that stores the text; the scratch folder goes afterwards."""
    assert app.extensions["dossier.filing"] is messages.file_from_extraction
    seen: list[tuple[int, str, dict[str, bytes]]] = []

    def read_attachments(version: DocumentVersion, result: Extraction) -> None:
        assert version.extraction_status == ExtractionStatus.OK  # stored, not yet committed
        files = {a.filename: Path(a.path).read_bytes() for a in result.attachments}
        seen.append((version.id, result.metadata.get("subject", ""), files))

    app.extensions["dossier.filing"] = read_attachments
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "a@leverancier.nl", "b@x.nl", "Offerte 2025"
    mail.set_content("Zie bijlage.\n")
    mail.add_attachment(b"Prijs 100 euro.\n", "text", "plain", filename="prijs.txt")
    with documents.receive(io.BytesIO(bytes(mail)), "bericht.eml") as upload:
        dossier = make_dossier("2025-030")
        message = documents.file_document(admin, dossier, upload, kind=DocumentKind.OTHER)
    db.session.commit()
    version_id = message.current_version.id
    indexing.drain()
    assert seen == [(version_id, "Offerte 2025", {"prijs.txt": b"Prijs 100 euro.\n"})]
    assert list(Path(app.config["STAGING_DIR"]).iterdir()) == []
    assert (
        db.session.scalars(sa.select(Document).where(Document.parent_id.is_not(None))).all() == []
    )

    db.session.add(OutboxItem(topic=OutboxTopic.VERSION_EXTRACT, object_id=version_id))
    db.session.commit()
    indexing.drain()  # a repeated item finds the version stored: nothing is filed again
    assert len(seen) == 1


LIABILITY = (
    "Artikel 26 Aansprakelijkheid\n"
    "26.1 Leverancier is aansprakelijk voor directe schade door een toerekenbare tekortkoming.\n"
    "26.2 De aansprakelijkheid is beperkt tot het bedrag van de opdracht.\n"
    "Artikel 27 Overmacht\n"
    "Geen van de partijen is gehouden tot nakoming bij overmacht.\n"
)


def test_reindex_with_clauses_splits_stored_texts_again(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier("2025-021")
    with documents.receive(io.BytesIO(LIABILITY.encode()), "voorwaarden.txt") as upload:
        document = documents.file_document(admin, dossier, upload, kind=DocumentKind.CONTRACT)
    db.session.commit()
    indexing.drain()
    version_id, admin_id = document.current_version.id, admin.id
    version = db.session.get(DocumentVersion, version_id)
    # The clauses an earlier release stored: the bare heading of article 26 as a clause.
    old = [("26", "Aansprakelijkheid"), ("26.1", ""), ("26.2", ""), ("27", "Overmacht")]
    lines = LIABILITY.splitlines(keepends=True)
    version.clauses = [
        Clause(number=number, heading=heading, text=text, page=None, position=position)
        for position, ((number, heading), text) in enumerate(
            zip(old, [*lines[:3], "".join(lines[3:])], strict=True)
        )
    ]
    db.session.commit()
    assert indexing.rebuild() == 1

    def first_hit() -> tuple[str, str, str]:
        reader = db.session.get(User, admin_id)
        hit = searching.search(reader, "aansprakelijkheid", mode="clauses").result.hits[0]
        return hit.clause_number, hit.heading, hit.text

    assert first_hit() == ("26", "Aansprakelijkheid", "Artikel 26 Aansprakelijkheid\n")

    result = app.test_cli_runner().invoke(cli, ["reindex", "--clauses"])
    assert result.exit_code == 0, result.output
    assert "Splitting clauses" in result.stderr
    assert result.stdout.splitlines() == [
        "Clauses split again: 1 of 1 versions changed",
        "Index rebuilt: 1 documents",
    ]
    version = db.session.get(DocumentVersion, version_id)
    stored = [(c.position, c.number, c.heading, c.text) for c in version.clauses]
    assert stored == [
        (c.position, c.number, c.heading, c.text) for c in clauses.segment(version.text)
    ]
    assert [(number, heading) for _, number, heading, _ in stored] == [
        ("26", "Aansprakelijkheid"),
        ("26.2", ""),
        ("27", "Overmacht"),
    ]
    # The bare heading is gone: the best hit is clause text (26, or 26.2 under its heading).
    assert first_hit() in {
        ("26", "Aansprakelijkheid", "".join(lines[:2])),
        ("26.2", "Aansprakelijkheid", lines[2]),
    }

    again = app.test_cli_runner().invoke(cli, ["reindex", "--clauses"])
    assert again.exit_code == 0, again.output
    assert "Clauses split again: 0 of 1 versions changed" in again.stdout

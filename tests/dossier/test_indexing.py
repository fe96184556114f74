"""`dossier/indexing.py`: outbox topics are an enum, every topic has a worker stage that takes its
items out, and only an app set to index in a thread starts background indexing."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import create_app, documents, indexing
from dossier.extensions import db
from dossier.models import Document, DocumentKind, Dossier, OutboxItem, OutboxTopic, User
from tests.conftest import _config


def test_every_topic_belongs_to_exactly_one_stage() -> None:
    stages = [*indexing.EXTRACTION_TOPICS, *indexing.INDEX_TOPICS]
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
    }[topic]
    db.session.add(OutboxItem(topic=topic, object_id=object_id))
    db.session.commit()
    indexing.drain()
    left = db.session.scalars(sa.select(OutboxItem.topic)).all()
    assert left == []


def test_an_unknown_topic_is_refused_when_written(app: Flask) -> None:
    with pytest.raises(ValueError):
        OutboxItem(topic="document.reindex", object_id=1)


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

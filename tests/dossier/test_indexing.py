"""Outbox topics are an enum, and every topic has a worker stage that takes its items out."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import documents, indexing
from dossier.extensions import db
from dossier.models import Document, DocumentKind, Dossier, OutboxItem, OutboxTopic, User


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

"""What the tests of the application on the S3 blob store share: filing plain-text documents
and reaching the objects behind the store's back."""

from __future__ import annotations

import io

import sqlalchemy as sa

from dossier import documents
from dossier.extensions import db
from dossier.models import Document, DocumentKind, DocumentVersion, Dossier, User
from dossier.services import blob_store


def file_text(actor: User, dossier: Dossier, name: str, text: str) -> Document:
    """File a small text document and commit, as a view would."""
    with documents.receive(io.BytesIO(text.encode()), name) as upload:
        document = documents.file_document(actor, dossier, upload, kind=DocumentKind.OTHER)
    db.session.commit()
    return document


def blob_of(document: Document) -> str:
    key = db.session.scalar(
        sa.select(DocumentVersion.blob_key).where(DocumentVersion.document_id == document.id)
    )
    assert key is not None
    return key


def overwrite_object(key: str, data: bytes) -> None:
    """Replace the object behind a blob directly through boto3, as an intruder or a fault would."""
    store = blob_store()
    store.client.put_object(Bucket=store.bucket, Key=store.object_name(key), Body=data)  # type: ignore[attr-defined]


def delete_object(key: str) -> None:
    store = blob_store()
    store.client.delete_object(Bucket=store.bucket, Key=store.object_name(key))  # type: ignore[attr-defined]

"""Run one real Dossier operation in its own process, so a test can crash it at a named step.

Usage: python tests/system/crash_driver.py OPERATION [ARG]
The instance comes from DOSSIER_INSTANCE_PATH (and DOSSIER_DATABASE_URL for PostgreSQL), made
by `dossier init`; DOSSIER_CRASH_AT names the step at which the process dies.

Uploads go through the real web views (Flask's test client, logged in as the administrator),
so the views' own commit and crash points run; withdrawal has no view or command
yet and runs its domain function and one commit, as a command does (membership changes have
the real `dossier grant` and `dossier revoke`). `state` prints counts.
"""

from __future__ import annotations

import json
import sys

import sqlalchemy as sa
from flask_login import FlaskLoginClient

from dossier import create_app, documents, indexing
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Document,
    DocumentVersion,
    Dossier,
    GlobalRole,
    Membership,
    OutboxItem,
    User,
)

REFERENCE = "2025-001"


def _admin() -> User:
    return db.session.scalars(
        sa.select(User).where(User.global_role == GlobalRole.ADMIN).order_by(User.id)
    ).first()


def _dossier() -> Dossier:
    return db.session.scalars(sa.select(Dossier).where(Dossier.reference == REFERENCE)).one()


def _first_document() -> Document:
    return db.session.scalars(sa.select(Document).order_by(Document.id)).first()


def upload(path: str, endpoint: str) -> None:
    client = app.test_client(user=_admin())
    document = _first_document()
    url = f"/dossiers/{REFERENCE}/documents/new"
    if endpoint == "version":
        url = f"/dossiers/{REFERENCE}/documents/{document.id}/versions/new"
    with open(path, "rb") as handle:
        data = {"file": (handle, path.rsplit("/", 1)[-1]), "kind": "correspondence"}
        data |= {"confidentiality": "normal", "comment": "nieuwe versie"}
        response = client.post(url, data=data, content_type="multipart/form-data")
    print(json.dumps({"status": response.status_code}))


def withdraw() -> None:
    documents.withdraw(_admin(), _first_document(), "ingetrokken")
    db.session.commit()


def state() -> None:
    def count(model: type, *where: sa.ColumnElement[bool]) -> int:
        query = sa.select(sa.func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)
        return db.session.scalar(query) or 0

    print(
        json.dumps(
            {
                "documents": count(Document),
                "versions": count(DocumentVersion),
                "withdrawn": count(Document, Document.withdrawn_at.is_not(None)),
                "memberships": count(Membership),
                "audit": count(AuditEvent),
                "outbox": count(OutboxItem),
            }
        )
    )


if __name__ == "__main__":
    app = create_app()
    app.test_client_class = FlaskLoginClient
    operation, *args = sys.argv[1:]
    with app.app_context():
        {
            "file": lambda: upload(args[0], "file"),
            "version": lambda: upload(args[0], "version"),
            "withdraw": withdraw,
            "index": lambda: indexing.drain(),
            "state": state,
        }[operation]()

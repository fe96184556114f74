"""Downloading selected documents as one zip: every selected document readable, or nothing at
all, with a message saying so (SECURITY.md: bulk requests mixing allowed and forbidden ids)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import documents, dossiers, memberships
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Confidentiality,
    DocumentKind,
    Dossier,
    GlobalRole,
    MemberRole,
    User,
)


def _file(actor: User, dossier: Dossier, name: str, body: bytes, **options: object) -> int:
    with documents.receive(io.BytesIO(body), name) as upload:
        document = documents.file_document(
            actor, dossier, upload, kind=DocumentKind.OTHER, **options
        )
    return document.id


@pytest.fixture
def world(app: Flask, make_user: Callable[..., User]) -> dict[str, object]:
    bea = make_user("bea@example.org", GlobalRole.BEHEERDER)
    keeper = make_user("keeper@example.org", GlobalRole.BEHEERDER)
    reader = make_user("reader@example.org")
    mine = dossiers.create_dossier(bea, {"reference": "2025-001", "title": "Schoonmaak"})
    theirs = dossiers.create_dossier(keeper, {"reference": "2025-002", "title": "Catering"})
    memberships.set_role(bea, mine, reader, MemberRole.READER)
    ids = {
        "a": _file(bea, mine, "../../etc/passwd.txt", b"first\n"),
        "b": _file(bea, mine, "brief\r\nX-Evil: 1.txt", b"second\n"),
        "secret": _file(
            bea, mine, "prijzen.txt", b"prices\n", confidentiality=Confidentiality.CONFIDENTIAL
        ),
        "foreign": _file(keeper, theirs, "catering.txt", b"foreign\n"),
    }
    db.session.commit()
    return {"bea": bea, "reader": reader, **ids}


def _post(app: Flask, user: User, ids: list[object]) -> object:
    return app.test_client(user=user).post(
        "/dossiers/2025-001/documents/download", data={"ids": [str(i) for i in ids]}
    )


def test_all_readable_documents_come_in_one_zip(app: Flask, world: dict) -> None:
    response = _post(app, world["reader"], [world["a"], world["b"]])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment")
    body = response.get_data()
    response.close()  # the archive is a temporary file, closed with the response
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        assert sorted(archive.read(n) for n in names) == [b"first\n", b"second\n"]
    assert all("/" not in n and "\\" not in n and "\r" not in n and "\n" not in n for n in names)
    assert names[0] == f"{world['a']}-passwd.txt"


@pytest.mark.parametrize("intruder", ["foreign", "secret", "missing"])
def test_a_selection_with_one_unreadable_document_downloads_nothing(
    app: Flask, world: dict, intruder: str
) -> None:
    reads = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    other = world.get(intruder, 999_999)
    client = app.test_client(user=world["reader"])
    response = client.post(
        "/dossiers/2025-001/documents/download", data={"ids": [world["a"], other]}
    )
    assert response.status_code == 303
    assert response.headers["Content-Type"].startswith("text/html")
    page = client.get(response.headers["Location"]).text
    assert "1" in page and ("Nothing was downloaded" in page or "Er is niets gedownload" in page)
    assert "prijzen" not in page and "catering" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == reads


def test_the_beheerder_gets_confidential_ones_and_the_read_is_logged(
    app: Flask, world: dict
) -> None:
    response = _post(app, world["bea"], [world["a"], world["secret"]])
    assert response.status_code == 200
    response.close()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "version.read"))
    assert event is not None and event.actor_id == world["bea"].id


@pytest.mark.parametrize("ids", [[], ["abc"], ["1;2"], [str(n) for n in range(1, 150)]])
def test_bad_selections_are_refused_plainly(app: Flask, world: dict, ids: list[str]) -> None:
    response = _post(app, world["reader"], ids)
    assert response.status_code in (303, 400)
    assert response.headers["Content-Type"].startswith("text/html")

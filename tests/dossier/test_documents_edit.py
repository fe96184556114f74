"""Correcting a filed document's details: who may, what is audited, stale forms, the index."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import documents, indexing, searching
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Confidentiality,
    Document,
    DocumentKind,
    Dossier,
    MemberRole,
    OutboxItem,
    User,
)


def _file(actor: User, dossier: Dossier, kind: DocumentKind, name: str) -> Document:
    text = f"Geachte heer,\nDit is {name} over de schoonmaak.\n".encode()
    with documents.receive(io.BytesIO(text), f"{name}.txt") as upload:
        document = documents.file_document(actor, dossier, upload, kind=kind, title=name)
    db.session.commit()
    return document


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        role: make_user(f"{role}@example.org")
        for role in ("beheerder", "manager", "reader", "owner")
    }


@pytest.fixture
def dossier(make_dossier: Callable[..., Dossier], people: dict[str, User]) -> Dossier:
    return make_dossier(
        "2025-300",
        members={
            people["beheerder"]: MemberRole.BEHEERDER,
            people["manager"]: MemberRole.MANAGER,
            people["reader"]: MemberRole.READER,
            people["owner"]: MemberRole.OWNER,
        },
    )


def _url(dossier: Dossier, document: Document) -> str:
    return f"/dossiers/{dossier.reference}/documents/{document.id}/edit"


def _token(text: str) -> str:
    return re.search(r'name="token" type="hidden" value="([0-9a-f]+)"', text).group(1)


def _events() -> list[AuditEvent]:
    query = sa.select(AuditEvent).where(AuditEvent.action == "document.update")
    return list(db.session.scalars(query.order_by(AuditEvent.id)))


def test_the_beheerder_corrects_every_detail_audited_and_reindexed(
    app: Flask, dossier: Dossier, people: dict[str, User]
) -> None:
    beheerder = people["beheerder"]
    document = _file(beheerder, dossier, DocumentKind.OTHER, "scan-0042")
    indexing.drain()
    client = app.test_client(user=beheerder)
    page = client.get(_url(dossier, document))
    assert page.status_code == 200 and "Details bewerken" in page.text
    response = client.post(
        _url(dossier, document),
        data={
            "token": _token(page.text),
            "kind": "contract",
            "title": "Raamovereenkomst schoonmaak",
            "document_date": "2025-03-01",
            "direction": "incoming",
            "correspondent": "Schoon B.V.",
            "confidentiality": "confidential",
        },
    )
    assert response.status_code == 302, response.text
    db.session.refresh(document)
    assert (document.kind, document.title, document.document_date) == (
        DocumentKind.CONTRACT,
        "Raamovereenkomst schoonmaak",
        date(2025, 3, 1),
    )
    assert document.confidentiality == Confidentiality.CONFIDENTIAL
    assert document.correspondent == "Schoon B.V."
    [event] = _events()
    assert event.actor_id == beheerder.id
    assert event.before == {
        "kind": "other",
        "title": "scan-0042",
        "document_date": None,
        "direction": None,
        "correspondent": "",
        "confidentiality": "normal",
    }
    assert event.after["kind"] == "contract" and event.after["document_date"] == "2025-03-01"
    topics = db.session.scalars(sa.select(OutboxItem.topic))
    assert "document.index" in set(topics)
    indexing.drain()
    found = searching.search(beheerder, "schoonmaak", mode="documents")
    assert [hit.document_id for hit in found.result.hits] == [document.id]
    assert (found.result.hits[0].kind, found.result.hits[0].title) == (
        "contract",
        "Raamovereenkomst schoonmaak",
    )
    # Saving again without a change records nothing.
    again = client.get(_url(dossier, document))
    client.post(
        _url(dossier, document),
        data={
            "token": _token(again.text),
            "kind": "contract",
            "title": "Raamovereenkomst schoonmaak",
            "document_date": "2025-03-01",
            "direction": "incoming",
            "correspondent": "Schoon B.V.",
            "confidentiality": "confidential",
        },
    )
    assert len(_events()) == 1


def test_a_stale_form_is_refused(app: Flask, dossier: Dossier, people: dict[str, User]) -> None:
    beheerder = people["beheerder"]
    document = _file(beheerder, dossier, DocumentKind.OTHER, "brief")
    client = app.test_client(user=beheerder)
    token = _token(client.get(_url(dossier, document)).text)
    base = {"kind": "other", "confidentiality": "normal", "token": token}
    assert client.post(_url(dossier, document), data=base | {"title": "Eerste"}).status_code == 302
    stale = client.post(_url(dossier, document), data=base | {"title": "Tweede"})
    assert stale.status_code == 400
    assert "iemand anders" in stale.text.lower()
    db.session.refresh(document)
    assert document.title == "Eerste"
    assert len(_events()) == 1


def test_a_manager_edits_only_manager_kinds_and_never_confidentiality(
    app: Flask, dossier: Dossier, people: dict[str, User]
) -> None:
    manager = people["manager"]
    letter = _file(people["beheerder"], dossier, DocumentKind.CORRESPONDENCE, "brief")
    contract = _file(people["beheerder"], dossier, DocumentKind.CONTRACT, "contract")
    client = app.test_client(user=manager)
    page = client.get(_url(dossier, letter))
    assert page.status_code == 200
    assert 'value="contract"' not in page.text  # kinds a manager may not file are not offered
    ok = {"kind": "minutes", "title": "Verslag", "confidentiality": "normal"}
    assert client.post(_url(dossier, letter), data=ok).status_code == 302
    db.session.refresh(letter)
    assert letter.kind == DocumentKind.MINUTES
    for refused in ({"kind": "contract"}, {"confidentiality": "confidential"}):
        response = client.post(_url(dossier, letter), data=ok | refused)
        assert response.status_code in (400, 403)
    db.session.refresh(letter)
    assert (letter.kind, letter.confidentiality) == (DocumentKind.MINUTES, Confidentiality.NORMAL)
    # A contract is not the manager's to change at all.
    assert client.get(_url(dossier, contract)).status_code == 403
    assert client.post(_url(dossier, contract), data=ok).status_code == 403
    db.session.refresh(contract)
    assert contract.kind == DocumentKind.CONTRACT and contract.title == "contract"


@pytest.mark.parametrize("role", ["reader", "owner"])
def test_readers_and_owners_cannot_edit(
    app: Flask, dossier: Dossier, people: dict[str, User], role: str
) -> None:
    document = _file(people["beheerder"], dossier, DocumentKind.CORRESPONDENCE, "brief")
    client = app.test_client(user=people[role])
    assert client.get(_url(dossier, document)).status_code == 403
    data = {"kind": "other", "title": "Gewijzigd", "confidentiality": "normal"}
    assert client.post(_url(dossier, document), data=data).status_code == 403
    assert (
        "Details bewerken"
        not in client.get(f"/dossiers/{dossier.reference}/documents/{document.id}").text
    )
    db.session.refresh(document)
    assert document.title == "brief" and _events() == []


def _withdraw_url(dossier: Dossier, document: Document) -> str:
    return f"/dossiers/{dossier.reference}/documents/{document.id}/withdraw"


def test_the_beheerder_withdraws_a_document_with_a_reason(
    app: Flask, dossier: Dossier, people: dict[str, User]
) -> None:
    beheerder = people["beheerder"]
    document = _file(beheerder, dossier, DocumentKind.CORRESPONDENCE, "dubbele-brief")
    indexing.drain()
    assert searching.search(beheerder, "dubbele", mode="documents").result.total == 1
    client = app.test_client(user=beheerder)
    page = client.get(_url(dossier, document))
    assert "Dit document intrekken" in page.text

    # No reason: refused with a message, nothing changes.
    empty = client.post(_withdraw_url(dossier, document), data={"reason": "  "})
    assert empty.status_code == 400 and "Dit document intrekken" in empty.text
    db.session.refresh(document)
    assert document.withdrawn_at is None

    done = client.post(_withdraw_url(dossier, document), data={"reason": "Dubbel ingediend"})
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/dossiers/{dossier.reference}")
    db.session.refresh(document)
    assert document.withdrawn_at is not None
    assert client.get(f"/dossiers/{dossier.reference}/documents/{document.id}").status_code == 404
    assert "dubbele-brief" not in client.get(f"/dossiers/{dossier.reference}").text
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "document.withdraw"))
    assert event.actor_id == beheerder.id and event.after == {"reason": "Dubbel ingediend"}
    indexing.drain()
    assert searching.search(beheerder, "dubbele", mode="documents").result.total == 0
    # Its versions stay stored.
    assert document.versions and all(version.blob_key for version in document.versions)


@pytest.mark.parametrize("role", ["manager", "owner", "reader"])
def test_only_the_beheerder_may_withdraw(
    app: Flask, dossier: Dossier, people: dict[str, User], role: str
) -> None:
    document = _file(people["beheerder"], dossier, DocumentKind.CORRESPONDENCE, "brief")
    client = app.test_client(user=people[role])
    if role == "manager":
        assert "Dit document intrekken" not in client.get(_url(dossier, document)).text
    refused = client.post(_withdraw_url(dossier, document), data={"reason": "weg ermee"})
    assert refused.status_code == 403
    db.session.refresh(document)
    assert document.withdrawn_at is None

"""Filed e-mails end to end: their headers fill the blank details, their attachments are filed
linked to them, and a message's confidentiality carries to its attachments whenever it is set."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import documents, indexing, searching
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Confidentiality,
    Direction,
    Document,
    DocumentKind,
    Dossier,
    MemberRole,
    User,
)

CANARY = "zwartekraai"
SUBJECT = "Verlenging \u202econtract 2025-040 <script>"


def _message(
    sender: str = "Jan Jansen <jan@leverancier.nl>",
    to: str = "admin@example.org",
    subject: str = SUBJECT,
    forwarded: EmailMessage | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Tue, 04 Mar 2025 23:15:00 +0100"
    message.set_content("Beste beheerder,\n\nHierbij de offerte en de factuur.\n")
    message.add_attachment(
        f"Offerte voor de verlenging: {CANARY} tarief.\n".encode(),
        maintype="text",
        subtype="plain",
        filename="offerte.txt",
    )
    message.add_attachment(
        b"Factuurbedrag 1200 euro.\n", maintype="text", subtype="plain", filename="Factuur 12.txt"
    )
    if forwarded is not None:
        message.add_attachment(forwarded)
    return bytes(message)


def _upload(client: FlaskClient, reference: str, data: bytes, **fields: str) -> Document:
    response = client.post(
        f"/dossiers/{reference}/documents/new",
        data={
            "file": (io.BytesIO(data), "bericht.eml"),
            "kind": "correspondence",
            "confidentiality": "normal",
            **fields,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.text
    document_id = int(response.headers["Location"].rsplit("/", 1)[1])
    indexing.drain()
    document = db.session.get(Document, document_id)
    assert document is not None
    db.session.refresh(document)
    return document


def _attachments(message: Document) -> dict[str, Document]:
    children = db.session.scalars(
        sa.select(Document).where(Document.parent_id == message.id).order_by(Document.id)
    )
    return {child.current_version.original_filename: child for child in children}


def test_an_email_is_filed_with_its_subject_date_and_sender(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-040")
    message = _upload(app.test_client(user=admin), "2025-040", _message())

    assert message.title == "Verlenging contract 2025-040 <script>"  # no right-to-left override
    assert message.document_date == date(2025, 3, 4)  # the sender's day
    assert message.correspondent == "Jan Jansen <jan@leverancier.nl>"
    assert message.direction == Direction.INCOMING  # sent to a user of this system
    assert message.kind == DocumentKind.CORRESPONDENCE


def test_what_the_filer_typed_is_never_replaced(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-041")
    message = _upload(
        app.test_client(user=admin),
        "2025-041",
        _message(),
        title="Mijn eigen titel",
        document_date="2025-01-02",
        correspondent="Leverancier B.V.",
        direction="internal",
    )
    assert message.title == "Mijn eigen titel"
    assert message.document_date == date(2025, 1, 2)
    assert message.correspondent == "Leverancier B.V."
    assert message.direction == Direction.INTERNAL


def test_an_email_sent_by_a_user_is_outgoing_to_its_addressee(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-042")
    data = _message(sender="Ada Admin <ADMIN@example.org>", to="Jan Jansen <jan@leverancier.nl>")
    message = _upload(app.test_client(user=admin), "2025-042", data)
    assert message.direction == Direction.OUTGOING
    assert message.correspondent == "Jan Jansen <jan@leverancier.nl>"


def test_attachments_are_linked_to_their_message_both_ways(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-043")
    client = app.test_client(user=admin)
    message = _upload(client, "2025-043", _message())

    attachments = _attachments(message)
    assert set(attachments) == {"offerte.txt", "Factuur 12.txt"}
    offer, invoice = attachments["offerte.txt"], attachments["Factuur 12.txt"]
    assert offer.kind == DocumentKind.CORRESPONDENCE  # part of the correspondence
    assert invoice.kind == DocumentKind.INVOICE  # its name says what it is
    assert offer.document_date == message.document_date == date(2025, 3, 4)
    assert offer.correspondent == message.correspondent
    comment = offer.current_version.comment
    assert comment == 'Bijlage bij e-mail "Verlenging contract 2025-040 <script>"'

    page = client.get(f"/dossiers/2025-043/documents/{message.id}").text
    assert "Bijlagen" in page
    for attachment in (offer, invoice):
        assert f'href="/dossiers/2025-043/documents/{attachment.id}"' in page
    back = client.get(f"/dossiers/2025-043/documents/{offer.id}").text
    assert "Bijlage bij e-mail" in back
    assert f'href="/dossiers/2025-043/documents/{message.id}"' in back
    assert "&lt;script&gt;" in back and "<script>" not in back.split("</head>")[1]


def _status(client: FlaskClient, url: str) -> int:
    response = client.get(url)
    response.get_data()
    response.close()
    return response.status_code


def _hits(user: User, word: str) -> int:
    return searching.search(user, word).result.total


def _edit(client: FlaskClient, document: Document, **changes: str) -> int:
    values = documents.metadata_snapshot(document)
    data = {
        "token": documents.edit_token(document),
        "kind": values["kind"],
        "title": values["title"],
        "document_date": values["document_date"] or "",
        "direction": values["direction"] or "",
        "correspondent": values["correspondent"],
        "confidentiality": values["confidentiality"],
        **changes,
    }
    reference = document.dossier.reference
    return client.post(f"/dossiers/{reference}/documents/{document.id}/edit", data=data).status_code


def test_a_message_made_confidential_later_takes_its_attachments_along(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> None:
    reader = make_user("lezer@example.org")
    make_dossier("2025-044", members={reader: MemberRole.READER})
    beheerder = app.test_client(user=admin)
    inner = EmailMessage()
    inner["From"], inner["To"], inner["Subject"] = "a@leverancier.nl", "b@example.org", "Eerder"
    inner.set_content("Doorgestuurd bericht.\n")
    inner.add_attachment(
        f"Oude offerte {CANARY}.\n".encode(), maintype="text", subtype="plain", filename="oud.txt"
    )
    message = _upload(beheerder, "2025-044", _message(forwarded=inner))
    offer = _attachments(message)["offerte.txt"]
    forwarded = next(
        d
        for d in _attachments(message).values()
        if d.kind != DocumentKind.INVOICE and d.id != offer.id
    )
    nested = _attachments(forwarded)["oud.txt"]
    plain = app.test_client(user=reader)
    download = f"/dossiers/2025-044/documents/{offer.id}/versions/1/download"
    assert _status(plain, download) == 200  # normal for now: the reader reads it
    assert _hits(reader, CANARY) == 2

    assert _edit(beheerder, message, confidentiality="confidential") == 302

    db.session.expire_all()
    assert {d.confidentiality for d in (offer, forwarded, nested)} == {Confidentiality.CONFIDENTIAL}
    assert _status(plain, download) == 404
    assert plain.get(f"/dossiers/2025-044/documents/{nested.id}").status_code == 404
    indexing.drain()
    assert _hits(reader, CANARY) == 0
    results = plain.get(f"/search?q={CANARY}").text
    assert f"/documents/{offer.id}" not in results and f"/documents/{nested.id}" not in results
    assert _hits(admin, CANARY) == 2
    # An attachment cannot be made normal while its message is confidential.
    assert _edit(beheerder, offer, confidentiality="normal") == 400
    db.session.expire_all()
    assert offer.is_confidential


def test_attachments_filed_after_the_message_became_confidential_are_confidential(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> None:
    reader = make_user("lezer@example.org")
    dossier = make_dossier("2025-045", members={reader: MemberRole.READER})
    with documents.receive(io.BytesIO(_message()), "bericht.eml") as upload:
        message = documents.file_document(admin, dossier, upload, kind=DocumentKind.CORRESPONDENCE)
    db.session.commit()
    documents.update_metadata(
        admin,
        message,
        documents.metadata_snapshot(message)
        | {
            "kind": DocumentKind.CORRESPONDENCE,
            "direction": None,
            "document_date": None,
            "confidentiality": Confidentiality.CONFIDENTIAL,
        },
    )
    db.session.commit()
    indexing.drain()  # extraction files the attachments now
    attachments = _attachments(message)
    assert len(attachments) == 2
    assert all(a.is_confidential for a in attachments.values())
    assert _hits(reader, CANARY) == 0


def test_init_carries_confidentiality_to_attachments_filed_before_it_was_carried(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    from dossier.cli import cli

    make_dossier("2025-046")
    message = _upload(app.test_client(user=admin), "2025-046", _message())
    offer = _attachments(message)["offerte.txt"]
    # What an older version left behind: the message confidential, its attachments not.
    db.session.execute(
        sa.update(Document)
        .where(Document.id == message.id)
        .values(confidentiality=Confidentiality.CONFIDENTIAL)
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert "2 attachments of confidential e-mails made confidential" in result.output
    db.session.expire_all()
    assert offer.is_confidential
    event = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.object_id == offer.id, AuditEvent.action == "document.update")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None and event.actor_label == "system"
    again = app.test_cli_runner().invoke(cli, ["init"])
    assert "made confidential" not in again.output


def _file(client: FlaskClient, reference: str, data: bytes, name: str, **fields: str) -> Any:
    """Post the upload form as a browser does with the kind left at the form's default."""
    return client.post(
        f"/dossiers/{reference}/documents/new",
        data={"file": (io.BytesIO(data), name), "kind": "auto", "confidentiality": "normal"}
        | fields,
        content_type="multipart/form-data",
    )


def _filed(response: Any) -> Document:
    assert response.status_code == 302, response.text
    indexing.drain()  # extraction files the attachments
    document = db.session.get(Document, int(response.headers["Location"].rsplit("/", 1)[1]))
    assert document is not None
    db.session.refresh(document)
    return document


def test_the_upload_form_leaves_the_kind_to_the_file_by_default(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-050")
    form = app.test_client(user=admin).get("/dossiers/2025-050/documents/new").text
    options = re.findall(r"<option[^>]*>[^<]*</option>", form.split('id="kind"')[1])
    assert 'value="auto"' in options[0] and "selected" in options[0]
    assert ">Automatisch</option>" in options[0]
    assert "een e-mail (.eml, .msg) wordt correspondentie; andere bestanden" in form


def test_an_uploaded_email_is_correspondence_with_its_attachments(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], corpus: Path
) -> None:
    """A real .eml with a PDF attached, its kind left to the form's default: the message is
    correspondence, and so is the attachment, whose name says no kind of its own."""
    make_dossier("2025-051")
    eml = corpus / "eml" / "emails_attachment_emails_attachment_pdf.eml"
    client = app.test_client(user=admin)
    message = _filed(_file(client, "2025-051", eml.read_bytes(), eml.name))
    assert message.kind == DocumentKind.CORRESPONDENCE
    attachments = _attachments(message)
    assert list(attachments) == ["broken.pdf"]
    assert attachments["broken.pdf"].kind == DocumentKind.CORRESPONDENCE

    # Any other file gets the kind its name gives, as `dossier import` does, else "other".
    contract = _filed(_file(client, "2025-051", b"Overeenkomst.\n", "Overeenkomst ICT.txt"))
    assert contract.kind == DocumentKind.CONTRACT
    annex = _filed(_file(client, "2025-051", b"Prijzen.\n", "Bijlage 6 - Prijzenblad.txt"))
    assert annex.kind == DocumentKind.ANNEX
    other = _filed(_file(client, "2025-051", b"Afspraken.\n", "afspraken.txt"))
    assert other.kind == DocumentKind.OTHER
    # A client that sends no kind at all gets the same.
    response = client.post(
        "/dossiers/2025-051/documents/new",
        data={
            "file": (io.BytesIO(eml.read_bytes()), "zonder-soort.eml"),
            "confidentiality": "normal",
        },
        content_type="multipart/form-data",
    )
    assert _filed(response).kind == DocumentKind.CORRESPONDENCE


def test_a_kind_chosen_for_an_email_is_kept_and_its_attachments_follow_it(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-052")
    client = app.test_client(user=admin)
    message = _filed(_file(client, "2025-052", _message(), "overleg.eml", kind="minutes"))
    assert message.kind == DocumentKind.MINUTES
    attachments = _attachments(message)
    assert attachments["offerte.txt"].kind == DocumentKind.MINUTES  # the message's kind
    assert attachments["Factuur 12.txt"].kind == DocumentKind.INVOICE  # its name says so
    contract = _filed(_file(client, "2025-052", _message(), "getekend.eml", kind="contract"))
    assert contract.kind == DocumentKind.CONTRACT


def test_a_manager_is_asked_to_choose_a_kind_the_file_does_not_give(
    app: Flask,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> None:
    """A contract manager files correspondence and minutes only: an e-mail left to the form's
    default is filed, any other file is refused with a message, not a bare 403."""
    manager = make_user("manager@example.org")
    make_dossier("2025-053", members={manager: MemberRole.MANAGER})
    client = app.test_client(user=manager)
    assert _filed(_file(client, "2025-053", _message(), "bericht.eml")).kind == (
        DocumentKind.CORRESPONDENCE
    )
    refused = _file(client, "2025-053", b"Overeenkomst.\n", "overeenkomst.txt")
    assert refused.status_code == 400
    assert "geen document van de soort contract" in refused.text
    assert "kies de soort document" in refused.text
    assert "overeenkomst" not in set(db.session.scalars(sa.select(Document.title)))


def test_a_refused_attachment_is_listed_on_the_message_with_its_reason_in_dutch(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """A program posing as a PDF inside an e-mail is not filed; the message says so, in the
    installation's language, instead of only the audit trail knowing (in English)."""
    make_dossier("2025-054")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@b.nl", "c@d.nl", "Offerte"
    message.set_content("Zie bijlage.\n")
    program = b"MZ\x90\x00" + b"\x00" * 200
    message.add_attachment(program, maintype="application", subtype="pdf", filename="Offerte.pdf")
    client = app.test_client(user=admin)
    filed = _filed(_file(client, "2025-054", bytes(message), "offerte.eml"))
    assert _attachments(filed) == {}
    page = client.get(f"/dossiers/2025-054/documents/{filed.id}").text
    assert "Niet toegevoegd:" in page and "Offerte.pdf" in page
    assert "De bestandsnaam eindigt op .pdf" in page and "The file name says" not in page

"""E-mail messages as documents: what their headers say, and the attachments they carry.

When a filed .eml or .msg has been extracted, its Subject, Date, From and To fill the title,
document date, correspondent and direction that the filer left blank (a typed value is never
replaced), and each attachment is filed as a document of its own, linked to the message and
as confidential as the message is at that moment.

Where this runs: extraction (`ingest.extract`) only returns the attachments, as files in the
extraction's scratch folder with their names and sizes; the indexing stage stores text and
clauses and never files; `file_from_extraction` is the filing step the application factory
hands to `dossier.indexing`, which calls it right after it stored a version's text, in the
same transaction. That keeps every guarantee of filing in one commit: the version leaves
"pending" (under its row lock), its attachments become documents (each refusal audited) and
its outbox item goes, all together or not at all, so a retry or a second worker files each
attachment exactly once and a crash at any step refiles from a fresh extraction; the scratch
folder is removed once this returns, whatever happened. A separate outbox topic ("file the
attachments of version N") was the other choice, and it would have had to keep the attachment
bytes somewhere durable between the two commits: the scratch folder is one node's disk (another
worker has no copy, and start-up recovery removes it), the blob store would keep the bytes of
refused attachments as orphans that `dossier verify` reports, and extracting the message a
second time doubles the slowest step.
"""

from __future__ import annotations

from datetime import date, datetime
from email.utils import getaddresses
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from dossier import access, audit, documents, importer
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    AuditEvent,
    Direction,
    Document,
    DocumentKind,
    DocumentVersion,
    OutboxItem,
    OutboxTopic,
    User,
)
from dossier.text import clean_line
from ingest.extract import Attachment, Extraction

MAIL_KINDS = frozenset({"eml", "msg"})


def automatic_kind(upload: documents.Upload) -> DocumentKind:
    """The kind of a document whose filer left it to the file: an e-mail (by its detected
    type, .eml or .msg) is correspondence; any other file gets the kind its name gives, as
    `dossier import` does ("Overeenkomst ...": contract, "Bijlage 3 ...": annex), else other."""
    if upload.file_type.kind in MAIL_KINDS:
        return DocumentKind.CORRESPONDENCE
    return importer.guess_kind(Path(upload.filename))


def file_from_extraction(version: DocumentVersion, result: Extraction) -> None:
    """Fill a message's blank details from its headers, then file its attachments (the
    filing step of `dossier.indexing`: flushes, never commits)."""
    if version.file_kind not in MAIL_KINDS and not result.attachments:
        return
    # The row lock orders this after (or before) an edit of the message, so attachments
    # filed now see the confidentiality a concurrent edit gives it.
    documents.lock(version.document)
    if version.file_kind in MAIL_KINDS:
        fill_from_headers(version.document, result.metadata)
    file_attachments(version, result.attachments)


def fill_from_headers(document: Document, headers: dict[str, str]) -> dict[str, object]:
    """Title (Subject), document date (Date), direction and correspondent (From, To) where
    they are blank; returns the fields filled. A title is blank when it is the file name the
    document got by default."""
    direction = _direction(headers)
    found: dict[str, object] = {
        "title": clean_line(headers.get("subject"))[:255],
        "document_date": _header_date(headers.get("date", "")),
        "direction": direction,
        "correspondent": _correspondent(headers, direction),
    }
    blank = {
        "title": _has_default_title(document),
        "document_date": document.document_date is None,
        "direction": document.direction is None,
        "correspondent": not document.correspondent,
    }
    filled = {name: value for name, value in found.items() if value and blank[name]}
    if not filled:
        return filled
    before = documents.metadata_snapshot(document)
    for name, value in filled.items():
        setattr(document, name, value)
    after = documents.metadata_snapshot(document)
    audit.record(
        None,
        AuditAction.DOCUMENT_UPDATE,
        "document",
        document.id,
        dossier_id=document.dossier_id,
        before={name: before[name] for name in filled},
        after={name: after[name] for name in filled},
    )
    db.session.add(OutboxItem(topic=OutboxTopic.DOCUMENT_INDEX, object_id=document.id))
    db.session.flush()
    return filled


def _has_default_title(document: Document) -> bool:
    defaults = {documents.default_title(v.original_filename) for v in document.versions}
    return document.title in defaults


def _header_date(value: str) -> date | None:
    """The day of the Date header (the extractor gives it in ISO 8601), in its own time zone."""
    try:
        return datetime.fromisoformat(value.strip()).date()
    except ValueError:
        return None


def _addresses(value: str | None) -> list[tuple[str, str]]:
    """(name, lower-case address) pairs of an address header; malformed entries are left out."""
    return [
        (clean_line(name), address.lower())
        for name, address in getaddresses([value or ""])
        if "@" in address
    ]


def _direction(headers: dict[str, str]) -> Direction | None:
    """Outgoing when a user of this system sent it, incoming when one received it, internal
    when all of sender and recipients are users; None when no address is known here."""
    senders = [a for _n, a in _addresses(headers.get("from"))]
    recipients = [a for _n, a in _addresses(headers.get("to")) + _addresses(headers.get("cc"))]
    everyone = set(senders + recipients)
    if not everyone:
        return None
    known = set(
        db.session.scalars(
            sa.select(sa.func.lower(User.email)).where(sa.func.lower(User.email).in_(everyone))
        )
    )
    if senders and senders[0] in known:
        if recipients and known.issuperset(recipients):
            return Direction.INTERNAL
        return Direction.OUTGOING
    return Direction.INCOMING if known.intersection(recipients) else None


def _correspondent(headers: dict[str, str], direction: Direction | None) -> str:
    """The other party: the first addressee of outgoing mail, else the sender."""
    if direction == Direction.OUTGOING:
        addressees = _addresses(headers.get("to"))
        if addressees:
            name, address = addressees[0]
            return (f"{name} <{address}>" if name else address)[:255]
    return clean_line(headers.get("from"))[:255]


def file_attachments(version: DocumentVersion, attachments: list[Attachment]) -> list[Document]:
    """File each attachment as a document linked to the message; a refused one is audited.

    The attachment takes the message's confidentiality and date (and, when it is
    correspondence itself, its direction and correspondent).
    """
    message = version.document
    uploader = db.session.get(User, version.uploaded_by_id) if version.uploaded_by_id else None
    if uploader is None or not attachments:
        return []
    comment = attachment_comment(message)
    # A refusal's reason is stored in the installation's language, as the comment is: this
    # runs in a worker or after the request, where no user's language applies.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        filed = [_file_attachment(uploader, version, a, comment) for a in attachments]
    return [document for document in filed if document is not None]


def _file_attachment(
    uploader: User, version: DocumentVersion, attachment: Attachment, comment: str
) -> Document | None:
    """File one attachment, or audit why it was refused (and return None)."""
    message = version.document
    try:
        with (
            open(attachment.path, "rb") as stream,
            documents.receive(stream, clean_line(attachment.filename)) as upload,
        ):
            kind = _attachment_kind(uploader, message, upload.filename)
            mail_details = kind == DocumentKind.CORRESPONDENCE
            return documents.file_document(
                uploader,
                message.dossier,
                upload,
                kind=kind,
                document_date=message.document_date,
                direction=message.direction if mail_details else None,
                correspondent=message.correspondent if mail_details else "",
                confidentiality=message.confidentiality,
                comment=comment,
                parent=message,
            )
    except DomainError as exc:
        audit.record(
            uploader,
            AuditAction.ATTACHMENT_REFUSED,
            "version",
            version.id,
            dossier_id=message.dossier_id,
            after={"filename": clean_line(attachment.filename)[:255], "reason": str(exc)},
        )
        return None


def refused_attachments(document: Document) -> list[tuple[str, str]]:
    """The attachments of a message that were not filed: (file name, reason), oldest first."""
    versions = sa.select(DocumentVersion.id).where(DocumentVersion.document_id == document.id)
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(
            AuditEvent.action == AuditAction.ATTACHMENT_REFUSED,
            AuditEvent.object_type == "version",
            AuditEvent.object_id.in_(versions),
        )
        .order_by(AuditEvent.id)
    )
    return [
        (str(e.after.get("filename", "")), str(e.after.get("reason", "")))
        for e in events
        if e.after
    ]


def attachment_comment(message: Document) -> str:
    """The version comment of an attachment, in the installation's language (it is stored)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _('Attachment to the e-mail "%(subject)s"', subject=message.title)[:2000]


def _attachment_kind(uploader: User, message: Document, filename: str) -> DocumentKind:
    """The kind its name says (an invoice, a contract) when the uploader may file that kind;
    otherwise the message's own kind: an attachment is part of the correspondence."""
    guessed = importer.guess_kind(Path(filename))
    if guessed != DocumentKind.OTHER and access.can_file(uploader, message.dossier, guessed):
        return guessed
    return message.kind

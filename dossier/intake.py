"""The intake queue and the rules both intakes (mail, watched folder) file by.

A mail is filed into the dossier its plus-address or its subject names; a file into the dossier
its subfolder is named after. What cannot be matched, or whose dossier the intake user may not
file into, waits in the queue (`IntakeItem`, status queued, its bytes kept in the database so any
web node can file it) until a beheerder assigns it to a dossier or discards it. Everything goes
through `documents.receive` and `documents.file_document`, so the type checks and refusals of an
upload apply, and an e-mail's attachments are filed as children by the indexing pipeline.

Matching a reference (it never misfires on dates): a plus-address tag in To, Cc, Delivered-To
or X-Original-To (`contracten+2023-014@...`), or in the subject either a reference in square
brackets (`[2023-014]`) or one right after the word "dossier" (`dossier 2023-014`,
`Dossier: 2023-014`, `dossiernummer 2023-014`). A bare `2023-014` or a date elsewhere in the
subject is never read as a reference, and a candidate counts only when a dossier with exactly
that reference (ignoring case) exists; a tag or bracket that names no dossier queues the mail.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email import policy
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from dossier import access, audit, documents, messages
from dossier.errors import DomainError, UploadRefused
from dossier.extensions import db
from dossier.models import (
    AuditAction,
    Document,
    DocumentKind,
    Dossier,
    DossierStatus,
    IntakeItem,
    IntakeSource,
    IntakeStatus,
    User,
    utcnow,
)
from dossier.text import clean_line
from ingest.detect import EML_MAX_HEADER_BYTES, EML_MAX_HEADERS

_REF = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_PLUS_TAG = re.compile(rf"^[^+@\s]+\+({_REF})@", re.IGNORECASE)
_SUBJECT_BRACKET = re.compile(rf"\[\s*({_REF})\s*\]")
_SUBJECT_WORD = re.compile(rf"\bdossier(?:nummer|nr\.?)?\s*[:#]?\s*({_REF})", re.IGNORECASE)
ADDRESS_HEADERS = ("to", "cc", "delivered-to", "x-original-to")


@dataclass(frozen=True)
class Match:
    """The dossier a mail or file belongs to, or None with the reason (installation language)."""

    dossier: Dossier | None
    reason: str = ""


def _installation_locale() -> Any:
    return force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])


# Reading mail headers (capped like ingest.detect caps an .eml: no unbounded parse).


def read_headers(raw: bytes) -> dict[str, str]:
    """The header fields of a raw message (lower-case names, several values joined by ", "),
    or {} when its header block is not within the limits an uploaded .eml must keep."""
    head = raw[: EML_MAX_HEADER_BYTES + 4]
    ends = [i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0]
    if not ends:
        return {}
    block = head[: min(ends)] + b"\n\n"
    if block.count(b"\n") > EML_MAX_HEADERS + 2:
        return {}
    try:
        parsed = BytesHeaderParser(policy=policy.default).parsebytes(block)
        fields: dict[str, str] = {}
        for name, value in parsed.items():
            key = name.lower()
            text = clean_line(str(value))
            fields[key] = f"{fields[key]}, {text}" if key in fields else text
        return fields
    except Exception:  # noqa: BLE001 - a broken header is no reference, never a crash
        return {}


def sent_at(headers: dict[str, str]) -> datetime | None:
    try:
        when = parsedate_to_datetime(headers.get("date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def references_in(headers: dict[str, str]) -> tuple[list[str], list[str]]:
    """The candidate references of a mail: (plus-address tags, subject references)."""
    tags = []
    for name in ADDRESS_HEADERS:
        for _name, address in getaddresses([headers.get(name, "")]):
            if found := _PLUS_TAG.match(address.strip()):
                tags.append(found.group(1).rstrip("._-"))
    subject = headers.get("subject", "")
    in_subject = [m.group(1) for m in _SUBJECT_BRACKET.finditer(subject)]
    in_subject += [m.group(1).rstrip("._-") for m in _SUBJECT_WORD.finditer(subject)]
    return tags, in_subject


def _dossiers_named(references: list[str]) -> dict[str, Dossier]:
    lowered = {r.lower() for r in references if r}
    if not lowered:
        return {}
    found = db.session.scalars(
        sa.select(Dossier).where(sa.func.lower(Dossier.reference).in_(lowered))
    )
    return {d.reference.lower(): d for d in found}


def match_mail(headers: dict[str, str]) -> Match:
    """The dossier a mail's plus-address or subject names (see the module's rule)."""
    tags, in_subject = references_in(headers)
    known = _dossiers_named(tags + in_subject)
    unknown_tags = [t for t in tags if t.lower() not in known]
    with _installation_locale():
        if unknown_tags:
            return Match(None, _("no dossier with reference %(ref)s", ref=unknown_tags[0]))
        found = {d.id: d for d in known.values()}
        if len(found) > 1:
            refs = ", ".join(sorted(d.reference for d in found.values()))
            return Match(None, _("the mail names several dossiers: %(refs)s", refs=refs))
        if not found:
            brackets = [r for r in in_subject if r.lower() not in known]
            if brackets:
                return Match(None, _("no dossier with reference %(ref)s", ref=brackets[0]))
            return Match(None, _("no dossier reference in the address or the subject"))
        return Match(next(iter(found.values())))


def match_folder(name: str) -> Match:
    """The dossier a subfolder of the watched folder is named after."""
    known = _dossiers_named([name])
    if name.lower() in known:
        return Match(known[name.lower()])
    with _installation_locale():
        return Match(None, _("no dossier with reference %(ref)s", ref=clean_line(name)[:64]))


def why_not_filed(actor: User, dossier: Dossier, kind: DocumentKind) -> str:
    """Why `actor` cannot file into `dossier` now ("" when it can)."""
    with _installation_locale():
        if dossier.status == DossierStatus.ARCHIVED:
            return _("dossier %(ref)s is archived", ref=dossier.reference)
        if not access.can_file(actor, dossier, kind):
            return _(
                "%(user)s may not file into dossier %(ref)s",
                user=actor.email,
                ref=dossier.reference,
            )
    return ""


# Taking in a mail or a file.


def seen_mail(message_id: str, sha256: str) -> IntakeItem | None:
    """The intake item of a mail handled before: the same Message-ID or the same bytes."""
    same = IntakeItem.content_sha256 == sha256
    if message_id:
        same = sa.or_(same, IntakeItem.message_id == message_id)
    return db.session.scalar(
        sa.select(IntakeItem)
        .where(IntakeItem.source == IntakeSource.MAIL, same)
        .order_by(IntakeItem.id)
        .limit(1)
    )


def mail_filename(subject: str) -> str:
    """The name a mail is filed under: its subject (made safe) with .eml."""
    stem = re.sub(r"[^\w.,()&+-]+", " ", clean_line(subject))
    stem = re.sub(r" {2,}", " ", stem).strip(" .")[:120].strip()
    return f"{stem or 'mail'}.eml"


def take_mail(actor: User, raw: bytes) -> tuple[IntakeItem, bool]:
    """File, queue or refuse one mail; returns its item and whether it is new (False: the same
    mail was handled before and nothing is done again). Flushes; the caller commits."""
    headers = read_headers(raw)
    message_id = clean_line(headers.get("message-id"))[:255]
    sha256 = hashlib.sha256(raw).hexdigest()
    if (earlier := seen_mail(message_id, sha256)) is not None:
        return earlier, False
    item = IntakeItem(
        source=IntakeSource.MAIL,
        message_id=message_id,
        content_sha256=sha256,
        filename=mail_filename(headers.get("subject", "")),
        subject=headers.get("subject", "")[:255],
        sender=headers.get("from", "")[:255],
        sent_at=sent_at(headers),
    )
    _take(actor, item, io.BytesIO(raw), match_mail(headers))
    return item, True


def take_file(actor: User, stream: io.BufferedIOBase, name: str, folder: str | None) -> IntakeItem:
    """File, queue or refuse one file of the watched folder (`folder`: the subfolder it was
    in, None at the top level). Flushes; the caller commits."""
    item = IntakeItem(source=IntakeSource.FOLDER, content_sha256="", filename=name[:255])
    with _installation_locale():
        top_level = Match(None, _("placed at the top level of the watched folder"))
    _take(actor, item, stream, match_folder(folder) if folder is not None else top_level)
    return item


def refuse_unread(actor: User, name: str, reason: str) -> IntakeItem:
    """Record (and audit) a watched-folder entry refused without reading it: a link or a
    special file. Flushes; the caller commits."""
    item = IntakeItem(
        source=IntakeSource.FOLDER,
        status=IntakeStatus.REFUSED,
        content_sha256="0" * 64,
        filename=name[:255],
        reason=reason,
    )
    db.session.add(item)
    db.session.flush()
    audit.record(actor, AuditAction.INTAKE_REFUSE, "intake_item", item.id, after=_summary(item))
    return item


def _take(actor: User, item: IntakeItem, stream: Any, match: Match) -> None:
    item.status = IntakeStatus.QUEUED  # until it is filed or refused, in this transaction
    db.session.add(item)
    try:
        with _installation_locale(), documents.receive(stream, item.filename) as upload:
            item.content_sha256 = upload.staged.sha256
            item.filename = upload.filename
            kind = _kind(item, upload)
            reason = why_not_filed(actor, match.dossier, kind) if match.dossier else match.reason
            if match.dossier is not None and not reason:
                reason = _duplicate(match.dossier, upload)
            if match.dossier is not None and not reason:
                _file(actor, item, match.dossier, upload, kind, AuditAction.INTAKE_FILE)
                return
            item.status = IntakeStatus.QUEUED
            item.reason = reason
            with open(upload.staged.path, "rb") as staged:
                item.content = staged.read()
    except UploadRefused as exc:
        item.status = IntakeStatus.REFUSED
        item.reason = str(exc)
        item.content_sha256 = item.content_sha256 or "0" * 64
    db.session.flush()
    action = AuditAction.INTAKE_QUEUE if item.status == IntakeStatus.QUEUED else None
    audit.record(
        actor,
        action or AuditAction.INTAKE_REFUSE,
        "intake_item",
        item.id,
        after=_summary(item),
    )


def _kind(item: IntakeItem, upload: documents.Upload) -> DocumentKind:
    if item.source == IntakeSource.MAIL:
        return DocumentKind.CORRESPONDENCE
    return messages.automatic_kind(upload)


def _duplicate(dossier: Dossier, upload: documents.Upload) -> str:
    same = documents.versions_with_content(dossier, upload.staged.sha256)
    if not same:
        return ""
    document = same[0].document
    return _(
        "dossier %(ref)s already holds this file as %(title)s",
        ref=dossier.reference,
        title=document.title,
    )


def _file(
    actor: User,
    item: IntakeItem,
    dossier: Dossier,
    upload: documents.Upload,
    kind: DocumentKind,
    action: AuditAction,
) -> Document:
    is_mail = item.source == IntakeSource.MAIL
    with _installation_locale():
        comment = _("Received by e-mail") if is_mail else _("Received through the watched folder")
    document = documents.file_document(
        actor,
        dossier,
        upload,
        kind=kind,
        title=item.subject if is_mail else "",
        document_date=_local_date(item.sent_at),
        correspondent=item.sender if is_mail else "",
        comment=comment,
        imported_from=f"intake:{item.source.value}",
    )
    item.status = IntakeStatus.FILED
    item.dossier_id = dossier.id
    item.document_id = document.id
    item.content = None
    db.session.flush()
    audit.record(
        actor,
        action,
        "intake_item",
        item.id,
        dossier_id=dossier.id,
        after=_summary(item) | {"document_id": document.id, "dossier": dossier.reference},
    )
    return document


def _local_date(when: datetime | None) -> date | None:
    return when.date() if when is not None else None


def _summary(item: IntakeItem) -> dict[str, object]:
    return {
        "source": item.source.value,
        "status": item.status.value,
        "filename": item.filename,
        "subject": item.subject,
        "sender": item.sender,
        "message_id": item.message_id,
        "sha256": item.content_sha256,
        "reason": item.reason,
    }


# The queue, for beheerders (who may use it: access.can_use_intake).


def queued() -> list[IntakeItem]:
    return list(
        db.session.scalars(
            sa.select(IntakeItem)
            .where(IntakeItem.status == IntakeStatus.QUEUED)
            .order_by(IntakeItem.created_at, IntakeItem.id)
        )
    )


def recent(user: User, limit: int = 50) -> list[IntakeItem]:
    """What the intake handled lately, newest first (filed, refused, discarded): what was filed
    only when `user` may see its dossier (a subject says what the dossier is about)."""
    visible = sa.or_(
        IntakeItem.dossier_id.is_(None),
        IntakeItem.dossier_id.in_(access.visible_dossier_ids(user)),
    )
    return list(
        db.session.scalars(
            sa.select(IntakeItem)
            .where(IntakeItem.status != IntakeStatus.QUEUED, visible)
            .order_by(IntakeItem.id.desc())
            .limit(limit)
        )
    )


def get_queued(item_id: int) -> IntakeItem | None:
    """A queued item, locked so two beheerders never file it twice."""
    return db.session.scalar(
        sa.select(IntakeItem)
        .where(IntakeItem.id == item_id, IntakeItem.status == IntakeStatus.QUEUED)
        .with_for_update()
    )


def fileable_dossiers(user: User) -> list[Dossier]:
    """The dossiers `user` may file into (not archived), for the queue's choice of dossier."""
    candidates = db.session.scalars(
        access.visible_dossiers(user)
        .where(Dossier.status != DossierStatus.ARCHIVED)
        .order_by(Dossier.reference)
    )
    return [d for d in candidates if access.can_file(user, d)]


def assign(actor: User, item: IntakeItem, dossier: Dossier) -> Document:
    """File a queued item into `dossier` as `actor` (who must be allowed to file its kind)."""
    if item.status != IntakeStatus.QUEUED or item.content is None:
        raise DomainError(_("This item is no longer in the queue."))
    with documents.receive(io.BytesIO(item.content), item.filename) as upload:
        kind = _kind(item, upload)
        if not access.can_file(actor, dossier, kind):
            raise DomainError(_("You may not file into dossier %(ref)s.", ref=dossier.reference))
        document = _file(actor, item, dossier, upload, kind, AuditAction.INTAKE_ASSIGN)
    item.decided_by_id = actor.id
    item.decided_at = utcnow()
    db.session.flush()
    return document


def discard(actor: User, item: IntakeItem, reason: str) -> None:
    """Take a queued item out of the queue without filing it; the reason is kept and audited."""
    reason = clean_line(reason)[:1000]
    if not reason:
        raise DomainError(_("Say why this item is discarded."))
    if item.status != IntakeStatus.QUEUED:
        raise DomainError(_("This item is no longer in the queue."))
    item.status = IntakeStatus.DISCARDED
    item.reason = reason
    item.content = None
    item.decided_by_id = actor.id
    item.decided_at = utcnow()
    db.session.flush()
    audit.record(actor, AuditAction.INTAKE_DISCARD, "intake_item", item.id, after=_summary(item))

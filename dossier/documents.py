"""Domain functions for filing: receive an upload, file a document, add a version, read one back.

The pipeline: stream to a staging file while hashing → type check → durable blob write → one
transaction with the version row, its audit event and its outbox row. Only then is the upload
acknowledged; a crash at any step leaves either a whole version or none (at worst an
unreferenced blob, which `dossier verify` reports and a later upload of the same bytes reuses).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dossier import audit, crash, plans, webhooks
from dossier.errors import IntegrityFailure, StaleEdit, UploadRefused, ValidationError
from dossier.extensions import db
from dossier.filenames import clean_filename
from dossier.models import (
    AuditAction,
    Confidentiality,
    Direction,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    DossierStatus,
    OutboxItem,
    OutboxTopic,
    User,
    utcnow,
)
from dossier.services import blob_store
from ingest.detect import FileType, Refused, detect
from storage import StagedFile, TooLarge, stage_stream


@dataclass(frozen=True)
class Upload:
    """A file received into staging, hashed and type-checked, not yet filed."""

    staged: StagedFile
    filename: str  # cleaned
    file_type: FileType


@contextmanager
def receive(stream: BinaryIO | IO[bytes], filename: str | None) -> Iterator[Upload]:
    """Stage and check an uploaded stream; the staging file is removed when the block ends."""
    config = current_app.config
    try:
        staged = stage_stream(stream, config["STAGING_DIR"], config["MAX_UPLOAD_BYTES"])
    except TooLarge as exc:
        limit = config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        raise UploadRefused(
            _("the file is larger than the limit of %(limit)s MB", limit=limit)
        ) from exc
    crash.point("upload.after_staging")
    try:
        name = clean_filename(filename)
        try:
            file_type = detect(staged.path, name)
        except Refused as exc:
            raise UploadRefused(refusal_message(exc)) from exc
        yield Upload(staged, name, file_type)
    finally:
        _unlink_quietly(staged.path)


# What each accepted kind is called in a refusal ("... is not a valid %(kind)s").
_KIND_NOUNS = {
    "pdf": _l("PDF document"),
    "docx": _l("Word document"),
    "xlsx": _l("Excel workbook"),
    "odt": _l("OpenDocument text"),
    "eml": _l("e-mail message"),
    "msg": _l("Outlook message"),
    "txt": _l("plain-text file"),
    "md": _l("Markdown file"),
    "png": _l("PNG image"),
    "jpeg": _l("JPEG image"),
    "tiff": _l("TIFF image"),
}

# What ingest.detect saw (its DETECTED_NOUNS, by the same keys), in the active language.
_DETECTED_NOUNS = {
    "application/pdf": _l("PDF document"),
    "text/html": _l("HTML document"),
    "image/svg+xml": _l("SVG image"),
    "text/xml": _l("XML document"),
    "application/xml": _l("XML document"),
    "text/plain": _l("plain text"),
    "text/rtf": _l("RTF document"),
    "text/x-shellscript": _l("shell script"),
    "text/javascript": _l("JavaScript file"),
    "application/javascript": _l("JavaScript file"),
    "application/x-executable": _l("ELF executable"),
    "application/x-pie-executable": _l("ELF executable"),
    "application/x-sharedlib": _l("ELF shared library"),
    "application/x-dosexec": _l("Windows executable"),
    "application/vnd.microsoft.portable-executable": _l("Windows executable"),
    "application/x-mach-binary": _l("macOS executable"),
    "application/zip": _l("ZIP archive"),
    "application/x-empty": _l("empty file"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _l("Word document"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _l("Excel workbook"),
    "application/vnd.ms-word.document.macroEnabled.12": _l("macro-enabled Word document"),
    "application/vnd.oasis.opendocument.text": _l("OpenDocument text"),
    "application/msword": _l("Word 97-2003 document"),
    "application/vnd.ms-excel": _l("Excel 97-2003 workbook"),
    "application/vnd.ms-outlook": _l("Outlook message"),
    "application/CDFV2": _l("OLE2 compound file"),
    "application/x-ole-storage": _l("OLE2 compound file"),
    "message/rfc822": _l("e-mail message"),
    "image/png": _l("PNG image"),
    "image/jpeg": _l("JPEG image"),
    "image/tiff": _l("TIFF image"),
    "image/gif": _l("GIF image"),
    "image/webp": _l("WebP image"),
    "signature:elf": _l("ELF executable"),
    "signature:mz": _l("Windows or DOS executable"),
    "signature:script": _l("script"),
    "unrecognised": _l("unrecognised binary data"),
}

# The refusals of ingest.detect, worded in the active language from their code and params.
# `detected` is worded here from its key (`_detected`); `detail` from its code (`_detail`).
_REFUSALS = {
    "empty": _l("The file is empty."),
    "extension_missing": _l(
        "The file name has no extension (detected: %(detected)s). Accepted types are %(accepted)s."
    ),
    "extension_not_accepted": _l(
        "Files ending in %(extension)s are not accepted (detected: %(detected)s). "
        "Accepted types are %(accepted)s."
    ),
    "content_mismatch": _l(
        "The file name says %(extension)s, but the content is of another type: %(detected)s."
    ),
    "invalid_structure": _l(
        "The file name says %(extension)s, but the content is not a valid %(kind)s "
        "(%(detail)s). Detected: %(detected)s."
    ),
    "html_before_pdf": _l(
        "The file name says %(extension)s, but there is HTML or script markup before the PDF "
        "header; such files are not accepted."
    ),
    "macro_enabled": _l(
        "The file contains macros (a macro-enabled file renamed to %(extension)s); "
        "documents with macros are not accepted."
    ),
    "zip_refused": _l(
        "The file is refused because its ZIP archive is unsafe or damaged (%(detail)s)."
    ),
    "utf16_text": _l("The file is UTF-16 text; save it as UTF-8 and file it again."),
    "script_in_image": _l(
        "The file name says %(extension)s, but the image contains HTML or script markup; "
        "such files are not accepted."
    ),
}


# The structural findings of ingest.detect.DETAILS, translated (same keys and values).
_DETAILS = {
    "pdf_no_header": _l("there is no %%PDF- header in the first %(bytes)s bytes"),
    "pdf_html_before_header": _l("there is HTML or script markup before the %%PDF- header"),
    "pdf_bad_version": _l("the %%PDF- header has no valid version number"),
    "zip_unreadable": _l("it is not a readable ZIP archive (%(error)s)"),
    "zip_declares_too_many": _l("it declares %(entries)s entries (at most %(limit)s are allowed)"),
    "zip_directory_too_large": _l("its central directory takes %(size)s, far too much"),
    "zip_too_many": _l("it has %(entries)s entries (at most %(limit)s are allowed)"),
    "zip_duplicate_name": _l("the entry name %(name)s occurs more than once"),
    "zip_name_outside": _l("the entry name %(name)s points outside the archive"),
    "zip_entry_too_large": _l(
        "the entry %(name)s would expand to %(size)s (at most %(limit)s per entry)"
    ),
    "zip_ratio": _l(
        "the entry %(name)s expands from %(compressed)s bytes to %(size)s, "
        "more than %(ratio)s times; this looks like a ZIP bomb"
    ),
    "zip_total_too_large": _l("its entries would expand to %(size)s (at most %(limit)s)"),
    "zip_overlap": _l("the entry %(name)s overlaps the data after it"),
    "zip_past_end": _l("the entry %(name)s points past the end of the file"),
    "zip_no_local_header": _l("the entry %(name)s has no valid local header"),
    "zip_part_too_large": _l("the part %(name)s is implausibly large"),
    "zip_part_unreadable": _l("the part %(name)s is unreadable (%(error)s)"),
    "package_missing_part": _l("the package has no %(part)s part"),
    "macros": _l("it contains macros; macro-enabled documents are not accepted"),
    "odt_no_mimetype": _l("the package has no mimetype entry"),
    "odt_wrong_mimetype": _l("its mimetype entry does not say OpenDocument text"),
    "eml_first_line": _l("the first line is not an e-mail header"),
    "eml_header_not_ended": _l("its header block does not end within the first %(kib)s KiB"),
    "eml_no_mail_headers": _l(
        "it has none of the headers From, To, Subject, Date, Message-ID, Received or MIME-Version"
    ),
    "eml_too_many_headers": _l("it has more than %(limit)s header lines"),
    "eml_header_too_long": _l("a header is longer than %(kib)s KiB"),
    "msg_no_signature": _l("it does not start with the OLE2 compound-file signature"),
    "msg_unreadable": _l("its OLE2 structure is unreadable (%(error)s)"),
    "msg_no_properties": _l("the compound file holds no Outlook message properties"),
    "txt_utf16": _l("it is UTF-16 text; save it as UTF-8"),
    "txt_nul": _l("it contains NUL bytes in the first %(kib)s KiB"),
    "txt_control": _l("it contains the control character %(char)s"),
    "txt_encoding": _l("it is neither UTF-8 nor Windows-1252 text"),
    "png_no_signature": _l("it does not start with the PNG signature"),
    "png_no_ihdr": _l("the PNG signature is not followed by an IHDR chunk"),
    "jpeg_no_soi": _l("it does not start with a JPEG start-of-image marker"),
    "jpeg_early_marker": _l("the JPEG has marker %(marker)s before any image data"),
    "jpeg_too_many_segments": _l("the JPEG has more than %(limit)s segments before the image data"),
    "jpeg_broken": _l("the JPEG segment structure is broken"),
    "jpeg_truncated": _l("the JPEG ends before its image data"),
    "jpeg_bad_length": _l("a JPEG segment has an impossible length"),
    "tiff_no_header": _l("it does not start with a TIFF header"),
    "tiff_truncated": _l("the TIFF header is truncated"),
    "tiff_outside": _l("the TIFF header points outside the file"),
    "image_script": _l("an image header is followed by HTML or script markup (%(markup)s)"),
}


def _detail(params: dict[str, str]) -> str:
    """The structural finding in the active language; detect's English one when unknown."""
    template = _DETAILS.get(params.get("detail_code", ""))
    if template is None:
        return params.get("detail", "")
    values = {k.removeprefix("detail_"): v for k, v in params.items() if k.startswith("detail_")}
    try:
        return str(template) % values
    except (KeyError, ValueError, TypeError):
        return params.get("detail", "")


def _detected(params: dict[str, str]) -> str:
    """What the content looked like, in the active language: our noun for a known key, with
    the MIME type; for a type without one, libmagic's English prose only in English, else
    the bare MIME type (a refusal made without one, not by detect, keeps its text)."""
    mime = params.get("magic_mime", "")
    noun = _DETECTED_NOUNS.get(params.get("detected_key", ""))
    if noun is not None:
        return f"{noun} ({mime})" if mime else str(noun)
    english = getattr(get_locale(), "language", "") == "en"
    if english or not mime:
        return params.get("detected", mime)
    return mime


def refusal_message(refused: Refused) -> str:
    """Why ingest.detect refused a file, in the active language; English for unknown codes."""
    template = _REFUSALS.get(refused.code)
    if template is None:
        return refused.reason
    params = dict(refused.params)
    if "detail" in params:
        params["detail"] = _detail(params)
    if "detected" in params:
        params["detected"] = _detected(params)
    if "kind" in params:
        params["kind"] = str(_KIND_NOUNS.get(params["kind"], params["kind"]))
    try:
        return str(template) % params
    except (KeyError, ValueError, TypeError):
        # A code raised without the params its wording needs: the English reason still says it.
        return refused.reason


def _unlink_quietly(path: str | os.PathLike[str]) -> None:
    with suppress(FileNotFoundError):
        os.unlink(path)


def file_document(
    actor: User,
    dossier: Dossier,
    upload: Upload,
    *,
    kind: DocumentKind,
    title: str = "",
    document_date: date | None = None,
    direction: Direction | None = None,
    correspondent: str = "",
    confidentiality: Confidentiality = Confidentiality.NORMAL,
    comment: str = "",
    parent: Document | None = None,
    imported_from: str = "",
    invoice: tuple[Decimal | None, date | None, date | None] = (None, None, None),
) -> Document:
    """File `upload` as a new document of `kind` in `dossier`, as its version 1; an invoice
    with its amount and period (`invoice`), which other kinds do not record."""
    _refuse_closed(dossier)
    amount, start, end = check_invoice(kind, *invoice)
    document = Document(
        dossier_id=dossier.id,
        kind=kind,
        title=(title.strip() or default_title(upload.filename))[:255],
        document_date=document_date,
        direction=direction,
        correspondent=correspondent.strip()[:255],
        confidentiality=confidentiality,
        parent_id=parent.id if parent else None,
        created_by_id=actor.id,
        invoice_amount=amount,
        invoice_from=start,
        invoice_to=end,
    )
    db.session.add(document)
    db.session.flush()
    after: dict[str, object] = {
        "kind": kind,
        "title": document.title,
        "confidentiality": confidentiality,
    }
    if kind == DocumentKind.INVOICE and any(v is not None for v in (amount, start, end)):
        after |= {"invoice_amount": amount, "invoice_from": start, "invoice_to": end}
    audit.record(
        actor,
        AuditAction.DOCUMENT_CREATE,
        "document",
        document.id,
        dossier_id=dossier.id,
        after=after,
    )
    add_version(actor, document, upload, comment=comment, locked=True, imported_from=imported_from)
    _link_to_plan(actor, document)
    webhooks.document_filed(document)
    return document


def _link_to_plan(actor: User, document: Document) -> None:
    """A document filed (or corrected) as an execution plan is linked to the dossier's plan
    record, which is started if the dossier has none; both steps are audited. A plan record
    without answers still counts as missing in completeness and on the dashboard."""
    if document.kind != DocumentKind.EXECUTION_PLAN:
        return
    plans.link_document(actor, plans.create_plan(actor, document.dossier), document)


def default_title(filename: str) -> str:
    """The title a document gets when the filer leaves it blank: its file name without
    extension. E-mail headers may replace such a title later; a typed one never."""
    return (Path(filename).stem or filename)[:255]


def add_version(
    actor: User,
    document: Document,
    upload: Upload,
    *,
    comment: str = "",
    locked: bool = False,
    imported_from: str = "",
) -> DocumentVersion:
    """Store `upload` as the next version of `document`; numbers stay contiguous under races.

    `imported_from` (the file a folder import read) goes into the audit event, not the comment.
    """
    if not locked:
        _lock(document)
        _refuse_closed(document.dossier)
    blob_store().put_file(upload.staged.path, upload.staged.sha256)
    crash.point("upload.after_blob")
    number = document.current_version_number + 1
    version = DocumentVersion(
        document_id=document.id,
        number=number,
        blob_key=upload.staged.sha256,
        size=upload.staged.size,
        mime_type=upload.file_type.mime,
        magic_mime=upload.file_type.magic_mime[:127],
        file_kind=upload.file_type.kind,
        original_filename=upload.filename,
        uploaded_by_id=actor.id,
        comment=comment.strip(),
    )
    document.current_version_number = number
    db.session.add(version)
    db.session.flush()
    crash.point("upload.after_version_row")
    audit.record(
        actor,
        AuditAction.VERSION_CREATE,
        "version",
        version.id,
        dossier_id=document.dossier_id,
        after={
            "document_id": document.id,
            "number": number,
            "sha256": version.blob_key,
            "size": version.size,
            "filename": version.original_filename,
        }
        | ({"imported_from": imported_from} if imported_from else {}),
    )
    db.session.add(OutboxItem(topic=OutboxTopic.VERSION_EXTRACT, object_id=version.id))
    webhooks.version_added(document, number)
    db.session.flush()
    crash.point("upload.before_commit")
    return version


def versions_with_content(dossier: Dossier, sha256: str) -> list[DocumentVersion]:
    """Every version in `dossier` (withdrawn documents too) whose bytes have this SHA-256,
    oldest document and version first: a file filed twice is usually a mistake."""
    return list(
        db.session.scalars(
            sa.select(DocumentVersion)
            .join(Document, Document.id == DocumentVersion.document_id)
            .where(Document.dossier_id == dossier.id, DocumentVersion.blob_key == sha256)
            .order_by(DocumentVersion.document_id, DocumentVersion.number)
        )
    )


def lock(document: Document) -> None:
    """Take the document row lock and reload the row, so concurrent changes apply in order."""
    _lock(document)


def _lock(document: Document) -> None:
    """Take the document row lock and reload its counter, so two uploads number in order."""
    db.session.execute(
        sa.select(Document)
        .where(Document.id == document.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


# The fields of a document that can be corrected after filing (its versions never change).
METADATA_FIELDS = (
    "kind",
    "title",
    "document_date",
    "direction",
    "correspondent",
    "confidentiality",
    "invoice_amount",
    "invoice_from",
    "invoice_to",
)
INVOICE_FIELDS = ("invoice_amount", "invoice_from", "invoice_to")


def metadata_snapshot(document: Document) -> dict[str, object]:
    """The editable fields as plain JSON values, for audit events and the edit token."""
    values = {name: getattr(document, name) for name in METADATA_FIELDS}
    for name in ("document_date", "invoice_from", "invoice_to"):
        values[name] = values[name].isoformat() if values[name] else None
    amount = document.invoice_amount
    values["invoice_amount"] = str(amount.quantize(Decimal("0.01"))) if amount is not None else None
    for name in ("kind", "direction", "confidentiality"):
        values[name] = values[name].value if values[name] is not None else None
    return values


def edit_token(document: Document) -> str:
    """A fingerprint of the editable fields: a form carries it, so a stale edit is noticed."""
    encoded = json.dumps(metadata_snapshot(document), sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


def update_metadata(
    actor: User, document: Document, values: dict[str, object], token: str | None = None
) -> dict[str, tuple[object, object]]:
    """Correct kind, title, date, direction, correspondent or confidentiality of a document.

    Returns what changed as (old, new). The caller has checked the rights (`access`); a form
    loaded before someone else's change is refused, and the search index follows through the
    outbox.
    """
    _lock(document)
    _refuse_closed(document.dossier)
    if token is not None and token != edit_token(document):
        raise StaleEdit(
            _("Someone else changed this document in the meantime; reload the page and try again.")
        )
    title = str(values.get("title") or "").strip()
    if not title:
        raise ValidationError({"title": _("a title is required")})
    lowered = values["confidentiality"] != Confidentiality.CONFIDENTIAL
    if lowered and document.is_confidential and _confidential_parent(document):
        raise ValidationError(
            {"confidentiality": _("An attachment of a confidential e-mail stays confidential.")}
        )
    invoice = _invoice_values(document, values)
    before = metadata_snapshot(document)
    document.invoice_amount, document.invoice_from, document.invoice_to = invoice
    document.kind = values["kind"]  # type: ignore[assignment]
    document.title = title[:255]
    document.document_date = values.get("document_date")  # type: ignore[assignment]
    document.direction = values.get("direction")  # type: ignore[assignment]
    document.correspondent = str(values.get("correspondent") or "").strip()[:255]
    document.confidentiality = values["confidentiality"]  # type: ignore[assignment]
    after = metadata_snapshot(document)
    changes = {k: (before[k], after[k]) for k in METADATA_FIELDS if before[k] != after[k]}
    if "kind" in changes:
        _link_to_plan(actor, document)
    if changes:
        audit.record(
            actor,
            AuditAction.DOCUMENT_UPDATE,
            "document",
            document.id,
            dossier_id=document.dossier_id,
            before={k: v[0] for k, v in changes.items()},
            after={k: v[1] for k, v in changes.items()},
        )
        db.session.add(OutboxItem(topic=OutboxTopic.DOCUMENT_INDEX, object_id=document.id))
        db.session.flush()
    if document.is_confidential:
        carry_confidentiality(actor, document)
    return changes


def _as_date(value: object) -> date | None:
    if value is None or value == "" or isinstance(value, date):
        return value or None  # type: ignore[return-value]
    return date.fromisoformat(str(value))


def _invoice_values(
    document: Document, values: dict[str, object]
) -> tuple[Decimal | None, date | None, date | None]:
    """The amount and period an invoice records (fields left out keep their value); a document
    of another kind records none. Raises ValidationError for a negative amount or a period that
    ends before it starts."""
    current = {name: getattr(document, name) for name in INVOICE_FIELDS}
    given = {name: values.get(name, current[name]) for name in INVOICE_FIELDS}
    return check_invoice(
        values["kind"], given["invoice_amount"], given["invoice_from"], given["invoice_to"]
    )


def check_invoice(
    kind: object, amount: object, start: object, end: object
) -> tuple[Decimal | None, date | None, date | None]:
    """An invoice's amount and period as stored (other kinds record none); ValidationError for
    a negative amount or a period that ends before it starts."""
    if kind != DocumentKind.INVOICE:
        return None, None, None
    try:
        money = None if amount in (None, "") else Decimal(str(amount)).quantize(Decimal("0.01"))
        first, last = _as_date(start), _as_date(end)
    except (ArithmeticError, ValueError) as exc:
        raise ValidationError({"invoice_amount": _("not an amount or a date")}) from exc
    if money is not None and (money < 0 or money >= Decimal("1e12")):
        raise ValidationError({"invoice_amount": _("an invoice amount is 0 or more")})
    if first and last and last < first:
        raise ValidationError({"invoice_to": _("the period ends before it starts")})
    return money, first, last


def _confidential_parent(document: Document) -> bool:
    parent = document.parent
    return parent is not None and parent.is_confidential


def carry_confidentiality(actor: User | None, message: Document) -> list[Document]:
    """Make the attachments of a confidential message confidential too, and theirs (a
    forwarded message's attachments); returns those that changed.

    Each change is audited and re-indexed like an edit. Making the message normal again
    leaves its attachments as they are: the beheerder decides per attachment.
    """
    changed: list[Document] = []
    seen = {message.id}
    level = [message.id]
    while level:
        children = db.session.scalars(
            sa.select(Document)
            .where(Document.parent_id.in_(level))
            .order_by(Document.id)
            .with_for_update()
        ).all()
        level = [child.id for child in children if child.id not in seen]
        seen.update(level)
        changed.extend(child for child in children if not child.is_confidential)
    for child in changed:
        child.confidentiality = Confidentiality.CONFIDENTIAL
        audit.record(
            actor,
            AuditAction.DOCUMENT_UPDATE,
            "document",
            child.id,
            dossier_id=child.dossier_id,
            before={"confidentiality": Confidentiality.NORMAL.value},
            after={"confidentiality": Confidentiality.CONFIDENTIAL.value},
        )
        db.session.add(OutboxItem(topic=OutboxTopic.DOCUMENT_INDEX, object_id=child.id))
    db.session.flush()
    return changed


def _refuse_closed(dossier: Dossier) -> None:
    """Refuse filing into an archived dossier, holding the dossier row until commit.

    The shared row lock makes archiving wait for uploads already past this check, and an
    upload that comes while the dossier is being archived waits and then sees it archived:
    a document is never filed into a dossier after its archiving committed.
    """
    status = db.session.execute(
        sa.select(Dossier.status).where(Dossier.id == dossier.id).with_for_update(read=True)
    ).scalar_one()
    if status == DossierStatus.ARCHIVED:
        raise UploadRefused(_("the dossier is archived; nothing can be filed into it"))


def open_version(version: DocumentVersion) -> BinaryIO:
    """The stored bytes of `version`, after checking they still match their hash."""
    store = blob_store()
    if not store.verify(version.blob_key):
        raise IntegrityFailure(
            f"the stored file of version {version.number} no longer matches its checksum"
        )
    return store.open(version.blob_key)


def bundle(actor: User, chosen: list[Document], target: IO[bytes]) -> int:
    """Write the current version of each of `chosen` into a zip archive at `target`.

    The caller has checked that `actor` may read every one of them; confidential reads are
    audited as for a single download. Entry names are cleaned and numbered, never paths."""
    written = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for document in chosen:
            version = document.current_version
            if version is None:
                continue
            name = f"{document.id}-{clean_filename(version.original_filename)}"
            with open_version(version) as stream, archive.open(name, "w") as entry:
                shutil.copyfileobj(stream, entry, 1024 * 1024)
            record_read(actor, version)
            written += 1
    return written


def record_read(actor: User, version: DocumentVersion) -> None:
    """Log the download of a confidential document (reads of normal ones are not events)."""
    if version.document.confidentiality == Confidentiality.CONFIDENTIAL:
        audit.record(
            actor,
            AuditAction.VERSION_READ,
            "version",
            version.id,
            dossier_id=version.document.dossier_id,
            after={"document_id": version.document_id, "number": version.number},
        )


def withdraw(actor: User, document: Document, reason: str) -> None:
    """Take a document out of lists and search; its versions stay stored as evidence."""
    document.withdrawn_at = utcnow()
    db.session.flush()
    crash.point("withdraw.after_mark")
    audit.record(
        actor,
        AuditAction.DOCUMENT_WITHDRAW,
        "document",
        document.id,
        dossier_id=document.dossier_id,
        after={"reason": reason},
    )
    db.session.add(OutboxItem(topic=OutboxTopic.DOCUMENT_REMOVE, object_id=document.id))
    db.session.flush()
    crash.point("withdraw.before_commit")


def repair_confidential_attachments() -> int:
    """Carry confidentiality to the attachments of every confidential message, as an audited
    change by the system; for data filed before it was carried. Returns how many changed."""
    parents = sa.select(Document.parent_id).where(Document.parent_id.is_not(None))
    messages = db.session.scalars(
        sa.select(Document)
        .where(Document.id.in_(parents), Document.confidentiality == Confidentiality.CONFIDENTIAL)
        .order_by(Document.id)
    ).all()
    return sum(len(carry_confidentiality(None, message)) for message in messages)

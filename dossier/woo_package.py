"""The inventory list (inventarislijst) of a Woo request and its publication package: a zip
with the published PDFs (redacted, or public as a whole with their metadata removed), the
inventory as CSV and XLSX, and the decision letter.

Only PDFs are published: a public document that is no PDF (a .docx, an e-mail, a spreadsheet)
would carry its author, comments, tracked changes or mail headers along, so a PDF of its
extracted text is published in its place, and a document without text stops the package
(`woo.package_problems`)."""

from __future__ import annotations

import zipfile
from datetime import date
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dossier import audit, documents, labels, pdf_rendering, redaction, woo, woo_marks
from dossier.errors import DomainError
from dossier.filenames import clean_filename
from dossier.models import Assessment, AuditAction, User, WooDocument, WooRequest
from dossier.spreadsheets import table_bytes

ASSESSMENT_LABELS = {
    Assessment.PENDING: _l("Not assessed"),
    Assessment.PUBLIC: _l("Public"),
    Assessment.PARTLY_PUBLIC: _l("Partly public"),
    Assessment.NOT_PUBLIC: _l("Not public"),
}


def inventory_header() -> list[str]:
    return [
        _("Number"),
        _("Document"),
        _("Date"),
        _("Kind"),
        _("Assessment"),
        _("Grounds"),
        _("Published file"),
    ]


def inventory_rows(request: WooRequest) -> list[list[Any]]:
    """One row per collected document, in number order (the list is published: no dossier
    references or internal ids)."""
    rows = []
    for item in request.items:
        rows.append(
            [
                item.number,
                item.document.title,
                item.document.document_date,
                str(labels.DOCUMENT_KIND[item.document.kind]),
                str(ASSESSMENT_LABELS[item.assessment]),
                ", ".join(woo.item_grounds(item)),
                published_name(item) or "",
            ]
        )
    return rows


def inventory_bytes(request: WooRequest, kind: str, locale: str) -> bytes:
    return table_bytes(
        kind, inventory_header(), inventory_rows(request), sheet_title="inventaris", locale=locale
    )


def published_name(item: WooDocument) -> str | None:
    """The file name of `item` in the package, or None when it is not published: always a PDF,
    named by its number and title (the original's file name may say more than its title)."""
    if item.assessment in (Assessment.PENDING, Assessment.NOT_PUBLIC):
        return None
    stem = clean_filename(item.document.title, "document")[:80]
    return f"{item.number:04d}-{stem}.pdf"


def published_items(request: WooRequest) -> list[WooDocument]:
    """The documents of `request` the package publishes (the versions it reads)."""
    return [item for item in request.items if published_name(item) is not None]


def _published_bytes(item: WooDocument) -> bytes:
    if item.assessment == Assessment.PARTLY_PUBLIC:
        return woo_marks.redacted_bytes(item)
    if not woo.is_pdf(item):
        return _text_rendition(item)
    with documents.open_version(item.version) as stream:
        data = stream.read()
    try:
        return redaction.clean(data)
    except redaction.PdfRefused as exc:  # its metadata cannot be removed: not published as is
        raise woo_marks.unreadable_pdf(item) from exc


def _text_rendition(item: WooDocument) -> bytes:
    """A PDF of the extracted text of a public document that is no PDF, without metadata."""
    text = item.version.text or ""
    if not text.strip():  # package_problems names it first; checked again, never published
        raise DomainError(woo.no_rendition_problem(item))
    try:
        return redaction.clean(pdf_rendering.text_rendition(item.document.title, text))
    except pdf_rendering.Unavailable as exc:
        raise DomainError(_("PDF rendering is not available on this server.")) from exc


def write_package(request: WooRequest, target: IO[bytes], locale: str) -> list[WooDocument]:
    """Write the package of `request` into `target`; the documents it publishes, for
    `record_export` (the package only reads: its audit events are written apart).

    The caller checked that the actor may read every collected document (all or nothing).
    Refused (DomainError) while a document is unassessed, a redaction or a public document's
    text is missing, or the decision letter is empty."""
    problems = woo.package_problems(request)
    if problems:
        raise DomainError("; ".join(problems))
    published = published_items(request)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in published:
            archive.writestr(f"documenten/{published_name(item)}", _published_bytes(item))
        archive.writestr("inventarislijst.csv", inventory_bytes(request, "csv", locale))
        archive.writestr("inventarislijst.xlsx", inventory_bytes(request, "xlsx", locale))
        archive.writestr("besluit.txt", request.decision_text.encode("utf-8"))
    return published


def record_export(actor: User, request: WooRequest, published: list[WooDocument]) -> None:
    """Audit the package `actor` made: the export, and a read of every confidential version
    it publishes (as a download of it would be; withheld documents are not in it)."""
    audit.record(
        actor,
        AuditAction.WOO_EXPORT,
        "woo_request",
        request.id,
        after={"documents": len(published), "items": len(request.items)},
    )
    for item in published:
        documents.record_read(actor, item.version)


def package_name(request: WooRequest, today: date) -> str:
    return f"woo-{request.id}-{today.isoformat()}.zip"

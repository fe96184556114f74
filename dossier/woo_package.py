"""The inventory list (inventarislijst) of a Woo request and its publication package: a zip
with the published PDFs (redacted, or public as a whole with their metadata removed), the
public documents that are no PDF, the inventory as CSV and XLSX, and the decision letter."""

from __future__ import annotations

import zipfile
from datetime import date
from typing import IO, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from dossier import audit, documents, labels, redaction, woo, woo_marks
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
    """The file name of `item` in the package, or None when it is not published."""
    if item.assessment in (Assessment.PENDING, Assessment.NOT_PUBLIC):
        return None
    if item.assessment == Assessment.PARTLY_PUBLIC or woo_marks.is_pdf(item):
        stem = clean_filename(item.document.title, "document")[:80]
        return f"{item.number:04d}-{stem}.pdf"
    return f"{item.number:04d}-{clean_filename(item.version.original_filename)}"


def _published_bytes(item: WooDocument) -> bytes:
    if item.assessment == Assessment.PARTLY_PUBLIC:
        return woo_marks.redacted_bytes(item)
    with documents.open_version(item.version) as stream:
        data = stream.read()
    if not woo_marks.is_pdf(item):
        return data
    try:
        return redaction.clean(data)
    except redaction.PdfRefused as exc:  # its metadata cannot be removed: not published as is
        raise woo_marks.unreadable_pdf(item) from exc


def write_package(actor: User, request: WooRequest, target: IO[bytes], locale: str) -> int:
    """Write the package of `request` into `target`; how many documents it publishes.

    The caller checked that `actor` may read every collected document (all or nothing).
    Refused (DomainError) while a document is unassessed, a redaction is missing or the
    decision letter is empty."""
    problems = woo.package_problems(request)
    if problems:
        raise DomainError("; ".join(problems))
    published = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in request.items:
            name = published_name(item)
            if name is None:
                continue
            archive.writestr(f"documenten/{name}", _published_bytes(item))
            published += 1
        archive.writestr("inventarislijst.csv", inventory_bytes(request, "csv", locale))
        archive.writestr("inventarislijst.xlsx", inventory_bytes(request, "xlsx", locale))
        archive.writestr("besluit.txt", request.decision_text.encode("utf-8"))
    audit.record(
        actor,
        AuditAction.WOO_EXPORT,
        "woo_request",
        request.id,
        after={"documents": published, "items": len(request.items)},
    )
    return published


def package_name(request: WooRequest, today: date) -> str:
    return f"woo-{request.id}-{today.isoformat()}.zip"

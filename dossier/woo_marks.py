"""Marking the passages of a Woo document to redact (by phrase or by area, each with its
ground) and making the redacted PDF: a new blob, the original version untouched."""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import escape

from dossier import documents, pdf_rendering, redaction
from dossier.errors import DomainError, ValidationError
from dossier.extensions import db
from dossier.models import Assessment, AuditAction, User, WooDocument, WooPassage, utcnow
from dossier.services import blob_store
from dossier.woo import check_grounds, clean_text, is_pdf, item_grounds, record, require_open

# The PDF a document is redacted on


class NotRedactable(DomainError):
    """The document has no PDF form and no extracted text to make one of."""


def unreadable_pdf(item: WooDocument) -> NotRedactable:
    return NotRedactable(
        _(
            "Document %(n)d is a PDF that cannot be opened for redaction (encrypted or damaged).",
            n=item.number,
        )
    )


def source_pdf(item: WooDocument) -> bytes:
    """The PDF that passages are marked on: the collected version itself when it is a PDF,
    else a PDF rendition of its extracted text (WeasyPrint)."""
    if is_pdf(item):
        with documents.open_version(item.version) as stream:
            return stream.read()
    text = item.version.text or ""
    if not text.strip():
        raise NotRedactable(
            _("This document is no PDF and has no extracted text: it cannot be redacted here.")
        )
    html = (
        "<html><head><meta charset='utf-8'><style>body{font-family:sans-serif;font-size:10pt}"
        "pre{white-space:pre-wrap;font-family:inherit}</style></head><body>"
        f"<h1>{escape(item.document.title)}</h1><pre>{escape(text)}</pre></body></html>"
    )
    try:
        return pdf_rendering.render(html)
    except pdf_rendering.Unavailable as exc:
        raise NotRedactable(_("PDF rendering is not available on this server.")) from exc


# Passages


def _passage_audit(actor: User, action: AuditAction, passage: WooPassage) -> None:
    item = passage.item
    record(
        actor,
        action,
        item.request,
        dossier_id=item.document.dossier_id,
        after={
            "number": item.number,
            "page": passage.page,
            "ground": passage.ground,
            "phrase": passage.phrase,
            "area": [round(v, 1) for v in (passage.x0, passage.y0, passage.x1, passage.y1)],
        },
    )


def _add(actor: User, item: WooDocument, area: redaction.Area, ground: str, phrase: str) -> None:
    """Mark `area`, unless the same rectangle of the page is marked already (a phrase marked
    twice, or a page marked again after marking the whole document)."""
    if any(_same_area(p, area) for p in item.passages):
        return
    passage = WooPassage(
        item=item,
        page=area.page,
        x0=area.x0,
        y0=area.y0,
        x1=area.x1,
        y1=area.y1,
        ground=ground,
        phrase=phrase,
        created_by_id=actor.id,
    )
    db.session.add(passage)
    item.redacted_blob_key = None  # the redacted PDF no longer matches the marks
    db.session.flush()
    _passage_audit(actor, AuditAction.WOO_PASSAGE_ADD, passage)


def _same_area(passage: WooPassage, area: redaction.Area) -> bool:
    mine = (passage.x0, passage.y0, passage.x1, passage.y1)
    corners = zip(mine, (area.x0, area.y0, area.x1, area.y1), strict=True)
    return passage.page == area.page and all(abs(a - b) < 0.01 for a, b in corners)


def _ground(code: str) -> str:
    chosen = check_grounds([code])
    if not chosen:
        raise ValidationError({"ground": _("choose a ground")})
    return chosen[0]


def mark_area(actor: User, item: WooDocument, area: redaction.Area, ground: str) -> None:
    """Mark a rectangle drawn (or typed) on a page."""
    require_open(item.request)
    code = _ground(ground)
    try:
        area = redaction.check_area(source_pdf(item), area)
    except redaction.PdfRefused as exc:
        raise unreadable_pdf(item) from exc
    except redaction.RotatedPage as exc:
        raise ValidationError(
            {"area": _("this page is rotated: mark its passages by their words instead")}
        ) from exc
    except ValueError as exc:
        raise ValidationError({"area": _("the area is too small or off the page")}) from exc
    _add(actor, item, area, code, "")


def mark_phrase(
    actor: User, item: WooDocument, phrase: str, ground: str, page: int | None = None
) -> int:
    """Mark every occurrence of `phrase` (on `page`, or on every page); how many were found."""
    require_open(item.request)
    code = _ground(ground)
    phrase = clean_text(phrase, "phrase", 500)
    try:
        found = redaction.find_phrase(source_pdf(item), phrase, None if page is None else [page])
    except redaction.PdfRefused as exc:
        raise unreadable_pdf(item) from exc
    for area in found:
        _add(actor, item, area, code, phrase)
    return len(found)


def unmark(actor: User, passage: WooPassage) -> None:
    item = passage.item
    require_open(item.request)
    _passage_audit(actor, AuditAction.WOO_PASSAGE_REMOVE, passage)
    item.passages.remove(passage)
    item.redacted_blob_key = None
    db.session.flush()


def unmark_phrase(actor: User, item: WooDocument, phrase: str, ground: str) -> int:
    """Remove every mark of `phrase` under `ground` (a phrase marked on every page may have
    hundreds); how many were removed."""
    require_open(item.request)
    chosen = [p for p in item.passages if p.phrase and p.phrase == phrase and p.ground == ground]
    for passage in chosen:
        _passage_audit(actor, AuditAction.WOO_PASSAGE_REMOVE, passage)
        item.passages.remove(passage)
    if chosen:
        item.redacted_blob_key = None
    db.session.flush()
    return len(chosen)


@dataclass(frozen=True)
class MarkGroup:
    """The marks of one phrase under one ground, or the drawn areas under one ground."""

    phrase: str  # "" for drawn (or typed) areas
    ground: str
    pages: tuple[int, ...]  # each page once, in order
    count: int


def mark_groups(item: WooDocument) -> list[MarkGroup]:
    """The marks of `item` grouped by phrase and ground, phrases first, in the order marked."""
    groups: dict[tuple[str, str], list[int]] = {}
    for passage in sorted(item.passages, key=lambda p: p.id):
        groups.setdefault((passage.phrase, passage.ground), []).append(passage.page)
    found = [
        MarkGroup(phrase, ground, tuple(sorted(set(pages))), len(pages))
        for (phrase, ground), pages in groups.items()
    ]
    return sorted(found, key=lambda g: not g.phrase)


def make_redacted(actor: User, item: WooDocument) -> str:
    """Make and store the redacted PDF of a partly public document (a new blob; the original
    version is untouched); its SHA-256."""
    require_open(item.request)
    if item.assessment != Assessment.PARTLY_PUBLIC:
        raise DomainError(_("only a partly public document is redacted"))
    if not item.passages:
        raise DomainError(_("mark at least one passage first"))
    areas = [redaction.Area(p.page, p.x0, p.y0, p.x1, p.y1, p.ground) for p in item.passages]
    try:
        data = redaction.redact(source_pdf(item), areas)
    except redaction.PdfRefused as exc:
        raise unreadable_pdf(item) from exc
    info = blob_store().put_stream(io.BytesIO(data))
    item.redacted_blob_key, item.redacted_size, item.redacted_at = info.key, info.size, utcnow()
    db.session.flush()
    record(
        actor,
        AuditAction.WOO_REDACT,
        item.request,
        dossier_id=item.document.dossier_id,
        after={
            "number": item.number,
            "sha256": info.key,
            "passages": len(areas),
            "grounds": item_grounds(item),
        },
    )
    return info.key


def redacted_bytes(item: WooDocument) -> bytes:
    store = blob_store()
    key = item.redacted_blob_key
    if key is None or not store.verify(key):
        raise DomainError(_("the redacted PDF is missing or damaged; make it again"))
    with store.open(key) as stream:
        return stream.read()

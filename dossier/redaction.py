"""Redaction of PDF files for publication, with PyMuPDF: the text, drawings and image pixels
under a marked area are removed from the file (not covered by a box), the legal ground is
printed in the black box that takes their place, and the document metadata is cleared.

Plain functions on bytes: no Flask, no database. The original is never changed; every function
returns new bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pymupdf

# A page image for marking passages: this many pixels per PDF point (72 points to the inch),
# fewer for a page so large that its image would pass MAX_PIXELS (a PDF page may be 200 inches
# square: 466 million pixels at ZOOM, 1.4 GB of memory in the web process). The page shows the
# image at the page's size in points whatever its pixels, so marks never depend on the zoom.
ZOOM = 1.5
MAX_PIXELS = 6_000_000
MAX_PHRASE_HITS = 500  # occurrences of one phrase marked at once
# The smallest box marked by hand, in points; smaller drags are slips of the mouse.
MIN_SIDE = 2.0


class PdfRefused(ValueError):
    """The file is not a PDF PyMuPDF can open, or is encrypted."""


@dataclass(frozen=True)
class Area:
    """A rectangle on a page (1-based), in PDF points with the origin at the top left."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    label: str = ""  # printed in the redaction box (the ground's code)


def _open(data: bytes) -> pymupdf.Document:
    try:
        document = pymupdf.open(stream=data, filetype="pdf")
    except (pymupdf.FileDataError, RuntimeError, ValueError) as exc:
        raise PdfRefused(str(exc)) from exc
    if document.needs_pass:
        document.close()
        raise PdfRefused("the PDF is encrypted")
    if document.page_count == 0:
        document.close()
        raise PdfRefused("the PDF has no pages")
    return document


def page_sizes(data: bytes) -> list[tuple[float, float]]:
    """The width and height of every page, in points."""
    with _open(data) as document:
        return [(page.rect.width, page.rect.height) for page in document]


def page_zoom(width: float, height: float) -> float:
    """The pixels per point of the image of a page this size: ZOOM, or the largest zoom at which
    the image stays within MAX_PIXELS, each side counted one pixel longer for its rounding up:
    (width·z + 1)(height·z + 1) = MAX_PIXELS, solved for z."""
    area, sides = width * height, width + height
    if area <= 0:
        return ZOOM
    budget = (-sides + math.sqrt(sides * sides + 4 * area * (MAX_PIXELS - 1))) / (2 * area)
    return min(ZOOM, budget)


def page_png(data: bytes, number: int) -> bytes:
    """Page `number` (1-based) as a PNG image of at most MAX_PIXELS (see `page_zoom`)."""
    with _open(data) as document:
        if not 1 <= number <= document.page_count:
            raise IndexError(number)
        page = document[number - 1]
        zoom = page_zoom(page.rect.width, page.rect.height)
        pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        return pixmap.tobytes("png")


def find_phrase(data: bytes, phrase: str, pages: Iterable[int] | None = None) -> list[Area]:
    """Every occurrence of `phrase` (case-insensitive, as PyMuPDF's text search matches it), on
    `pages` (1-based) or on every page; one area per line the occurrence covers."""
    found: list[Area] = []
    with _open(data) as document:
        wanted = range(1, document.page_count + 1) if pages is None else pages
        for number in wanted:
            if not 1 <= number <= document.page_count:
                continue
            for rect in document[number - 1].search_for(phrase):
                found.append(Area(number, rect.x0, rect.y0, rect.x1, rect.y1))
                if len(found) >= MAX_PHRASE_HITS:
                    return found
    return found


class RotatedPage(ValueError):
    """A drawn area on a rotated page: the picture shows the page turned, while a redaction
    takes the page's own (unturned) coordinates, so the box would land elsewhere."""


def check_area(data: bytes, area: Area) -> Area:
    """`area` clipped to its page; ValueError when it is off the page or too small,
    RotatedPage when the page is rotated (mark its passages by their words instead)."""
    with _open(data) as document:
        if not 1 <= area.page <= document.page_count:
            raise ValueError("no such page")
        page = document[area.page - 1]
        if page.rotation:
            raise RotatedPage(area.page)
        width, height = page.rect.width, page.rect.height
    x0, x1 = sorted((max(0.0, min(area.x0, width)), max(0.0, min(area.x1, width))))
    y0, y1 = sorted((max(0.0, min(area.y0, height)), max(0.0, min(area.y1, height))))
    if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
        raise ValueError("the area is too small or off the page")
    return Area(area.page, x0, y0, x1, y1, area.label)


def redact(data: bytes, areas: Sequence[Area]) -> bytes:
    """A new PDF with everything under `areas` removed and each area's label printed in white
    on its black box; metadata, attachments, scripts and links are removed as well."""
    with _open(data) as document:
        by_page: dict[int, list[Area]] = {}
        for area in areas:
            by_page.setdefault(area.page, []).append(area)
        for number, marked in by_page.items():
            if not 1 <= number <= document.page_count:
                continue
            page = document[number - 1]
            for area in marked:
                rect = pymupdf.Rect(area.x0, area.y0, area.x1, area.y1)
                page.add_redact_annot(
                    rect,
                    text=area.label or None,
                    fontname="helv",
                    fontsize=_font_size(rect, area.label),
                    fill=(0, 0, 0),
                    text_color=(1, 1, 1),
                    cross_out=False,
                )
            # Text and vector graphics under the boxes go; image pixels under them are blanked.
            page.apply_redactions(
                images=pymupdf.PDF_REDACT_IMAGE_PIXELS,
                graphics=pymupdf.PDF_REDACT_LINE_ART_REMOVE_IF_TOUCHED,
            )
        return _scrubbed(document)


def _font_size(rect: pymupdf.Rect, label: str) -> float:
    """The largest size up to 9 pt at which `label` fits on one line of `rect`."""
    if not label:
        return 9
    by_width = rect.width / max(1.0, pymupdf.get_text_length(label, fontname="helv", fontsize=1))
    return max(3.0, min(9.0, rect.height * 0.8, by_width * 0.95))


def clean(data: bytes) -> bytes:
    """The PDF without its metadata (author, producer, XMP), attachments and scripts: what is
    published of a document that is public as a whole."""
    with _open(data) as document:
        return _scrubbed(document)


def _scrubbed(document: pymupdf.Document) -> bytes:
    document.scrub(
        attached_files=True,
        clean_pages=True,
        embedded_files=True,
        hidden_text=True,
        javascript=True,
        metadata=True,
        redactions=False,  # already applied
        remove_links=True,
        reset_fields=True,
        reset_responses=True,
        thumbnails=True,
        xml_metadata=True,
    )
    document.set_metadata({})
    return document.tobytes(garbage=4, deflate=True, clean=True, no_new_id=True)


def text_of(data: bytes) -> str:
    """The text PyMuPDF extracts from every page (for checks and tests)."""
    with _open(data) as document:
        return "\n".join(page.get_text() for page in document)

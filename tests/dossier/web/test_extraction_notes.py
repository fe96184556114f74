"""`dossier/extraction_notes.py`: every note ingest/extract writes (in English) has a Dutch
text, and the document page and the activity report show notes and automatic version
comments in the reader's language."""

from __future__ import annotations

import ast
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from dossier import documents
from dossier.extensions import db
from dossier.models import DocumentKind, Dossier, ExtractionStatus, User

pytestmark = pytest.mark.any_database


_WRITERS = {"note", "failure", "finish", "Unreadable", "TooLarge", "ChildFailed", "OcrFailed"}


def _rendered(node: ast.expr) -> str | None:
    """A string literal or f-string as ingest/extract would write it, with 7 for each value."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    text = ""
    for part in node.values:
        if isinstance(part, ast.Constant):
            text += str(part.value)
        elif (
            isinstance(part.value, ast.Call)
            and getattr(part.value.func, "id", "") == "plural"
            and isinstance(part.value.args[1], ast.Constant)
        ):
            text += f"7 {part.value.args[1].value}s"
        else:
            text += "7"
    return text


def _notes_written_by_search_extract() -> list[str]:
    import ingest.extract

    found = []
    for path in Path(ingest.extract.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            candidates: list[ast.expr] = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", "")
                if name in _WRITERS:
                    candidates = [*node.args, *(k.value for k in node.keywords)]
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
                candidates = node.value.elts  # (status, reason) pairs
            elif isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "").isupper():
                candidates = [node.value]  # module constants such as ocr.UNAVAILABLE
            for candidate in candidates:
                text = _rendered(candidate)
                if text and " " in text or text == "ocr":
                    found.append(f"{path.name}: {text}")
    return found


def test_every_extraction_note_has_a_dutch_text(app: Flask) -> None:
    """ingest/extract writes English notes; the document page shows each in Dutch."""
    from dossier import extraction_notes

    written = _notes_written_by_search_extract()
    assert len(written) > 40  # the scan found the notes
    ignored = ("a MIME ", "pages is not", "the result is not", "metadata is not", "page_count is")
    with app.test_request_context():
        for entry in written:
            text = entry.split(": ", 1)[1]
            if text.startswith(ignored) or text.startswith("an attachment "):
                continue  # messages of ValueError checks, never stored as a note
            assert extraction_notes.known(text), entry
            assert extraction_notes.note_text(text) != text, entry


def test_document_page_shows_extraction_notes_and_attachment_comment_in_dutch(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier("2025-017")
    with documents.receive(io.BytesIO(b"Artikel 1\n"), "bericht.txt") as upload:
        document = documents.file_document(
            admin, dossier, upload, kind=DocumentKind.CORRESPONDENCE, comment="attachment of Brief"
        )
    version = document.current_version
    # As ingest/extract records them: notes joined by "; ", a library message inside one.
    version.extraction_detail = (
        "only the first 500 of 812 pages were read; 2 attachments could not be saved; "
        "the PDF structure is unreadable (Stream has ended unexpectedly); an odd note"
    )
    db.session.commit()
    page = app.test_client(user=admin).get(f"/dossiers/2025-017/documents/{document.id}").text
    assert "alleen de eerste 500 van 812 pagina&#39;s zijn gelezen" in page
    assert "bijlagen die niet konden worden opgeslagen: 2" in page
    assert "de opbouw van de pdf is onleesbaar (Stream has ended unexpectedly)" in page
    assert "an odd note" in page  # an unknown note is shown as recorded
    assert "were read" not in page and "could not be saved" not in page
    assert "Bijlage van Brief" in page and "attachment of" not in page


def test_the_activity_report_shows_extraction_notes_in_dutch(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier("2025-018")
    with documents.receive(io.BytesIO(b"Scan van een brief\n"), "scan.txt") as upload:
        document = documents.file_document(admin, dossier, upload, kind=DocumentKind.ANNEX)
    version = document.current_version
    version.extraction_status = ExtractionStatus.OCR_UNAVAILABLE
    version.extraction_detail = "OCR is not installed (tesseract with the nld and eng languages)"
    db.session.commit()
    page = app.test_client(user=admin).get("/reports/activity").text
    assert "OCR is not installed" not in page
    assert "scan.txt" in page or document.title in page

"""Three ways a Woo request could show more than it should, each closed: reads of confidential
documents through the Woo pages and the package are audited like downloads; a PDF page of
200 by 200 inches is drawn within a pixel budget and a box drawn on its image still lands on
the right words; a public document that is no PDF is published as a PDF of its text, without
its author, comments or mail headers, and a package without such a PDF is refused by name."""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from datetime import date

import docx
import pymupdf
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from dossier import documents, indexing, redaction, woo, woo_marks, woo_package
from dossier.errors import DomainError
from dossier.extensions import db
from dossier.models import (
    Assessment,
    AuditAction,
    AuditEvent,
    Confidentiality,
    Document,
    DocumentKind,
    Dossier,
    MemberRole,
    User,
    WooDocument,
    WooRequest,
)
from tests.dossier.test_woo import _letter_pdf, _texts

TODAY = date(2026, 6, 1)
SECRET = Confidentiality.CONFIDENTIAL


@pytest.fixture
def dossier(handler: User, make_dossier: Callable[..., Dossier]) -> Dossier:
    """A dossier whose confidential documents the handler reads (as its manager)."""
    return make_dossier("WOO-100", members={handler: MemberRole.MANAGER})


def _file(
    actor: User,
    dossier: Dossier,
    data: bytes,
    name: str,
    title: str,
    confidentiality: Confidentiality = Confidentiality.NORMAL,
) -> Document:
    with documents.receive(io.BytesIO(data), name) as upload:
        document = documents.file_document(
            actor,
            dossier,
            upload,
            kind=DocumentKind.CORRESPONDENCE,
            title=title,
            confidentiality=confidentiality,
        )
    db.session.commit()
    return document


def _collect(
    handler: User, request_: WooRequest, document: Document, assessment: Assessment
) -> WooDocument:
    (item,) = woo.collect(handler, request_, [document.id])
    woo.assess(
        handler, item, assessment, ["5.1.2e"] if assessment == Assessment.NOT_PUBLIC else [], ""
    )
    db.session.commit()
    return item


def _reads() -> list[tuple[int, int]]:
    """(version id, user id) of every recorded read of a confidential version."""
    db.session.rollback()
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == AuditAction.VERSION_READ)
        .order_by(AuditEvent.id)
    )
    return [(int(e.object_id), e.actor_id) for e in events]


# 1. Reads of confidential documents through Woo are audited


def test_page_images_the_redacted_pdf_and_the_package_record_confidential_reads(
    handler: User,
    request_: WooRequest,
    dossier: Dossier,
    admin: User,
    client_for: Callable[..., FlaskClient],
) -> None:
    secret = _file(admin, dossier, _letter_pdf(), "b.pdf", "Vertrouwelijke brief", SECRET)
    normal = _file(admin, dossier, _letter_pdf(), "o.pdf", "Gewone brief")
    withheld = _file(admin, dossier, _letter_pdf(), "w.pdf", "Geheime notitie", SECRET)
    item = _collect(handler, request_, secret, Assessment.PARTLY_PUBLIC)
    plain = _collect(handler, request_, normal, Assessment.PUBLIC)
    _collect(handler, request_, withheld, Assessment.NOT_PUBLIC)
    woo_marks.mark_phrase(handler, item, "Jan Jansen", "5.1.2e")
    woo_marks.make_redacted(handler, item)
    woo.set_decision_text(handler, request_, "Besluit: deels openbaar.")
    db.session.commit()
    read = (item.version_id, handler.id)
    base = f"/woo/{request_.id}"
    client = client_for(handler)
    assert _reads() == []

    assert client.get(f"{base}/documents/{item.id}").status_code == 200  # no image: no read
    assert _reads() == []
    # Each image sent is a read, as each download is; the missing page is none.
    for expected in ([read], [read, read]):
        assert client.get(f"{base}/documents/{item.id}/pages/1.png").status_code == 200
        assert _reads() == expected
    assert client.get(f"{base}/documents/{item.id}/pages/9.png").status_code == 404
    assert client.get(f"{base}/documents/{plain.id}/pages/1.png").status_code == 200
    assert _reads() == [read, read]  # a document that is not confidential: no event
    assert client.get(f"{base}/documents/{item.id}/redacted.pdf").status_code == 200
    assert _reads() == [read] * 3

    # The package reads the two it publishes: the confidential one is recorded, once; the
    # document withheld as a whole is not in it, so it is not read.
    answer = client.get(f"{base}/package.zip")
    assert answer.status_code == 200 and answer.data.startswith(b"PK")
    assert _reads() == [read] * 4
    export = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.WOO_EXPORT)
    ).one()
    assert export.after == {"documents": 2, "items": 3}


@pytest.mark.parametrize(
    "headers", [{"Sec-Fetch-Site": "cross-site"}, {"Referer": "https://evil.example/mail"}]
)
def test_a_link_from_another_site_reads_no_confidential_woo_document(
    handler: User,
    request_: WooRequest,
    dossier: Dossier,
    admin: User,
    client_for: Callable[..., FlaskClient],
    headers: dict[str, str],
) -> None:
    """As for a download: another site must not make a read in the user's name. The user is
    sent to the page that links the file, where the click is their own."""
    secret = _file(admin, dossier, _letter_pdf(), "b.pdf", "Vertrouwelijke brief", SECRET)
    item = _collect(handler, request_, secret, Assessment.PARTLY_PUBLIC)
    woo_marks.mark_phrase(handler, item, "Jan Jansen", "5.1.2e")
    woo_marks.make_redacted(handler, item)
    woo.set_decision_text(handler, request_, "Besluit: deels openbaar.")
    db.session.commit()
    base = f"/woo/{request_.id}"
    client = client_for(handler)
    for path, back in [
        (f"/documents/{item.id}/pages/1.png", f"/documents/{item.id}?page=1"),
        (f"/documents/{item.id}/redacted.pdf", f"/documents/{item.id}"),
        ("/package.zip", ""),
    ]:
        answer = client.get(base + path, headers=headers)
        assert answer.status_code == 303, path
        assert answer.headers["Location"] == base + back
    assert _reads() == []
    assert (
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == AuditAction.WOO_EXPORT)
        ).all()
        == []
    )
    # From its own pages the same addresses serve and record.
    own = {"Sec-Fetch-Site": "same-origin"}
    assert client.get(f"{base}/documents/{item.id}/pages/1.png", headers=own).status_code == 200
    assert _reads() == [(item.version_id, handler.id)]


# 2. Page images within a pixel budget, marks in PDF points whatever the image's size

HUGE = 14_400.0  # points: 200 inches, the largest page PDF allows without a UserUnit
BUDGET = 8_000_000  # pixels of one page image at most (at ZOOM, HUGE would take 466 million)


def _huge_pdf() -> bytes:
    """One page of 14,400 by 14,400 points: a secret line in the top half, a kept one below."""
    document = pymupdf.open()
    page = document.new_page(width=HUGE, height=HUGE)
    page.insert_text((2_000, 4_000), "Geheim rekeningnummer", fontsize=600)
    page.insert_text((2_000, 11_000), "Deze regel blijft staan", fontsize=600)
    data = document.tobytes()
    document.close()
    return data


def _dark_box(png: bytes, rows: range) -> tuple[int, int, int, int]:
    """The bounding box (x0, y0, x1, y1) in pixels of the dark pixels within `rows`."""
    pixmap = pymupdf.Pixmap(png)
    samples, n, width = pixmap.samples, pixmap.n, pixmap.width
    xs, ys = [], []
    for y in rows:
        line = samples[y * width * n : (y + 1) * width * n]
        dark = [x for x in range(width) if line[x * n] < 128]
        if dark:
            xs += [dark[0], dark[-1]]
            ys.append(y)
    return min(xs), min(ys), max(xs) + 1, max(ys) + 1


def test_a_huge_page_is_drawn_within_budget_and_a_box_drawn_on_it_lands_on_its_words(
    handler: User,
    request_: WooRequest,
    dossier: Dossier,
    admin: User,
    client_for: Callable[..., FlaskClient],
) -> None:
    source = _huge_pdf()
    document = _file(admin, dossier, source, "plattegrond.pdf", "Plattegrond")
    item = _collect(handler, request_, document, Assessment.PARTLY_PUBLIC)
    base = f"/woo/{request_.id}/documents/{item.id}"
    client = client_for(handler)
    image = client.get(f"{base}/pages/1.png")
    assert image.status_code == 200
    pixmap = pymupdf.Pixmap(image.data)
    assert pixmap.width * pixmap.height <= BUDGET
    assert pixmap.width == pixmap.height > 2_000  # square, and as sharp as the budget allows
    # The page shows the image at the page's size in points, whatever its pixels: the drawing
    # script reads points off the picture (woo.js), never pixels times a zoom.
    page = client.get(base).get_data(as_text=True)
    assert 'viewBox="0 0 14400.0 14400.0"' in page
    assert 'width="14400.0" height="14400.0"' in page
    # What a user drags around the secret line on the picture, as the browser converts it.
    x0, y0, x1, y1 = _dark_box(image.data, range(pixmap.height // 2))
    scale = HUGE / pixmap.width
    area = {"mode": "area", "ground": "5.1.2e", "x0": (x0 - 2) * scale, "y0": (y0 - 2) * scale}
    area |= {"x1": (x1 + 2) * scale, "y1": (y1 + 2) * scale}
    assert client.post(f"{base}/passages?page=1", data=area).status_code == 302
    assert client.post(f"{base}/redact").status_code == 302
    for text in _texts(client.get(f"{base}/redacted.pdf").data):
        assert "rekeningnummer" not in text and "Geheim" not in text
        assert "Deze regel blijft staan" in text


@pytest.mark.parametrize(
    ("width", "height", "zoom"),
    [
        (595, 842, redaction.ZOOM),
        (HUGE, 3, redaction.ZOOM),
        (HUGE, HUGE, None),
        (HUGE, HUGE / 7, None),
    ],
)
def test_the_zoom_of_a_page_image_keeps_it_within_budget(
    width: float, height: float, zoom: float | None
) -> None:
    """An A4 page and a long strip keep the usual zoom; a huge page gets the largest within
    the budget, its rounding up included, as PyMuPDF draws it."""
    document = pymupdf.open()
    document.new_page(width=width, height=height)
    page = document[0]
    found = redaction.page_zoom(page.rect.width, page.rect.height)
    if zoom is not None:
        assert found == zoom
    pixmap = page.get_pixmap(matrix=pymupdf.Matrix(found, found), alpha=False)
    assert pixmap.width * pixmap.height <= redaction.MAX_PIXELS
    if zoom is None:
        assert pixmap.width * pixmap.height > 0.99 * redaction.MAX_PIXELS
    assert redaction.page_zoom(0, 0) == redaction.ZOOM
    assert redaction.MAX_PIXELS <= BUDGET


def test_many_pages_cost_linear_time() -> None:
    """Page sizes, a phrase on every page and an area on the last page of 3,000 pages."""
    document = pymupdf.open()
    for number in range(3_000):
        document.new_page().insert_text((72, 72), f"Bladzijde {number + 1} met Jan Jansen")
    data = document.tobytes()
    document.close()
    started = time.monotonic()
    assert len(redaction.page_sizes(data)) == 3_000
    assert len(redaction.find_phrase(data, "Jan Jansen")) == redaction.MAX_PHRASE_HITS
    assert redaction.check_area(data, redaction.Area(3_000, 60, 50, 300, 90)).page == 3_000
    assert time.monotonic() - started < 20  # about a second; quadratic would be minutes


# 3. A public document that is no PDF is published as a PDF of its text


def _word_file() -> bytes:
    """A .docx with an author, a comment and a paragraph of public text."""
    word = docx.Document()
    word.core_properties.author = "Piet Auteur"
    word.core_properties.comments = "interne opmerking in de eigenschappen"
    paragraph = word.add_paragraph("De gemeente koopt schoonmaakdiensten in.")
    word.add_comment(paragraph.runs, text="Niet doorsturen naar de pers", author="Piet Auteur")
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


MAIL = (
    b"Received: from mail.intern.gemeente.example (10.20.30.40)\r\n"
    b"X-Originating-IP: [10.20.30.41]\r\n"
    b"Message-ID: <geheim-42@intern.gemeente.example>\r\n"
    b"From: Inkoop <inkoop@gemeente.example>\r\n"
    b"To: Leverancier <verkoop@leverancier.example>\r\n"
    b"Subject: Gunning schoonmaak\r\n"
    b"Date: Mon, 2 Mar 2026 10:00:00 +0100\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Wij gunnen de opdracht aan u.\r\n"
)


def test_public_documents_that_are_no_pdf_are_published_as_pdfs_of_their_text(
    handler: User,
    request_: WooRequest,
    dossier: Dossier,
    admin: User,
    client_for: Callable[..., FlaskClient],
) -> None:
    word = _file(admin, dossier, _word_file(), "concept_PietAuteur_v3.docx", "Inkoopnotitie")
    mail = _file(admin, dossier, MAIL, "gunning.eml", "Gunningsmail")
    note = _file(admin, dossier, b"Openbare aantekening\n", "aantekening.txt", "Aantekening")
    indexing.drain()  # the text is extracted
    for document in (word, mail, note):
        _collect(handler, request_, document, Assessment.PUBLIC)
    woo.set_decision_text(handler, request_, "Besluit: openbaar.")
    db.session.commit()
    assert woo.package_problems(request_) == []
    answer = client_for(handler).get(f"/woo/{request_.id}/package.zip")
    assert answer.status_code == 200
    names = ["0001-Inkoopnotitie.pdf", "0002-Gunningsmail.pdf", "0003-Aantekening.pdf"]
    with zipfile.ZipFile(io.BytesIO(answer.data)) as archive:
        assert sorted(archive.namelist()) == sorted(
            [f"documenten/{n}" for n in names]
            + ["besluit.txt", "inventarislijst.csv", "inventarislijst.xlsx"]
        )
        files = [archive.read(f"documenten/{n}") for n in names]
        inventory = archive.read("inventarislijst.csv").decode("utf-8-sig")
    for data, kept in zip(
        files,
        ["De gemeente koopt schoonmaakdiensten in.", "Wij gunnen de opdracht aan u.", "Openbare"],
        strict=True,
    ):
        assert data.startswith(b"%PDF-")
        assert pymupdf.open(stream=data, filetype="pdf").metadata["author"] == ""
        for text in _texts(data):
            assert kept in text
            for leak in ("Piet Auteur", "Niet doorsturen", "interne opmerking", "10.20.30"):
                assert leak not in text
            assert "intern.gemeente" not in text and "PietAuteur" not in text
        assert b"Piet Auteur" not in data and b"10.20.30.40" not in data
    # The inventory names the published PDFs.
    for name in names:
        assert name in inventory
    assert ".docx" not in inventory and ".eml" not in inventory


def test_a_public_document_without_text_stops_the_package_by_name(
    handler: User,
    request_: WooRequest,
    dossier: Dossier,
    admin: User,
    client_for: Callable[..., FlaskClient],
) -> None:
    picture = pymupdf.open()
    picture.new_page(width=200, height=100)
    png = picture[0].get_pixmap().tobytes("png")
    image = _file(admin, dossier, png, "foto.png", "Foto van de bouwplaats")
    letter = _file(admin, dossier, _letter_pdf(), "brief.pdf", "Openbare brief")
    indexing.drain()  # an image without text: nothing is extracted
    _collect(handler, request_, letter, Assessment.PUBLIC)
    item = _collect(handler, request_, image, Assessment.PUBLIC)
    assert not (item.version.text or "").strip()
    woo.set_decision_text(handler, request_, "Besluit: openbaar.")
    db.session.commit()
    (problem,) = woo.package_problems(request_)
    assert "Foto van de bouwplaats" in problem  # in Dutch on the page, below
    with pytest.raises(DomainError):
        woo.decide(handler, request_, TODAY)
    answer = client_for(handler).get(f"/woo/{request_.id}/package.zip", follow_redirects=True)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    body = answer.get_data(as_text=True)
    assert "document 2 (Foto van de bouwplaats) is geen pdf" in body
    assert (
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == AuditAction.WOO_EXPORT)
        ).all()
        == []
    )
    # Withheld instead, it is no longer published and the package can be made.
    woo.assess(handler, item, Assessment.NOT_PUBLIC, ["5.1.2e"], "")
    db.session.commit()
    assert woo.package_problems(request_) == []
    assert woo_package.published_name(item) is None

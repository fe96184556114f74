"""`dossier/web/documents.py`, showing a filed document: the extraction status while its text is
read, a PDF inline with safe headers, the comparison of two versions, and the breadcrumb of an
earlier version."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask

from dossier import indexing
from dossier.models import Dossier, User
from tests.conftest import need
from tests.dossier.helpers import VNG, _upload


def _cuad_text(corpus: Path) -> Path:
    texts = sorted((corpus / "cuad-dev" / "txt").glob("*.txt"))
    need(bool(texts), "no CUAD texts in the corpus")
    return texts[0]


def test_status_endpoint_reports_pending_then_done(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], corpus: Path
) -> None:
    dossier = make_dossier()
    client = app.test_client(user=admin)
    page = _upload(
        client, f"/dossiers/{dossier.reference}/documents/new", _cuad_text(corpus), kind="contract"
    )
    status_url = page + "/versions/1/status"
    before = client.get(status_url).get_json()
    assert before == {"status": "pending", "label": "Tekst wordt nog uitgelezen", "done": False}
    assert 'http-equiv="refresh"' in client.get(page).text  # the no-script fallback
    indexing.drain()
    after = client.get(status_url).get_json()
    assert after["done"] is True and after["status"] == "ok"
    assert 'http-equiv="refresh"' not in client.get(page).text
    assert client.get(page + "/versions/9/status").status_code == 404


def test_pdf_opens_inline_with_safe_headers_other_types_never(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
    corpus: Path,
) -> None:
    dossier = make_dossier()
    client = app.test_client(user=admin)
    new = f"/dossiers/{dossier.reference}/documents/new"
    # Small files: the test client spools bigger request bodies to files it never closes.
    pdf = _upload(client, new, corpus / "pdf-varied" / "labelled_pages.pdf", kind="report")
    docx = _upload(client, new, corpus / VNG / "Nieuwe planning.docx", kind="other")
    response = client.get(pdf + "/versions/1/view")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "script-src" not in response.headers["Content-Security-Policy"]
    response.close()
    assert client.get(docx + "/versions/1/view").status_code == 404
    assert 'target="_blank"' in client.get(pdf).text
    assert 'target="_blank"' not in client.get(docx).text
    outsider = app.test_client(user=make_user("outsider@example.org"))
    assert outsider.get(pdf + "/versions/1/view").status_code == 404


def test_compare_shows_changed_lines_escaped(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], corpus: Path, tmp_path: Path
) -> None:
    original = _cuad_text(corpus)
    lines = original.read_text(encoding="utf-8").splitlines()
    changed = tmp_path / original.name
    middle = len(lines) // 2
    edited = [*lines[:middle], "Payment within 14 days <b>net</b> & more.", *lines[middle + 1 :]]
    changed.write_text("\n".join(edited) + "\n", encoding="utf-8")
    dossier = make_dossier()
    client = app.test_client(user=admin)
    page = _upload(
        client, f"/dossiers/{dossier.reference}/documents/new", original, kind="contract"
    )
    _upload(client, page + "/versions/new", changed, comment="Payment term changed")
    indexing.drain()
    text = client.get(page + "/compare").text
    assert "Wijzigingen van versie 1 naar 2" in text
    assert "<ins>Payment within 14 days &lt;b&gt;net&lt;/b&gt; &amp; more.</ins>" in text
    assert "<b>net</b>" not in text
    assert "1 regel toegevoegd, 1 regel verwijderd" in text
    assert client.get(page + "/compare?old=1&new=7").status_code == 404


def test_breadcrumb_names_an_earlier_version(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], corpus: Path
) -> None:
    dossier = make_dossier()
    client = app.test_client(user=admin)
    text = _cuad_text(corpus)
    page = _upload(client, f"/dossiers/{dossier.reference}/documents/new", text, kind="contract")
    current = client.get(page).text
    assert "Versie 1</span>" not in current
    upload = client.get(f"/dossiers/{dossier.reference}/documents/new").text
    assert 'aria-describedby="file-hint"' in upload and 'id="file-hint"' in upload
    _upload(client, page + "/versions/new", text, comment="Same text, filed again")
    earlier = client.get(page + "?version=1").text
    assert '<span aria-current="page">Versie 1</span>' in earlier
    assert f'href="{page}">' in earlier  # the document itself is a link one step up


def test_a_long_article_stored_in_parts_is_listed_once(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], tmp_path: Path
) -> None:
    # Article 2 is longer than a clause may be: it is stored in parts that keep its heading.
    paragraphs = [f"Lid {n}. De leverancier onderhoudt de programmatuur. " * 12 for n in range(30)]
    text = "Artikel 1 Begrippen\nDefinities.\n\nArtikel 2 Onderhoud\n" + "\n\n".join(paragraphs)
    text += "\n\nArtikel 3 Betaling\nBinnen dertig dagen.\n"
    source = tmp_path / "overeenkomst.txt"
    source.write_text(text, encoding="utf-8")
    dossier = make_dossier()
    client = app.test_client(user=admin)
    page = _upload(client, f"/dossiers/{dossier.reference}/documents/new", source, kind="contract")
    indexing.drain()
    html = client.get(page).text
    toc = html[html.index('class="toc"') : html.index("</nav>", html.index('class="toc"'))]
    assert toc.count("2 Onderhoud") == 1 and "3 Betaling" in toc
    parts = html.count("<h3>2 Onderhoud")
    assert parts > 1 and html.count("(vervolg)") == parts - 1

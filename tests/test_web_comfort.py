"""Working comfort over HTTP: the extraction status endpoint, a PDF shown inline with the safe
headers, the comparison of two versions, and the dossier's filterable, sortable document list."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from dossier import indexing
from dossier.compare import compare_texts
from dossier.models import Dossier, MemberRole, User
from tests.conftest import need

VNG = "dutch/vng-softwarecatalogus-aanbesteding"


def _upload(client: FlaskClient, url: str, path: Path, **fields: str) -> str:
    with path.open("rb") as handle:
        response = client.post(
            url,
            data={"file": (handle, path.name), "confidentiality": "normal", **fields},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302, response.text
    return response.headers["Location"]


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


def test_compare_texts_groups_changes_with_context() -> None:
    old = "\n".join(f"line {i}" for i in range(1, 21))
    new = old.replace("line 3", "line three").replace("line 18\n", "")
    result = compare_texts(old, new, context=1)
    kinds = [line.kind for line in result.lines]
    assert kinds == ["same", "removed", "added", "same", "gap", "same", "removed", "same"]
    assert (result.added, result.removed) == (1, 2)
    assert compare_texts("a\nb", "a\nb").lines == []


def test_dossier_document_list_filters_and_sorts_from_the_url(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
    corpus: Path,
) -> None:
    reader = make_user("reader@example.org")
    dossier = make_dossier(members={reader: MemberRole.READER})
    client = app.test_client(user=admin)
    new = f"/dossiers/{dossier.reference}/documents/new"
    _upload(client, new, corpus / VNG / "Nieuwe planning.docx", kind="other", title="Planning")
    xlsx = corpus / VNG / "Bijlage 4 - Vragenformulier VNGR EA Vernieuwen Softwarecatalogus.xlsx"
    _upload(client, new, xlsx, kind="minutes", title="Aa")
    _upload(client, new, corpus / "eml" / "attachments_basic_email.eml", kind="correspondence")
    base = f"/dossiers/{dossier.reference}"
    assert client.get(base + "?kind=minutes").text.count("/versions/1/download") == 1
    by_title = client.get(base + "?sort=title").text
    assert by_title.index(">Aa<") < by_title.index(">Planning<")
    by_title_desc = client.get(base + "?sort=-title").text
    assert by_title_desc.index(">Planning<") < by_title_desc.index(">Aa<")
    filtered = client.get(base + "?q=plan").text
    assert ">Planning<" in filtered and ">Aa<" not in filtered
    assert "Geen enkel document voldoet" in client.get(base + "?q=%25_nothing").text
    assert client.get(base + "?sort=evil&kind=evil").status_code == 200
    assert (
        "Er zijn nog geen documenten"
        in app.test_client(user=reader)
        .get(f"/dossiers/{make_dossier(members={reader: MemberRole.READER}).reference}")
        .text
    )


def test_register_pages_keep_filters_and_sort(app: Flask, admin: User) -> None:
    from dossier import dossiers
    from dossier.extensions import db

    for i in range(1, 103):
        status = "active" if i % 2 else "draft"
        dossiers.create_dossier(
            admin, {"reference": f"2024-{i:03d}", "title": f"Contract {i}", "status": status}
        )
    db.session.commit()
    client = app.test_client(user=admin)
    first = client.get("/?sort=-reference").text
    assert "102 dossiers" in first and "Pagina 1 van 2" in first
    assert "2024-102" in first and "2024-002<" not in first
    assert 'href="/?sort=-reference&amp;page=2"' in first
    second = client.get("/?sort=-reference&page=2").text
    assert "2024-002<" in second and "2024-001<" in second and "2024-102<" not in second
    active = client.get("/?status=active&page=9").text  # beyond the end: the last page
    assert "51 dossiers" in active and "2024-001<" in active and "Pagina" not in active


def test_hints_and_errors_are_tied_to_their_fields(app: Flask, admin: User) -> None:
    client = app.test_client(user=admin)
    dossier = client.get("/dossiers/new")
    assert dossier.status_code == 200
    refused = client.post("/dossiers/new", data={"reference": "", "title": ""})
    assert refused.status_code == 400
    assert 'aria-describedby="reference-hint reference-error"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert 'id="reference-error"' in refused.text


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


def test_empty_register_says_what_to_do(
    app: Flask, admin: User, make_user: Callable[..., User]
) -> None:
    assert "Registreer het eerste dossier" in app.test_client(user=admin).get("/").text
    reader = app.test_client(user=make_user("reader@example.org")).get("/").text
    assert "nog geen dossiers" in reader and "Registreer het eerste dossier" not in reader

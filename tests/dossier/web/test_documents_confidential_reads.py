"""What counts as a read of a confidential document, and what does not: a page that shows its
text, a download or an inline view is audited once; a link followed from another site, the
extraction-status polling after an upload and a search result list are not reads, and they do
not show the text either."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import documents, indexing, searching
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import AuditEvent, Confidentiality, Document, DocumentKind, Dossier, User
from tests.system.test_index_faults import wait_for_background_indexing

SECRET = "zwartezwaan"  # only in the text of the confidential document
TEXT = f"Artikel 1 Prijzen\nDe prijs {SECRET} geldt het hele jaar.\n"
FROM_ELSEWHERE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},  # a sibling host name is another site too
    {"Referer": "https://evil.example/mail"},  # a browser without Fetch Metadata
]
FROM_HERE = [
    {"Sec-Fetch-Site": "same-origin"},
    {"Sec-Fetch-Site": "none"},  # typed, a bookmark, or a link in a desktop mail client
    {"Referer": "http://localhost/dossiers"},
    {},  # no browser at all
]


def _reads() -> list[AuditEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "version.read"))
    )


def _file(
    actor: User,
    dossier: Dossier,
    data: bytes,
    name: str,
    confidentiality: Confidentiality = Confidentiality.CONFIDENTIAL,
) -> Document:
    with documents.receive(io.BytesIO(data), name) as upload:
        document = documents.file_document(
            actor, dossier, upload, kind=DocumentKind.ANNEX, confidentiality=confidentiality
        )
    db.session.commit()
    return document


@pytest.fixture
def secret(admin: User, make_dossier: Callable[..., Dossier]) -> str:
    """The address of a confidential document whose text is extracted (two versions)."""
    document = _file(admin, make_dossier("2025-500"), TEXT.encode(), "prijzen.txt")
    with documents.receive(io.BytesIO((TEXT + "Artikel 2\nNieuw.\n").encode()), "p.txt") as up:
        documents.add_version(admin, document, up)
    db.session.commit()
    indexing.drain()
    return f"/dossiers/2025-500/documents/{document.id}"


# A link from another site: a page to confirm on, no text, no audit event


@pytest.mark.parametrize("headers", FROM_ELSEWHERE)
@pytest.mark.parametrize("path", ["", "?version=1", "/compare", "/versions/1/download"])
def test_a_link_from_another_site_asks_first_and_records_nothing(
    app: Flask, admin: User, secret: str, path: str, headers: dict[str, str]
) -> None:
    client = app.test_client(user=admin)
    response = client.get(secret + path, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert SECRET not in response.text
    assert "Vertrouwelijk document openen" in response.text
    assert _reads() == [], "nothing was read in the user's name"

    # The one extra click: the page's own link, followed from our own page.
    target = re.search(r'<a role="button" href="([^"]+)">Vertrouwelijk', response.text)
    assert target is not None
    assert target.group(1).replace("&amp;", "&") == secret + path
    opened = client.get(target.group(1).replace("&amp;", "&"), headers=FROM_HERE[0])
    assert opened.status_code == 200
    assert SECRET.encode() in opened.data
    opened.close()
    assert len(_reads()) == (2 if path == "/compare" else 1)
    assert {e.actor_id for e in _reads()} == {admin.id}


@pytest.mark.parametrize("headers", FROM_HERE)
def test_a_read_started_here_or_outside_a_browser_opens_at_once(
    app: Flask, admin: User, secret: str, headers: dict[str, str]
) -> None:
    response = app.test_client(user=admin).get(secret, headers=headers)
    assert response.status_code == 200 and SECRET in response.text
    assert len(_reads()) == 1


def test_an_inline_view_from_another_site_asks_first(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], corpus: Path
) -> None:
    pdf = corpus / "pdf-varied" / "labelled_pages.pdf"
    document = _file(admin, make_dossier("2025-501"), pdf.read_bytes(), pdf.name)
    view = f"/dossiers/2025-501/documents/{document.id}/versions/1/view"
    client = app.test_client(user=admin)
    asked = client.get(view, headers=FROM_ELSEWHERE[0])
    assert asked.status_code == 200 and asked.mimetype == "text/html"
    assert _reads() == []
    shown = client.get(view, headers=FROM_HERE[0])
    assert shown.status_code == 200 and shown.mimetype == "application/pdf"
    shown.close()
    assert len(_reads()) == 1


def test_a_normal_document_opens_from_anywhere(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    document = _file(
        admin, make_dossier("2025-502"), TEXT.encode(), "open.txt", Confidentiality.NORMAL
    )
    response = app.test_client(user=admin).get(
        f"/dossiers/2025-502/documents/{document.id}/versions/1/download",
        headers=FROM_ELSEWHERE[0],
    )
    assert response.status_code == 200 and SECRET.encode() in response.data
    response.close()
    assert _reads() == []


# An upload and the extraction-status polling after it: one read, when the text is shown


def test_uploading_and_waiting_for_the_text_is_one_read(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier("2025-503")
    client = app.test_client(user=admin)
    # As the upload script sends it: it asks for JSON and then goes to the address itself.
    filed = client.post(
        f"/dossiers/{dossier.reference}/documents/new",
        data={
            "file": (io.BytesIO(TEXT.encode()), "prijzen.txt"),
            "kind": "annex",
            "confidentiality": "confidential",
        },
        content_type="multipart/form-data",
        headers={"Accept": "application/json"},
    )
    assert filed.status_code == 201
    page = filed.get_json()["url"]
    assert re.fullmatch(r"/dossiers/2025-503/documents/\d+", page)
    status = page + "/versions/1/status"

    waiting = client.get(page, headers=FROM_HERE[0])  # the text is still being extracted
    assert waiting.status_code == 200 and SECRET not in waiting.text
    for _ in range(3):
        assert client.get(status).get_json()["done"] is False
        client.get(page)  # the no-script page refreshes itself
    assert _reads() == [], "waiting for the text is not reading it"

    indexing.drain()
    assert client.get(status).get_json()["done"] is True
    shown = client.get(page, headers=FROM_HERE[0])  # the script reloads the page
    assert SECRET in shown.text
    assert len(_reads()) == 1


def test_a_form_upload_still_goes_on_to_the_document(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    filed = app.test_client(user=admin).post(
        f"/dossiers/{make_dossier('2025-504').reference}/documents/new",
        data={"file": (io.BytesIO(b"Brief.\n"), "brief.txt"), "kind": "annex"}
        | {"confidentiality": "normal"},
        content_type="multipart/form-data",
    )
    assert filed.status_code == 302
    assert re.search(r"/dossiers/2025-504/documents/\d+$", filed.headers["Location"])


# Search results: confidential text is not shown there


def test_search_results_do_not_show_confidential_text(
    app: Flask, admin: User, secret: str, make_dossier: Callable[..., Dossier]
) -> None:
    open_doc = _file(
        admin,
        make_dossier("2025-505"),
        f"Artikel 1 Prijzen\nDe prijs {SECRET}-open is openbaar.\n".encode(),
        "open.txt",
        Confidentiality.NORMAL,
    )
    indexing.drain()
    client: FlaskClient = app.test_client(user=admin)
    for mode in ("documents", "clauses"):
        page = client.get("/search", query_string={"q": SECRET, "mode": mode}).text
        assert secret in page, "the confidential document is found"
        assert f"{SECRET}-open" in page or f"<mark>{SECRET}</mark>-open" in page
        confidential_hits = [h for h in page.split('<li class="hit">') if secret in h]
        assert confidential_hits and all("geldt het hele jaar" not in h for h in confidential_hits)
        assert all("Prijzen" not in h for h in confidential_hits), "nor its clause headings"
        assert "vastgelegd in de audittrail" in page
    result = app.test_cli_runner().invoke(
        cli, ["search", SECRET, "--as", admin.email, "--json", "--clauses"]
    )
    assert result.exit_code == 0, result.output
    hits = {h["document_id"]: h for h in json.loads(result.output)}
    hidden = [h for h in hits.values() if h["document_id"] != open_doc.id]
    assert hidden and all(h["text_withheld"] for h in hidden)
    assert all("geldt" not in (h["text"] or "") + h["snippet"] for h in hidden)
    assert "openbaar" in hits[open_doc.id]["text"] and not hits[open_doc.id]["text_withheld"]
    assert _reads() == [], "a result list reads nothing"


def test_the_fallback_search_does_not_show_confidential_text(
    app: Flask, admin: User, secret: str
) -> None:
    shutil.rmtree(app.config["INDEX_DIR"])
    outcome = searching.search(admin, SECRET, mode="clauses")
    wait_for_background_indexing()
    assert outcome.degraded and outcome.result.hits
    assert {h.document_id for h in outcome.result.hits} == outcome.withheld
    assert all(SECRET not in h.text + h.snippet + h.heading for h in outcome.result.hits)

"""`dossier/web/documents.py`, filing over HTTP: the main flow (register a dossier, file a
contract, an annex and an e-mail, add a version, download every version byte for byte), a
renamed executable refused, hostile file names, the warning for bytes the dossier already
holds, and the charset of a text download."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import documents
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    OutboxItem,
    User,
)

VNG = "dutch/vng-softwarecatalogus-aanbesteding"


def _upload(client: FlaskClient, ref: str, path: Path, kind: str, **extra: str):
    with path.open("rb") as handle:
        return client.post(
            f"/dossiers/{ref}/documents/new",
            data={"file": (handle, path.name), "kind": kind, "confidentiality": "normal", **extra},
            content_type="multipart/form-data",
        )


def _download(client: FlaskClient, url: str):
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def test_full_filing_flow(app: Flask, admin: User, corpus: Path) -> None:
    client = app.test_client(user=admin)
    response = client.post(
        "/dossiers/new",
        data={
            "reference": "2025-017",
            "title": "Softwarecatalogus",
            "supplier": "Conduction B.V.",
            "status": "active",
            "start_on": "2025-03-01",
            "end_on": "2027-02-28",
            "notice_value": "3",
            "notice_unit": "months",
            "option_count": "2",
            "option_months": "12",
            "value": "450000.00",
            "confidentiality": "normal",
            "tags": "ICT, SaaS",
            "beheerder": admin.email,
        },
    )
    assert response.status_code == 302, response.text
    page = client.get("/dossiers/2025-017").text
    assert "28 november 2026" in page  # option decision: 28 Feb 2027 - 3 months of notice
    assert "28 februari 2029" in page  # maximum end date with two options of 12 months
    contract = (
        corpus / "cuad-dev/pdf" / sorted(p.name for p in (corpus / "cuad-dev/pdf").iterdir())[0]
    )
    annex = corpus / VNG / "Bijlage 6 - Prijzenblad SWC.xlsx"
    annex_v2 = (
        corpus / VNG / "Bijlage 4 - Vragenformulier VNGR EA Vernieuwen Softwarecatalogus.xlsx"
    )
    email = (
        corpus / "eml" / sorted(p.name for p in (corpus / "eml").iterdir() if p.suffix == ".eml")[0]
    )
    for path, kind in [(contract, "contract"), (annex, "annex"), (email, "correspondence")]:
        assert _upload(client, "2025-017", path, kind).status_code == 302
    annex_doc = db.session.scalar(sa.select(Document).where(Document.kind == "annex"))
    with annex_v2.open("rb") as handle:
        response = client.post(
            f"/dossiers/2025-017/documents/{annex_doc.id}/versions/new",
            data={"file": (handle, annex_v2.name), "comment": "prices updated"},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302
    history = client.get(f"/dossiers/2025-017/documents/{annex_doc.id}").text
    assert "prices updated" in history
    for document_id, number, path in [(annex_doc.id, 1, annex), (annex_doc.id, 2, annex_v2)]:
        download = _download(
            client, f"/dossiers/2025-017/documents/{document_id}/versions/{number}/download"
        )
        assert download.status_code == 200
        assert hashlib.sha256(download.data).digest() == hashlib.sha256(path.read_bytes()).digest()
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Cache-Control"] == "no-store"
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert download.headers["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    versions = db.session.scalars(sa.select(DocumentVersion)).all()
    assert len(versions) == 4
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) == 4
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("version.create") == 4 and "dossier.create" in actions


def test_renamed_executable_is_refused_with_the_detected_type(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], tmp_path: Path
) -> None:
    make_dossier("2025-001")
    fake = tmp_path / "contract.pdf"
    fake.write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\x3e\x00" + b"\x00" * 200)
    response = _upload(app.test_client(user=admin), "2025-001", fake, "contract")
    assert response.status_code == 400
    assert re.search(r"ELF|executable", response.text)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DocumentVersion)) == 0


def test_download_headers_survive_hostile_file_names(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier("2025-002")
    hostile = "../../etc/x.txt\r\nX-Evil: 1\u202egpj.txt"  # e.g. a name on disk, via import
    with documents.receive(io.BytesIO(b"Geachte heer,\n"), hostile) as upload:
        document = documents.file_document(admin, dossier, upload, kind=DocumentKind.OTHER)
    db.session.commit()
    version = document.versions[0]
    assert version.original_filename == "x.txtX-Evil: 1gpj.txt"
    download = _download(
        app.test_client(user=admin),
        f"/dossiers/2025-002/documents/{document.id}/versions/1/download",
    )
    assert "X-Evil" not in download.headers
    assert "\r" not in download.headers["Content-Disposition"]
    assert download.data == b"Geachte heer,\n"


def test_path_in_uploaded_name_is_dropped(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-004")
    response = app.test_client(user=admin).post(
        "/dossiers/2025-004/documents/new",
        data={
            "file": (io.BytesIO(b"Brief\n"), "../../etc/passwd.txt"),
            "kind": "other",
            "confidentiality": "normal",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(DocumentVersion.original_filename)) == "passwd.txt"


def test_uploading_bytes_the_dossier_holds_warns_and_still_files(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], tmp_path: Path
) -> None:
    make_dossier("2025-031")
    client = app.test_client(user=admin)
    first, second = tmp_path / "brief.txt", tmp_path / "brief-v2.txt"
    first.write_text("Geachte leverancier,\n")
    second.write_text("Geachte leverancier, tweede versie.\n")
    assert _upload(client, "2025-031", first, "correspondence", title="Brief").status_code == 302
    document = db.session.scalar(sa.select(Document))
    with second.open("rb") as handle:
        response = client.post(
            f"/dossiers/2025-031/documents/{document.id}/versions/new",
            data={"file": (handle, second.name), "comment": "aangevuld"},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302
    copy = tmp_path / "kopie.txt"
    copy.write_bytes(first.read_bytes())  # the bytes of version 1, under another name

    response = _upload(client, "2025-031", copy, "correspondence")

    assert response.status_code == 302  # a warning, not a refusal
    page = client.get(response.headers["Location"]).text
    assert 'class="flash flash-warning"' in page
    assert "Dit bestand staat al in het dossier als &#34;Brief&#34;, versie 1." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 2
    # A new version with the bytes of an earlier one is filed with the same warning.
    with copy.open("rb") as handle:
        response = client.post(
            f"/dossiers/2025-031/documents/{document.id}/versions/new",
            data={"file": (handle, copy.name), "comment": "terug naar de eerste"},
            content_type="multipart/form-data",
        )
    assert response.status_code == 302
    assert "versie 1." in client.get(response.headers["Location"]).text
    # A file that is new to the dossier gets no warning.
    fresh = tmp_path / "nieuw.txt"
    fresh.write_text("Iets nieuws.\n")
    page = client.get(_upload(client, "2025-031", fresh, "correspondence").headers["Location"])
    assert "flash-warning" not in page.text


def test_the_upload_script_gets_the_duplicate_warning_in_its_answer(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], tmp_path: Path
) -> None:
    make_dossier("2025-032")
    client = app.test_client(user=admin)
    letter = tmp_path / "brief.txt"
    letter.write_text("Geachte leverancier,\n")
    assert _upload(client, "2025-032", letter, "correspondence", title="Brief").status_code == 302

    def scripted(name: str) -> dict[str, object]:
        with letter.open("rb") as handle:
            response = client.post(
                "/dossiers/2025-032/documents/new",
                data={
                    "file": (handle, name),
                    "kind": "correspondence",
                    "confidentiality": "normal",
                },
                content_type="multipart/form-data",
                headers={"Accept": "application/json"},
            )
        assert response.status_code == 201, response.text
        return response.get_json()

    answer = scripted("kopie.txt")
    assert str(answer["url"]).startswith("/dossiers/2025-032/documents/")
    assert answer["warning"] == 'Dit bestand staat al in het dossier als "Brief", versie 1.'


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"Geachte heer,\n", "text/plain; charset=utf-8"),
        ("Caf\u00e9 au lait\n".encode("cp1252"), "text/plain; charset=windows-1252"),
    ],
)
def test_a_text_download_names_its_charset_once(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    content: bytes,
    content_type: str,
) -> None:
    dossier = make_dossier("2025-090")
    with documents.receive(io.BytesIO(content), "brief.txt") as upload:
        document = documents.file_document(admin, dossier, upload, kind=DocumentKind.OTHER)
    db.session.commit()
    response = app.test_client(user=admin).get(
        f"/dossiers/2025-090/documents/{document.id}/versions/1/download"
    )
    body = response.get_data()
    response.close()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert body == content


def test_the_upload_form_lists_markdown_among_the_accepted_types_in_both_languages(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    make_dossier("2025-061")
    client = app.test_client(user=admin)
    dutch = client.get("/dossiers/2025-061/documents/new").text
    assert (
        "Toegestaan: PDF, DOCX, XLSX, ODT, EML, MSG, TXT, Markdown (MD), PNG, JPEG en TIFF."
        in dutch
    )
    client.post("/language", data={"lang": "en"})
    english = client.get("/dossiers/2025-061/documents/new").text
    assert (
        "Accepted: PDF, DOCX, XLSX, ODT, EML, MSG, TXT, Markdown (MD), PNG, JPEG and TIFF."
        in english
    )


def test_a_markdown_file_is_downloaded_byte_for_byte_as_markdown(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], tmp_path: Path
) -> None:
    make_dossier("2025-062")
    path = tmp_path / "Voorwaarden.md"
    path.write_bytes("## Artikel 5 Aansprakelijkheid  \n\nBeperkt tot \u20ac 1 miljoen.\n".encode())
    client = app.test_client(user=admin)
    response = _upload(client, "2025-062", path, "contract")
    assert response.status_code == 302, response.text
    download = _download(client, response.headers["Location"] + "/versions/1/download")
    assert download.data == path.read_bytes()
    assert download.headers["Content-Type"] == "text/markdown; charset=utf-8"
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_a_markdown_text_is_shown_and_searched_without_its_marks(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], tmp_path: Path
) -> None:
    from dossier import indexing

    make_dossier("2025-063")
    path = tmp_path / "Inkoopvoorwaarden.md"
    source = (
        "<meta http-equiv='Content-Type' content='text/html; charset=utf-8' />\n\n"
        "### Artikel  1\n\n####Begrippen\n\n1.1  *Bijlage*  een aanhangsel, zie "
        "[de regeling](https://wetten.overheid.nl/BWBR0030538).\n\n"
        "### Artikel 2 Aansprakelijkheid\n\nDe **aansprakelijkheid** is beperkt tot 2 * 3 ton.\n"
    )
    path.write_text(source, encoding="utf-8")
    client = app.test_client(user=admin)
    page = _upload(client, "2025-063", path, "contract").headers["Location"]
    indexing.drain()
    html = client.get(page).text
    assert "Bijlage  een aanhangsel, zie de regeling." in html
    assert "De aansprakelijkheid is beperkt tot 2 * 3 ton." in html
    for mark in ("*Bijlage*", "**aansprakelijkheid**", "wetten.overheid", "http-equiv", "####"):
        assert mark not in html, mark
    # The index holds the words as read: the link's address and the tag are not searchable.
    found = client.get("/search?q=aansprakelijkheid&mode=clauses").text
    assert "De <mark>aansprakelijkheid</mark> is" in found and "**" not in found
    assert "Niets gevonden" in client.get("/search?q=overheid").text
    # The file itself is kept and served as it came.
    download = _download(client, page + "/versions/1/download")
    assert download.data == path.read_bytes()

"""`dossier/i18n.py`: messages made by domain code follow the interface language (Dutch by
default, English on request), and pages put numbers, plurals and sizes in the locale."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask_babel import force_locale

from dossier.i18n import format_filesize
from dossier.models import Dossier, NoticeUnit, User
from tests.dossier.helpers import _english, _file, _text

pytestmark = pytest.mark.any_database


def test_a_validation_error_shows_on_the_form_in_the_chosen_language(
    app: Flask, admin: User
) -> None:
    client = app.test_client(user=admin)
    values = {
        "reference": "2025-050",
        "title": "Schoonmaak",
        "status": "active",
        "confidentiality": "normal",
        "start_on": "2025-06-01",
        "end_on": "2025-01-31",
    }
    dutch = client.post("/dossiers/new", data=values)
    assert dutch.status_code == 400
    assert "De einddatum ligt vóór de ingangsdatum" in _text(dutch)

    _english(client)
    english = client.post("/dossiers/new", data=values)
    assert english.status_code == 400
    assert "The end date lies before the start date" in _text(english)


def test_a_stale_edit_is_reported_in_dutch(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier()
    response = app.test_client(user=admin).post(
        f"/dossiers/{dossier.reference}/edit",
        data={
            "row_version": str(dossier.row_version + 5),
            "reference": dossier.reference,
            "title": dossier.title,
            "status": "active",
            "confidentiality": "normal",
        },
    )
    assert response.status_code == 400
    assert "Iemand anders heeft dit dossier intussen gewijzigd" in _text(response)


def test_a_wrong_current_password_is_reported_in_dutch(app: Flask, admin: User) -> None:
    response = app.test_client(user=admin).post(
        "/account/password",
        data={
            "current_password": "not the password",
            "new_password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 400
    assert "Het huidige wachtwoord is onjuist" in _text(response)


def test_pages_word_sizes_plurals_and_authors_in_the_locale(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier(notice_value=1, notice_unit=NoticeUnit.MONTHS)
    client = app.test_client(user=admin)
    filed = _file(client, dossier.reference, b"Hallo wereld\n" * 100, "notitie.txt")
    assert filed.status_code == 302, _text(filed)
    document_page = _text(client.get(filed.headers["Location"]))
    assert "1,3\u00a0kB" in document_page
    assert " door Ada Admin" in document_page
    dossier_page = _text(client.get(f"/dossiers/{dossier.reference}"))
    assert "1 maand<" in dossier_page
    edit_page = _text(client.get(f"/dossiers/{dossier.reference}/edit"))
    assert f"<title>{dossier.reference} bewerken" in edit_page

    _english(client)
    document_page = _text(client.get(filed.headers["Location"]))
    assert "1.3\u00a0kB" in document_page
    assert " by Ada Admin" in document_page
    assert "1 month<" in _text(client.get(f"/dossiers/{dossier.reference}"))


def test_a_notice_period_in_days_is_pluralised(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier(notice_value=30, notice_unit=NoticeUnit.DAYS)
    page = _text(app.test_client(user=admin).get(f"/dossiers/{dossier.reference}"))
    assert "30 dagen<" in page


@pytest.mark.parametrize(
    ("size", "dutch", "english"),
    [
        (1, "1 byte", "1 byte"),
        (999, "999 bytes", "999 bytes"),
        (1_234, "1,2\u00a0kB", "1.2\u00a0kB"),
        (25_400_000, "25,4\u00a0MB", "25.4\u00a0MB"),
        (3_000_000_000, "3,0\u00a0GB", "3.0\u00a0GB"),
    ],
)
def test_file_sizes_follow_the_locale(app: Flask, size: int, dutch: str, english: str) -> None:
    with force_locale("nl"):
        assert format_filesize(size) == dutch
    with force_locale("en"):
        assert format_filesize(size) == english


def test_a_document_choice_names_its_file_type(app: Flask) -> None:
    """The PDF and the Word file of one annex have the same title: the choice tells them apart."""
    from dossier import labels
    from dossier.models import Document, DocumentKind, DocumentVersion

    pdf = Document(title="Bijlage 8", kind=DocumentKind.ANNEX)
    pdf.versions = [DocumentVersion(number=1, original_filename="Bijlage 8 - Plan.pdf")]
    docx = Document(title="Bijlage 8", kind=DocumentKind.ANNEX)
    docx.versions = [DocumentVersion(number=1, original_filename="Bijlage 8 - Plan.docx")]
    with app.test_request_context():
        assert labels.document_choice(pdf) == "Bijlage 8 (Bijlage, PDF)"
        assert labels.document_choice(docx) == "Bijlage 8 (Bijlage, DOCX)"

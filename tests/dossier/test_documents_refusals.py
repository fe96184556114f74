"""`dossier/documents.py`, refused uploads: the refusals of ingest.detect are worded from their
code and params in the interface language (Dutch by default, English on request); a refusal or
a detected type without a wording of ours falls back to the English reason or the MIME type."""

from __future__ import annotations

import gzip
import re
import struct
from collections.abc import Callable

import pytest
from flask import Flask
from flask_babel import force_locale

from dossier import documents
from dossier.models import Dossier, User
from ingest.detect import Refused
from tests.dossier.helpers import _english, _file, _text

pytestmark = pytest.mark.any_database


# An ELF64 header for an x86-64 executable, enough for libmagic to say so.
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HHI", 2, 0x3E, 1) + bytes(200)


def test_a_renamed_executable_is_refused_in_dutch_then_in_english(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier()
    client = app.test_client(user=admin)

    dutch = _file(client, dossier.reference, ELF, "contract.pdf")
    assert dutch.status_code == 400
    assert (
        "Het bestand is niet toegevoegd: De bestandsnaam eindigt op .pdf, maar de inhoud is van "
        "een ander type: uitvoerbaar ELF-bestand (application/x-executable)." in _text(dutch)
    )
    assert "ELF executable" not in _text(dutch)

    _english(client)
    english = _file(client, dossier.reference, ELF, "contract.pdf")
    assert english.status_code == 400
    text = _text(english)
    assert (
        "The file was not filed: The file name says .pdf, but the content is of another type: "
        "ELF executable (application/x-executable)." in text
    )
    assert "bestandsnaam" not in text


def test_an_unaccepted_extension_is_refused_in_dutch(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier()
    response = _file(app.test_client(user=admin), dossier.reference, ELF, "setup.exe")
    assert response.status_code == 400
    text = _text(response)
    assert "Bestanden met de extensie .exe worden niet geaccepteerd" in text
    assert "herkend als: uitvoerbaar ELF-bestand (application/x-executable)" in text
    assert "Toegestaan zijn .docx, .eml," in text


def test_refusals_without_a_wording_fall_back_to_the_english_reason(app: Flask) -> None:
    with force_locale("nl"):
        assert documents.refusal_message(Refused("Something new.", "new_code")) == (
            "Something new."
        )
        # A known code raised without the params its wording needs.
        assert documents.refusal_message(Refused("Odd.", "content_mismatch")) == "Odd."
        assert (
            documents.refusal_message(
                Refused("...", "invalid_structure", {"extension": ".docx", "kind": "docx"})
            )
            == "..."
        )
        message = documents.refusal_message(
            Refused(
                "...",
                "invalid_structure",
                {
                    "extension": ".docx",
                    "kind": "docx",
                    "detail": "the package has no word/document.xml part",
                    "detected": "ZIP archive (application/zip)",
                    "detected_key": "application/zip",
                    "magic_mime": "application/zip",
                },
            )
        )
    assert message == (
        "De bestandsnaam eindigt op .docx, maar de inhoud is niet opgebouwd als een "
        "Word-document (the package has no word/document.xml part). "
        "Herkend als: ZIP-archief (application/zip)."
    )


def test_every_detail_of_detect_has_a_translation() -> None:
    from ingest.detect import DETAILS

    assert set(documents._DETAILS) == set(DETAILS)
    for code, english in DETAILS.items():
        # Same placeholders, so the translated wording can always be filled in.
        assert sorted(re.findall(r"%\((\w+)\)s", english)) == sorted(
            re.findall(r"%\((\w+)\)s", str(documents._DETAILS[code]._args[0]))
        ), code


def test_a_pdf_without_header_is_refused_with_a_dutch_detail(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier()
    client = app.test_client(user=admin)
    # Text that claims to be a PDF: libmagic accepts text for .pdf? If not, the header check
    # speaks; either way no English detail may leak.
    response = _file(client, dossier.reference, b"%%EOF\n" + b"hallo " * 400, "brief.pdf")
    assert response.status_code == 400
    text = _text(response)
    assert "there is no" not in text and "first 1024 bytes" not in text
    with force_locale("nl"):
        message = documents.refusal_message(
            Refused(
                "...",
                "invalid_structure",
                {
                    "extension": ".pdf",
                    "kind": "pdf",
                    "detail": "there is no %PDF- header in the first 1024 bytes",
                    "detail_code": "pdf_no_header",
                    "detail_bytes": "1024",
                    "detected": "Windows or DOS executable (application/x-dosexec)",
                    "detected_key": "signature:mz",
                    "magic_mime": "application/x-dosexec",
                },
            )
        )
    assert "(er staat geen %PDF-kop in de eerste 1024 bytes)" in message
    assert "Herkend als: uitvoerbaar Windows- of DOS-bestand (application/x-dosexec)" in message


def test_a_type_without_a_noun_of_ours_shows_its_mime_type_in_dutch(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    """libmagic's own description is English prose: the Dutch page names the MIME type only,
    the English one keeps the prose."""
    gzip_bytes = gzip.compress(b"inhoud " * 100)
    dossier = make_dossier()
    client = app.test_client(user=admin)
    dutch = _text(_file(client, dossier.reference, gzip_bytes, "archief.gz"))
    assert "(herkend als: application/gzip)" in dutch
    assert "compressed" not in dutch
    _english(client)
    english = _text(_file(client, dossier.reference, gzip_bytes, "archief.gz"))
    assert "(detected: gzip compressed data (application/gzip))" in english


def test_every_noun_detect_words_has_a_label_that_reads_the_same_in_english(app: Flask) -> None:
    from ingest.detect import DETECTED_NOUNS

    assert set(documents._DETECTED_NOUNS) == set(DETECTED_NOUNS)
    for key, english in DETECTED_NOUNS.items():
        assert documents._DETECTED_NOUNS[key]._args[0] == english, key
    with force_locale("nl"):
        for key, label in documents._DETECTED_NOUNS.items():
            assert str(label) != DETECTED_NOUNS[key] or key == "signature:script", key

"""The "Year" facet and filter of search follow the document date; the filing date only stands in
for a document without one."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

from flask import Flask

from dossier import documents, indexing, searching
from dossier.extensions import db
from dossier.models import Confidentiality, DocumentKind, Dossier, User, utcnow


def test_year_facet_uses_the_document_date(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier("2025-017")
    text = b"Artikel 1 Aansprakelijkheid\nDe leverancier is aansprakelijk.\n"
    with documents.receive(io.BytesIO(text), "oud.txt") as upload:
        dated = documents.file_document(
            admin, dossier, upload, kind=DocumentKind.CORRESPONDENCE, document_date=date(2019, 3, 4)
        )
    with documents.receive(io.BytesIO(text + b"Nog een.\n"), "nieuw.txt") as upload:
        documents.file_document(admin, dossier, upload, kind=DocumentKind.CORRESPONDENCE)
    db.session.commit()
    indexing.drain()
    filed_year = str(utcnow().year)
    assert searching.search(admin, "aansprakelijk").facets["year"] == [
        (filed_year, 1),
        ("2019", 1),
    ]
    assert searching.search(admin, "aansprakelijk", year=2019).result.total == 1
    # Correcting the date moves the document to its new year.
    values = {
        "kind": dated.kind,
        "title": dated.title,
        "document_date": date(2021, 6, 1),
        "confidentiality": Confidentiality.NORMAL,
    }
    documents.update_metadata(admin, dated, values)
    db.session.commit()
    indexing.drain()
    years = dict(searching.search(admin, "aansprakelijk").facets["year"])
    assert years == {filed_year: 1, "2021": 1}

"""Clause types in the application: stored with the clauses, shown on the document page, a
facet and a `soort:` filter of search, and "compare this clause" across the dossiers a reader
may see, never beyond them."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import documents, indexing, searching
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    Clause,
    Confidentiality,
    Document,
    DocumentKind,
    Dossier,
    MemberRole,
    User,
)
from search.types import SearchRequest
from tests.dossier.helpers import _english

CANARY = "zwartekraai"

ICT = """Artikel 1 Definities
In deze overeenkomst wordt verstaan onder Opdrachtnemer: de leverancier.

Artikel 2 Aansprakelijkheid
2.1 De aansprakelijkheid van Opdrachtnemer is beperkt tot directe schade.
2.2 Aansprakelijkheid voor gevolgschade is uitgesloten.

Artikel 3 Geheimhouding
Partijen houden alle vertrouwelijke informatie geheim.
"""
HOSTING = """1. Limitation of Liability
The aggregate liability of the Supplier shall not exceed the fees paid.

2. Governing Law
This Agreement is governed by the laws of the Netherlands.
"""
SECRET = f"""Artikel 7 Aansprakelijkheid
Opdrachtnemer is aansprakelijk voor alle schade van {CANARY}.
"""


def _file(actor: User, dossier: Dossier, text: str, name: str, **options: object) -> Document:
    with documents.receive(io.BytesIO(text.encode()), name) as upload:
        document = documents.file_document(
            actor, dossier, upload, kind=DocumentKind.CONTRACT, **options
        )
    db.session.commit()
    return document


@pytest.fixture
def world(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
) -> dict[str, object]:
    """Three dossiers with a liability article each: the reader reads 2025-001 and 2025-002
    (where a confidential contract is not theirs to read), the outsider only 2025-003."""
    reader = make_user("reader@example.org")
    outsider = make_user("outsider@example.org")
    ict = make_dossier("2025-001", supplier="Conduction", members={reader: MemberRole.READER})
    hosting = make_dossier("2025-002", supplier="Hoster", members={reader: MemberRole.READER})
    secret = make_dossier("2025-003", supplier="Geheim B.V.", members={outsider: MemberRole.READER})
    ict_contract = _file(admin, ict, ICT, "ict.txt")
    hosting_contract = _file(admin, hosting, HOSTING, "hosting.txt")
    confidential = _file(
        admin, hosting, SECRET, "vertrouwelijk.txt", confidentiality=Confidentiality.CONFIDENTIAL
    )
    secret_contract = _file(admin, secret, SECRET, "geheim.txt")
    indexing.drain()
    return {
        "admin": admin,
        "reader": reader,
        "outsider": outsider,
        "ict": ict_contract,
        "hosting": hosting_contract,
        "confidential": confidential,
        "secret": secret_contract,
    }


def _clauses(document: Document) -> dict[str, Clause]:
    db.session.refresh(document)
    return {c.number: c for c in document.current_version.clauses}


def _unit(document: Document, number: str) -> str:
    clause = _clauses(document)[number]
    return f"{clause.version_id}:{clause.position}"


def test_clauses_are_stored_with_their_types(app: Flask, world: dict) -> None:
    ict = _clauses(world["ict"])
    assert ict["2"].types == ("liability",)
    # A sub-clause without a heading inherits its article's (and says so itself too).
    assert ict["2.2"].heading == "" and ict["2.2"].types == ("liability",)
    assert ict["3"].types == ("confidentiality",)
    assert ict["1"].types == ("definitions",)
    hosting = _clauses(world["hosting"])
    assert hosting["1"].types == ("liability",) and hosting["2"].types == ("governing_law",)


def test_the_document_page_shows_types_and_a_compare_link(app: Flask, world: dict) -> None:
    client = app.test_client(user=world["reader"])
    document = world["ict"]
    page = client.get(f"/dossiers/2025-001/documents/{document.id}").text
    assert '<span class="badge badge-type">Aansprakelijkheid</span>' in page
    assert '<span class="badge badge-type">Geheimhouding</span>' in page
    assert f'like={_unit(document, "2")}"' in page
    assert "Vergelijk deze bepaling" in page
    _english(client)
    english = client.get(f"/dossiers/2025-001/documents/{document.id}").text
    assert '<span class="badge badge-type">Liability</span>' in english
    assert "Compare this clause" in english


def test_soort_lists_the_clauses_of_a_type_with_a_facet(app: Flask, world: dict) -> None:
    client = app.test_client(user=world["reader"])
    page = client.get("/search", query_string={"q": "soort:aansprakelijkheid", "mode": "clauses"})
    assert page.status_code == 200
    text = page.text
    assert "2025-001" in text and "2025-002" in text
    assert CANARY not in text and "2025-003" not in text and "Geheim B.V." not in text
    # The confidential contract of 2025-002 is not the reader's to read: no hit, no count.
    outcome = searching.search(world["reader"], "soort:liability", mode="clauses")
    assert {hit.document_id for hit in outcome.result.hits} == {
        world["ict"].id,
        world["hosting"].id,
    }
    facet = dict(outcome.facets["clause_type"])
    assert facet["liability"] == outcome.result.total
    assert '<h2 class="facet-title">Soort bepaling</h2>' in text
    assert re.search(r">Aansprakelijkheid</a>&nbsp;<span class=\"muted\">\(\d+\)</span>", text) or (
        "<strong>Aansprakelijkheid</strong>" in text
    )


def test_the_facet_and_the_filter_select_narrow_to_a_type(app: Flask, world: dict) -> None:
    client = app.test_client(user=world["reader"])
    page = client.get("/search", query_string={"q": "overeenkomst", "mode": "clauses"}).text
    assert 'name="clause_type"' in page  # the filter under Filters
    only = client.get(
        "/search", query_string={"q": "", "mode": "clauses", "clause_type": "governing_law"}
    )
    assert only.status_code == 200
    assert "governed by the laws" in only.text
    assert "aansprakelijkheid van Opdrachtnemer" not in only.text
    assert 'value="governing_law" selected' in only.text


def test_an_unknown_type_gets_a_clear_message(app: Flask, world: dict) -> None:
    client = app.test_client(user=world["reader"])
    page = client.get("/search", query_string={"q": "soort:kwaliteit", "mode": "clauses"})
    assert page.status_code == 400
    assert "er is geen soort bepaling met die naam" in page.text


def test_compare_lists_the_same_type_in_the_other_readable_dossiers(
    app: Flask, world: dict
) -> None:
    client = app.test_client(user=world["reader"])
    like = _unit(world["ict"], "2")
    page = client.get("/search", query_string={"like": like, "mode": "clauses"})
    assert page.status_code == 200
    text = page.text
    assert "Vergelijk deze bepaling" in text and "Aansprakelijkheid" in text
    assert "U mag geen ander dossier inzien" not in text
    hits = re.findall(r'<li class="hit">(.*?)</li>\s*(?=<li class="hit">|</ol>)', text, re.S)
    assert hits, "the hosting contract's liability clause is listed"
    assert all("2025-002" in hit and "2025-001" not in hit for hit in hits)
    assert CANARY not in text and "2025-003" not in text and "Geheim B.V." not in text
    outcome = searching.search(
        world["reader"],
        "",
        other_than=world["ict"].dossier_id,
        clause_types={"liability"},
        mode="clauses",
    )
    assert {hit.document_id for hit in outcome.result.hits} == {world["hosting"].id}
    # The Documents tab of the comparison: the documents that hold such clauses.
    grouped = client.get("/search", query_string={"like": like, "mode": "documents"}).text
    assert "1 resultaat" in grouped and "hosting" in grouped and "2025-001 ·" not in grouped


def test_compare_never_reaches_a_dossier_the_reader_may_not_see(app: Flask, world: dict) -> None:
    # The outsider reads only 2025-003: comparing its liability clause finds nothing elsewhere.
    outsider = app.test_client(user=world["outsider"])
    like = _unit(world["secret"], "")
    page = outsider.get("/search", query_string={"like": like, "mode": "clauses"}).text
    assert "2025-001" not in page and "2025-002" not in page and "Conduction" not in page
    assert "0 resultaten" in page
    assert "U mag geen ander dossier inzien" in page
    # The reader cannot compare a clause of a dossier they may not see, nor a confidential
    # document they may not read: the same answer as for a clause that does not exist.
    reader = app.test_client(user=world["reader"])
    for unit in (like, _unit(world["confidential"], ""), "999999:0", "12:x"):
        refused = reader.get("/search", query_string={"like": unit}).text
        assert "De te vergelijken bepaling bestaat niet of u mag haar niet inzien." in refused
        assert CANARY not in refused and "2025-003" not in refused
        assert '<li class="hit">' not in refused
    # The administrator sees every dossier: both other liability clauses.
    admin = searching.search(
        world["admin"],
        "",
        other_than=world["ict"].dossier_id,
        clause_types={"liability"},
        mode="clauses",
    )
    assert {hit.document_id for hit in admin.result.hits} == {
        world["hosting"].id,
        world["confidential"].id,
        world["secret"].id,
    }


def test_search_hits_link_to_compare_unless_their_text_is_withheld(app: Flask, world: dict) -> None:
    client = app.test_client(user=world["admin"])
    page = client.get("/search", query_string={"q": "soort:liability", "mode": "clauses"}).text
    links = re.findall(r'href="/search\?mode=clauses&amp;like=(\d+)(?::|%3A)(\d+)"', page)
    confidential = _unit(world["confidential"], "").split(":")
    assert links and tuple(confidential) not in links
    assert tuple(_unit(world["ict"], "2").split(":")) in links


def test_the_fallback_filters_types_as_the_index_does(app: Flask, world: dict) -> None:
    for who in ("reader", "outsider", "admin"):
        allowed, denied = searching.permission_sets(world[who])
        for text, types in (
            ("", {"liability"}),
            ("soort:geheimhouding", set()),
            ("schade", {"liability"}),
            ("laws", {"liability", "governing_law"}),
        ):
            request = SearchRequest(
                text, allowed, denied, mode="clauses", clause_types=frozenset(types), expand=False
            )
            index = indexing.search_index().search(request)
            fallback = searching.FALLBACK.search(request)
            assert sorted(h.unit_id for h in fallback.hits) == sorted(
                h.unit_id for h in index.hits
            ), (who, text)
            assert fallback.facets == index.facets, (who, text)


def test_reindex_clauses_classifies_stored_clauses_again(app: Flask, world: dict) -> None:
    db.session.execute(sa.update(Clause).values(clause_types=""))
    db.session.commit()
    ict_id = world["ict"].id
    ids = sorted(c.id for c in _clauses(world["ict"]).values())
    result = app.test_cli_runner().invoke(cli, ["reindex", "--clauses", "--processes", "1"])
    assert result.exit_code == 0, result.output
    assert "Clauses split again: 4 of 4 versions changed" in result.output
    clauses = _clauses(db.session.get(Document, ict_id))
    assert clauses["2"].types == ("liability",)
    assert sorted(c.id for c in clauses.values()) == ids  # the same rows, classified anew
    reader = db.session.scalar(sa.select(User).where(User.email == "reader@example.org"))
    assert searching.search(reader, "soort:aansprakelijkheid").result.total >= 2


def test_compare_leaves_out_a_withdrawn_document_and_cannot_start_from_one(
    app: Flask, world: dict
) -> None:
    admin, hosting = world["admin"], world["hosting"]
    source = _unit(hosting, "1")
    documents.withdraw(admin, hosting, "vergissing")
    db.session.commit()
    indexing.drain()
    client = app.test_client(user=world["reader"])
    page = client.get("/search", query_string={"like": _unit(world["ict"], "2")}).text
    assert "Limitation of Liability" not in page and "0 resultaten" in page
    refused = client.get("/search", query_string={"like": source}).text
    assert "De te vergelijken bepaling bestaat niet of u mag haar niet inzien." in refused

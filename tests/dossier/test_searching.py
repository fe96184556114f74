"""Search end to end over the application: filed versions are extracted, segmented and indexed
through the outbox, and every search surface honours the reader's rights at query time."""

from __future__ import annotations

import io
import json
import re
import shutil
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import documents, indexing, searching
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    Confidentiality,
    Document,
    DocumentKind,
    Dossier,
    ExtractionStatus,
    MemberRole,
    Membership,
    OutboxItem,
    User,
    utcnow,
)
from search.types import SearchRequest
from tests.dossier.helpers import _english

VNG = "dutch/vng-softwarecatalogus-aanbesteding"
GIBIT = "Bijlage 3.01 - Overeenkomst ten behoeve van ICT Prestatie GIBIT 2023.docx"
CANARY = "zwartekraai"


def _file(
    actor: User,
    dossier: Dossier,
    path: Path,
    kind: DocumentKind,
    confidentiality: Confidentiality = Confidentiality.NORMAL,
) -> Document:
    with path.open("rb") as stream, documents.receive(stream, path.name) as upload:
        document = documents.file_document(
            actor, dossier, upload, kind=kind, confidentiality=confidentiality
        )
    db.session.commit()
    return document


def _file_text(
    actor: User,
    dossier: Dossier,
    text: str,
    name: str,
    confidentiality: Confidentiality = Confidentiality.NORMAL,
) -> Document:
    with documents.receive(io.BytesIO(text.encode()), name) as upload:
        document = documents.file_document(
            actor, dossier, upload, kind=DocumentKind.OTHER, confidentiality=confidentiality
        )
    db.session.commit()
    return document


@pytest.fixture
def world(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
    corpus: Path,
) -> dict[str, object]:
    reader, outsider = make_user("reader@example.org"), make_user("outsider@example.org")
    owner = make_user("owner@example.org")
    open_dossier = make_dossier(
        "2025-017",
        supplier="Conduction",
        members={reader: MemberRole.READER, owner: MemberRole.OWNER},
    )
    secret_dossier = make_dossier("2025-099", supplier="Geheim B.V.")
    _file(admin, open_dossier, corpus / VNG / GIBIT, DocumentKind.CONTRACT)
    _file_text(
        admin,
        open_dossier,
        f"Prijzen en kortingen {CANARY} vertrouwelijk\n",
        "prijzen.txt",
        Confidentiality.CONFIDENTIAL,
    )
    _file_text(
        admin, secret_dossier, f"Artikel 1 Geheim\nHet woord {CANARY} staat hier.\n", "geheim.txt"
    )
    indexing.drain()
    return {
        "reader": reader,
        "outsider": outsider,
        "owner": owner,
        "admin": admin,
        "open": open_dossier,
        "secret": secret_dossier,
    }


def test_outbox_is_drained_and_text_stored(app: Flask, world: dict) -> None:
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) == 0
    gibit = db.session.scalar(sa.select(Document).where(Document.kind == DocumentKind.CONTRACT))
    version = gibit.current_version
    assert version.extraction_status == ExtractionStatus.OK
    assert "looptijd" in version.text.lower()
    assert len(version.clauses) > 10


def test_dutch_clause_search_lands_on_the_term_clause(app: Flask, world: dict) -> None:
    outcome = searching.search(world["reader"], "looptijd overeenkomst", mode="clauses")
    assert outcome.result.total > 0
    assert outcome.result.hits[0].heading == "Looptijd"
    assert all(h.dossier_reference == "2025-017" for h in outcome.result.hits)


@pytest.mark.parametrize("mode", ["documents", "clauses"])
def test_canary_is_invisible_everywhere_to_those_who_may_not_read_it(
    app: Flask, world: dict, mode: str
) -> None:
    for who in ("reader", "outsider"):
        outcome = searching.search(world[who], CANARY, mode=mode)
        assert outcome.result.total == 0, who
        assert outcome.result.hits == []
        flat = json.dumps(outcome.facets)
        assert "2025-099" not in flat and "Geheim" not in flat
    owner_sees = searching.search(world["owner"], CANARY, mode=mode).result
    assert owner_sees.total == 1  # the confidential price sheet of their own dossier only
    assert owner_sees.hits[0].dossier_reference == "2025-017"


def test_revoking_access_hides_results_at_once(app: Flask, world: dict) -> None:
    reader = world["reader"]
    assert searching.search(reader, "looptijd").result.total > 0
    db.session.execute(sa.delete(Membership).where(Membership.user_id == reader.id))
    db.session.commit()
    outcome = searching.search(reader, "looptijd")
    assert outcome.result.total == 0 and outcome.facets in ({}, {k: [] for k in outcome.facets})


def test_snippets_are_escaped(app: Flask, admin: User, world: dict) -> None:
    _file_text(
        admin,
        world["open"],
        "Artikel 9 Boete\nDe boete geldt als prijs < 100 & x > 3.\n",
        "boete.txt",
    )
    indexing.drain()
    hits = searching.search(admin, "boete", mode="clauses").result.hits
    assert hits
    snippet = hits[0].snippet
    assert "&lt;" in snippet and "&amp;" in snippet and "<mark>" in snippet
    assert re.sub(r"</?mark>", "", snippet).count("<") == 0


def test_search_page_shows_clause_hits_with_links(app: Flask, world: dict) -> None:
    client = app.test_client(user=world["reader"])
    page = client.get("/search?q=looptijd&mode=clauses")
    assert page.status_code == 200
    assert "<mark>" in page.text and "2025-017" in page.text
    hidden = client.get(f"/search?q={CANARY}").text
    # Whole words: the clause-type filter lists the public type "Geheimhouding".
    assert "2025-099" not in hidden and not re.search(r"\bgeheim\b", hidden.lower())
    assert "prijzen" not in hidden.lower()


def test_facets_are_links_that_add_and_remove_their_filter(app: Flask, world: dict) -> None:
    client = app.test_client(user=world["reader"])
    page = client.get("/search?q=looptijd&mode=clauses").text
    link = re.search(r'<a href="([^"]*kind=contract[^"]*)">Contract</a>', page)
    assert link, "the kind facet links to its filter"
    filtered = client.get(link.group(1).replace("&amp;", "&")).text
    assert 'name="kind" value="contract" checked' in filtered
    removal = re.search(r'<a href="([^"]*)" aria-label="Filter Contract weghalen">', filtered)
    assert removal and "kind=contract" not in removal.group(1)
    to_dossier = re.search(r'<a href="([^"]*dossier=2025-017[^"]*)">2025-017</a>', page)
    assert to_dossier
    within = client.get(to_dossier.group(1).replace("&amp;", "&")).text
    assert "Zoeken in dossier 2025-017" in within


def test_an_unreadable_dossier_filter_says_so_and_past_the_end_says_so(
    app: Flask, world: dict
) -> None:
    client = app.test_client(user=world["reader"])
    for reference in ("2025-099", "2025-404"):  # hidden, missing: the same answer
        page = client.get(f"/search?q=looptijd&dossier={reference}").text
        assert "Het gekozen dossier bestaat niet of u mag het niet inzien" in page
        assert reference not in page.replace(f"dossier={reference}", "")
        assert "Zoeken in dossier" not in page
    beyond = client.get("/search?q=looptijd&page=99").text
    assert "Deze pagina ligt na het laatste resultaat" in beyond
    assert "Niets gevonden" not in beyond


@pytest.mark.parametrize(
    "query", ["*", "*a*", "?????????*", "content:[a TO z]", "(((", "x" * 10_000, "ab*"]
)
def test_hostile_queries_get_a_clear_message(app: Flask, world: dict, query: str) -> None:
    response = app.test_client(user=world["reader"]).get("/search", query_string={"q": query})
    assert response.status_code == 400
    assert "Traceback" not in response.text
    if query == "ab*":
        assert "zet minstens 3 letters voor een jokerteken" in response.text


def test_cli_search_json(app: Flask, world: dict) -> None:
    result = app.test_cli_runner().invoke(
        cli, ["search", "looptijd", "--as", "reader@example.org", "--clauses", "--json"]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert (
        hits
        and {
            "document_id",
            "dossier",
            "title",
            "version",
            "clause_number",
            "heading",
            "text",
            "page",
            "score",
            "snippet",
        }
        <= hits[0].keys()
    )
    assert all(h["dossier"] == "2025-017" for h in hits)


ENGLISH_CLAUSE = "Limitation. The Supplier is liable up to the annual contract value.\n"


def test_a_dutch_search_names_its_synonyms_and_can_do_without_them(
    app: Flask, admin: User, world: dict
) -> None:
    _file_text(admin, world["open"], ENGLISH_CLAUSE, "clause-en.txt")
    indexing.drain()
    client = app.test_client(user=world["reader"])
    page = client.get("/search", query_string={"q": "aansprakelijkheid", "mode": "clauses"}).text
    assert "Ook gezocht op:" in page and "<strong>Aansprakelijkheid</strong>: liability" in page
    assert "clause-en" in page  # the English clause, found through "liable"
    link = re.search(r'<a href="([^"]*expand=0[^"]*)">Zonder synoniemen zoeken</a>', page)
    assert link, "a link repeats the search without synonyms"
    without = client.get(link.group(1).replace("&amp;", "&")).text
    assert "Ook gezocht op" not in without and "clause-en" not in without
    assert "Gezocht zonder synoniemen." in without and "mode=clauses" in link.group(1)
    assert 'name="expand" value="0"' in without  # a new search from the box keeps it off
    _english(client)
    english = client.get("/search", query_string={"q": "aansprakelijkheid"}).text
    assert "Also searched:" in english and "<strong>Liability</strong>" in english
    assert "Search without synonyms" in english


def test_cli_search_reports_synonyms_and_switches_them_off(
    app: Flask, admin: User, world: dict
) -> None:
    _file_text(admin, world["open"], ENGLISH_CLAUSE, "clause-en.txt")
    indexing.drain()
    runner = app.test_cli_runner()
    base = ["search", "aansprakelijkheid", "--as", "reader@example.org", "--clauses"]
    text = runner.invoke(cli, base)
    assert text.exit_code == 0, text.output
    assert "also searched (Liability): liability, " in text.output
    explained = json.loads(runner.invoke(cli, [*base, "--json", "--explain"]).output)
    assert explained["total"] == len(explained["hits"]) > 0
    [concept] = explained["expansions"]
    assert concept["concept"] == "liability" and concept["matched"] == ["aansprakelijkheid"]
    assert concept["label"] == {"nl": "Aansprakelijkheid", "en": "Liability"}
    assert "liability" in concept["also_searched"]
    assert any(h["title"] == "clause-en" for h in explained["hits"])
    plain = json.loads(runner.invoke(cli, [*base, "--json", "--no-expand"]).output)
    assert isinstance(plain, list) and all(h["title"] != "clause-en" for h in plain)
    off = runner.invoke(cli, [*base, "--no-expand"]).output
    assert "also searched" not in off


def test_clause_hits_carry_word_article_numbers(app: Flask, world: dict) -> None:
    # GIBIT's article numbers exist only as Word list numbering; search must still show them.
    outcome = searching.search(world["reader"], "maximaal 2 maal verlengd", mode="clauses")
    assert outcome.result.hits[0].clause_number == "4.4"


def test_reindex_rebuilds_a_lost_index_with_progress(app: Flask, world: dict) -> None:
    shutil.rmtree(app.config["INDEX_DIR"])
    result = app.test_cli_runner().invoke(cli, ["reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexing documents" in result.stderr
    assert result.stdout.strip() == "Index rebuilt: 3 documents"
    outcome = searching.search(world["reader"], "looptijd")
    assert not outcome.degraded and outcome.result.total > 0


def test_a_destroyed_index_falls_back_then_rebuilds(app: Flask, world: dict) -> None:
    shutil.rmtree(app.config["INDEX_DIR"])
    outcome = searching.search(world["reader"], "looptijd")
    assert outcome.degraded and outcome.result.total > 0
    indexing.drain()
    assert not searching.search(world["reader"], "looptijd").degraded


def _indexers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "indexer"]


@pytest.mark.parametrize("mode", ["off", "worker"])
def test_a_lost_index_is_left_to_the_worker_unless_embedded(
    app: Flask, world: dict, mode: str
) -> None:
    """Only the embedded set-up rebuilds in the searching process: with a worker, or indexing
    off (the tests), a background drain would write behind the caller's back (it raced the next
    test's clean-up into a deadlock on CI)."""
    app.config["INDEXING"] = mode
    shutil.rmtree(app.config["INDEX_DIR"])
    assert searching.search(world["reader"], "looptijd").degraded
    assert _indexers() == []


def test_a_lost_index_is_rebuilt_in_the_background_when_embedded(app: Flask, world: dict) -> None:
    app.config["INDEXING"] = "thread"
    shutil.rmtree(app.config["INDEX_DIR"])
    assert searching.search(world["reader"], "looptijd").degraded
    for thread in _indexers():
        thread.join(timeout=120)
    db.session.rollback()  # see what the background drain committed
    assert not searching.search(world["reader"], "looptijd").degraded


def test_email_attachments_are_filed_as_linked_documents(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], corpus: Path
) -> None:
    dossier = make_dossier("2025-300")
    candidates = sorted((corpus / "eml").glob("*attachment*.eml"))
    assert candidates, "the corpus has e-mails with attachments"
    message = None
    for path in candidates:
        message = _file(admin, dossier, path, DocumentKind.CORRESPONDENCE)
    indexing.drain()
    children = db.session.scalars(sa.select(Document).where(Document.parent_id.is_not(None)))
    assert list(children), "at least one attachment became a document of its own"
    assert message is not None


def test_unpaged_formats_show_no_page_and_pdf_pages_do(
    app: Flask, world: dict, corpus: Path
) -> None:
    """DOCX, text and mail have no pages: no "pagina 1" on their clauses or search hits."""
    admin, dossier = world["admin"], world["open"]
    docx = db.session.scalar(sa.select(Document).where(Document.kind == DocumentKind.CONTRACT))
    version = docx.current_version
    assert version.page_count is None and version.clauses
    assert {c.page for c in version.clauses} == {None}
    client = app.test_client(user=admin)
    page = client.get(f"/dossiers/{dossier.reference}/documents/{docx.id}")
    assert page.status_code == 200
    assert "pagina " not in page.text
    hits = client.get("/search?q=opdrachtnemer&mode=clauses")
    assert hits.status_code == 200 and "GIBIT" in hits.text
    assert "pagina " not in hits.text
    # A PDF keeps its page numbers.
    pdf = next(p for p in sorted((corpus / VNG).glob("*.pdf")) if "kennismaking" in p.name)
    filed = _file(admin, dossier, pdf, DocumentKind.MINUTES)
    indexing.drain()
    db.session.refresh(filed)
    assert filed.current_version.page_count
    shown = client.get(f"/dossiers/{dossier.reference}/documents/{filed.id}")
    assert re.search(r"pagina \d", shown.text), shown.text[:2000]


# The "Year" facet and filter follow the document date; the filing date only stands in for a
# document without one.


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


FALLBACK_QUERIES = (
    "looptijd overeenkomst",
    "maximaal 2 maal verlengd",
    '"maal worden verlengd"',
    '"worden maal verlengd"',
    "opdrachtnemer",
    "opdrachtnemer -looptijd",
    "verleng*",
    "conduction looptijd",
    "4.4",
    "prijzen",
    CANARY,
)


@pytest.mark.parametrize("mode", ["documents", "clauses"])
def test_the_fallback_finds_what_the_index_finds(app: Flask, world: dict, mode: str) -> None:
    """The database fallback matches units as the index does, for every reader's permissions
    (it only does not rank them)."""
    for who in ("reader", "owner", "admin", "outsider"):
        allowed, denied = searching.permission_sets(world[who])
        for text in FALLBACK_QUERIES:
            # The fallback searches the words as typed: compare with the index unexpanded.
            request = SearchRequest(text, allowed, denied, mode=mode, per_page=100, expand=False)
            index = indexing.search_index().search(request)
            fallback = searching.FALLBACK.search(request)
            assert fallback.total == index.total, (who, text)
            assert fallback.facets == index.facets, (who, text)
            if index.total <= request.per_page:
                key = "unit_id" if mode == "clauses" else "document_id"
                found = sorted(getattr(hit, key) for hit in fallback.hits)
                assert found == sorted(getattr(hit, key) for hit in index.hits), (who, text)


def test_the_fallback_honours_old_versions_filters_and_withdrawal_as_the_index_does(
    app: Flask, world: dict
) -> None:
    admin, dossier = world["admin"], world["open"]
    document = _file_text(admin, dossier, "Artikel 1 Boete\nDe boete is 100 euro.\n", "a.txt")
    with documents.receive(
        io.BytesIO(b"Artikel 1 Korting\nDe korting is 5 procent.\n"), "a.txt"
    ) as upload:
        documents.add_version(admin, document, upload, comment="nieuw")
    db.session.commit()
    indexing.drain()
    allowed, denied = searching.permission_sets(admin)
    cases = [
        ("boete", {}),
        ("boete", {"include_old_versions": True}),
        ("korting", {"kinds": frozenset({"other"})}),
        ("korting", {"kinds": frozenset({"contract"})}),
        ("korting", {"statuses": frozenset({"nonsense"})}),
        ("korting", {"dossier_id": world["secret"].id}),
        ("looptijd", {"suppliers": frozenset({"Conduction"})}),
        ("looptijd", {"suppliers": frozenset({"Geheim B.V."})}),
    ]
    found = []
    for text, options in cases:
        request = SearchRequest(text, allowed, denied, mode="clauses", expand=False, **options)
        index = indexing.search_index().search(request)
        fallback = searching.FALLBACK.search(request)
        assert sorted(h.unit_id for h in fallback.hits) == sorted(h.unit_id for h in index.hits)
        found.append(fallback.total)
    assert found[:2] == [0, 1] and found[2] > 0 and found[3:6] == [0, 0, 0]
    assert found[6] > 0 and found[7] == 0
    request = SearchRequest("korting", allowed, denied, mode="clauses")
    assert document.id in {hit.document_id for hit in searching.FALLBACK.search(request).hits}
    documents.withdraw(admin, document, "vergissing")
    db.session.commit()
    assert document.id not in {hit.document_id for hit in searching.FALLBACK.search(request).hits}

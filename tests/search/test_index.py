"""The contract of every search backend, and what the Whoosh backend does beyond it.

Every test taking `backend` (or `make_backend`) runs once per backend, through the public
protocol of `search.backend.SearchBackend`: analysis, refused queries, permission filtering,
modes, facets, snippets, paging, writes and rebuilds. A test marked ``needs("ranks")`` runs
only on a backend that lists that capability and is skipped, with the reason, on the others.
The tests taking `whoosh` check what only the index on disk has: generations, segments, locks,
subprocesses and damage.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from search import analysis
from search.backend import CAPABILITIES, SearchBackend
from search.postgres import PostgresBackend
from search.query import QueryRefused, validate_query
from search.scan import ScanBackend
from search.types import IndexBusy, IndexUnavailable, SearchRequest, SearchResult, Unit
from search.whoosh import WhooshBackend as SearchIndex
from tests.conftest import PG_URL, need
from tests.search.postgres import drop_schema, schema_for

ROOT = Path(__file__).resolve().parents[2]
CANARY = "zwartekraai"


def unit(document_id: int, position: int, text: str, **changes: object) -> Unit:
    """A unit of document `document_id` (dossier 1, current version 1) with the given text."""
    values: dict[str, object] = {
        "unit_id": f"{document_id * 10}:{position}",
        "document_id": document_id,
        "version_id": document_id * 10,
        "version_number": 1,
        "is_current": True,
        "dossier_id": 1,
        "dossier_reference": "2025-001",
        "supplier": "Acme B.V.",
        "dossier_status": "active",
        "kind": "contract",
        "title": f"Document {document_id}",
        "document_date": date(2024, 3, 1),
        "clause_number": str(position + 1),
        "heading": "",
        "page": 1,
        "position": position,
        "is_clause": True,
        "text": text,
    }
    values.update(changes)
    return Unit(**values)  # type: ignore[arg-type]


# Every backend, made on its own storage under a test's folder (PostgreSQL: a schema of the
# test database named after that folder, dropped after the test).
BACKENDS: dict[str, Callable[[Path], SearchBackend]] = {
    "whoosh": lambda path: SearchIndex(path, lock_timeout=2.0),
    "scan": lambda path: ScanBackend(),
    "postgres": lambda path: PostgresBackend(PG_URL, schema=schema_for(path), lock_timeout=2.0),
}


@pytest.fixture(params=sorted(BACKENDS))
def make_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[str], SearchBackend]]:
    """Backends of the kind under test, each on its own storage; skips a test marked
    ``needs(...)`` when that kind lacks one of the capabilities it names."""
    made: list[SearchBackend] = []
    if request.param == "postgres":
        need(bool(PG_URL), "DOSSIER_TEST_DATABASE_URL is not set (PostgreSQL backend)")

    def make(name: str = "index") -> SearchBackend:
        backend = BACKENDS[request.param](tmp_path / name)
        made.append(backend)
        return backend

    marker = request.node.get_closest_marker("needs")
    needed = set(marker.args if marker else ())
    assert needed <= CAPABILITIES, f"unknown capabilities {needed - CAPABILITIES}"
    missing = needed - make("probe").capabilities
    if missing:
        pytest.skip(f"the {request.param} backend lacks {', '.join(sorted(missing))}")
    yield make
    for backend in made:
        backend.close()
        if isinstance(backend, PostgresBackend):
            drop_schema(PG_URL, backend.schema)


@pytest.fixture
def backend(make_backend: Callable[[str], SearchBackend]) -> SearchBackend:
    """An empty backend of the kind under test."""
    created = make_backend("index")
    created.create()
    return created


@pytest.fixture
def whoosh(tmp_path: Path) -> Iterator[SearchIndex]:
    """An empty Whoosh backend, for what only an index on disk does."""
    created = SearchIndex(tmp_path / "index", lock_timeout=2.0)
    created.create()
    yield created
    created.close()


def search(
    backend: SearchBackend, text: str, dossiers: set[int] | None = None, **options: object
) -> SearchResult:
    allowed = frozenset(dossiers if dossiers is not None else {1, 2, 3})
    # The contract is about the words as typed; the thesaurus has its own tests.
    options.setdefault("expand", False)
    return backend.search(SearchRequest(text, allowed, **options))  # type: ignore[arg-type]


def documents(result: SearchResult) -> list[int]:
    return [hit.document_id for hit in result.hits]


def scores_of(result: SearchResult) -> dict[int, float]:
    """Each hit's score by document (one unit per document in the tests that use it)."""
    return {hit.document_id: hit.score for hit in result.hits}


def fillers(numbers: range) -> list[tuple[int, list[Unit]]]:
    """Documents of words no query asks for, so that idf stays positive in small indexes."""
    return [(n, [unit(n, 0, f"rood blauw geel paars {n}")]) for n in numbers]


def test_every_backend_meets_the_protocol(backend: SearchBackend) -> None:
    assert isinstance(backend, SearchBackend)
    assert backend.capabilities <= CAPABILITIES and backend.exists()


# Analysis


@pytest.mark.parametrize(
    ("indexed", "query"),
    [
        ("De opzegging geschiedt schriftelijk.", "opzeggen"),
        ("Partijen kunnen de overeenkomst opzeggen.", "opzegging"),
        ("Lieferung an die Straße 5", "strasse"),
        ("Lieferung an die Strasse 5", "Straße"),
        ("Na beëindiging van de overeenkomst", "beeindiging"),
        ("Na beeindiging van de overeenkomst", "beëindiging"),
        ("The parties agree on liquidated damages.", "liquidate"),
        ("Damages are liquidated at once.", "liquidated"),
        ("The supplier shall liquidate the stock.", "liquidated"),
    ],
)
def test_stemming_and_folding_match_at_index_and_query_time(
    backend: SearchBackend, indexed: str, query: str
) -> None:
    backend.replace_document(1, [unit(1, 0, indexed)])
    assert documents(search(backend, query)) == [1]


def test_decomposed_accents_are_folded_like_composed_ones(backend: SearchBackend) -> None:
    backend.replace_document(1, [unit(1, 0, "Na be\u0065\u0308indiging van de overeenkomst")])
    assert documents(search(backend, "beëindiging")) == [1]
    assert documents(search(backend, "beeindiging")) == [1]


@pytest.mark.parametrize(
    "text",
    [
        "Straße, beëindiging en be\u0065\u0308indiging; İstanbul ǅemal ﬁnal 7:408 BW 12.3",
        "x" * 70 + " kort " + "y" * 64,
    ],
)
def test_index_and_query_analysis_see_the_same_words(text: str) -> None:
    assert analysis.word_list(text) == [word for word, _, _ in analysis.words(text)]


def test_index_and_query_analysis_agree_on_real_contracts(corpus: Path) -> None:
    for path in sorted((corpus / "cuad-dev" / "txt").glob("*.txt"))[:5]:
        text = path.read_text(errors="replace")
        assert analysis.word_list(text) == [word for word, _, _ in analysis.words(text)]


def test_phrase_found_far_into_a_long_unit(backend: SearchBackend) -> None:
    # Positions past 65,535 are stored as 32-bit numbers, which phrase checks decode apart.
    filler = "word " * 70_000
    backend.apply(
        [
            (1, [unit(1, 0, f"{filler} limitation of liability here")]),
            (2, [unit(2, 0, f"limitation {filler} of liability")]),
        ]
    )
    assert documents(search(backend, '"limitation of liability"')) == [1]
    assert sorted(documents(search(backend, "limitation liability"))) == [1, 2]
    # The phrase check of a long unit applies the reader's filters too.
    denied = frozenset({1})
    assert search(backend, '"limitation of liability"', denied_documents=denied).total == 0


def test_phrase_checks_across_many_blocks_of_postings(backend: SearchBackend) -> None:
    # 300 units hold both words (postings spread over several blocks); only every third holds
    # them as the phrase, with the stop word between them.
    texts = [
        "the limitation of liability applies",
        "a limitation on liability applies",
        "liability without limitation applies",
    ]
    backend.apply([(d, [unit(d, 0, texts[d % 3])]) for d in range(1, 301)])
    found = search(backend, '"limitation of liability"', mode="clauses", per_page=100)
    assert found.total == 100
    assert {hit.document_id % 3 for hit in found.hits} == {0}
    negated = search(backend, 'liability -"limitation of liability"', mode="clauses")
    assert negated.total == 200


def test_phrase_keeps_stop_words_exact(backend: SearchBackend) -> None:
    backend.apply(
        [
            (1, [unit(1, 0, "This clause sets the limitation of liability for both parties.")]),
            (2, [unit(2, 0, "This clause sets a limitation on liability for the supplier.")]),
            (3, [unit(3, 0, "Liability: there is no limitation of any kind.")]),
        ]
    )
    assert documents(search(backend, '"limitation of liability"')) == [1]
    assert documents(search(backend, '"limitation on liability"')) == [2]
    assert sorted(documents(search(backend, "limitation liability"))) == [1, 2, 3]
    assert documents(search(backend, '"sets the limitation of liability"')) == [1]
    assert sorted(documents(search(backend, 'limitation -"limitation of liability"'))) == [2, 3]
    assert documents(search(backend, '"there is no"')) == [3]


@pytest.mark.parametrize("query", ["2025-017", "7:408 BW", '"artikel 7:408 BW"', "12.3"])
def test_identifiers_are_findable_as_written(backend: SearchBackend, query: str) -> None:
    backend.apply(
        [
            (1, [unit(1, 0, "Zie artikel 7:408 BW en clausule 12.3 van dossier 2025-017.")]),
            (2, [unit(2, 0, "Zie artikel 7 en clausule 12 van dossier 2025, pagina 408 en 3.")]),
        ]
    )
    assert documents(search(backend, query))[0] == 1


@pytest.mark.needs("ranks")
def test_a_clause_number_ranks_that_clause_above_clauses_that_mention_it(
    backend: SearchBackend,
) -> None:
    long_clause = "4.4 De overeenkomst wordt aangegaan voor een periode van vier jaar. " + (
        "De opdrachtgever kan de overeenkomst telkens met een jaar verlengen. " * 8
    )
    backend.apply(
        [
            (1, [unit(1, 3, long_clause, clause_number="4.4", heading="Looptijd")]),
            (2, [unit(2, 8, "Zie artikel 4.4.", clause_number="9.1")]),
            (3, [unit(3, 0, "Artikel 12 gaat over de prijs; zie ook 12.", clause_number="3")]),
            (4, [unit(4, 11, "De prijs is vast.", clause_number="12")]),
        ]
    )
    assert documents(search(backend, "4.4", mode="clauses")) == [1, 2]
    assert documents(search(backend, "12", mode="clauses"))[0] == 4


@pytest.mark.needs("ranks")
def test_identifier_ranks_exact_form_first(backend: SearchBackend) -> None:
    backend.apply(
        [
            (1, [unit(1, 0, "Versie 2025 017 van het contract.")]),
            (2, [unit(2, 0, "Dossier 2025-017 van het contract.")]),
        ]
    )
    assert documents(search(backend, "2025-017")) == [2, 1]


def test_metadata_words_combine_with_clause_words(backend: SearchBackend) -> None:
    backend.apply(
        [
            (1, [unit(1, 0, "Termination for convenience.", supplier="Globex")]),
            (2, [unit(2, 0, "Termination for convenience.", supplier="Initech")]),
        ]
    )
    # Both words (one in the supplier name) first; the other unit holds one word only.
    assert documents(search(backend, "globex termination")) == [1, 2]
    assert documents(search(backend, "+globex termination")) == [1]


def test_a_single_word_and_its_expansions_match_the_text_not_the_metadata(
    backend: SearchBackend,
) -> None:
    backend.apply(
        [
            (1, [unit(1, 0, "The supplier keeps a liability insurance.")]),
            (2, [unit(2, 0, "Payment within thirty days.", title="Verzekering en polis")]),
            (3, [unit(3, 0, "Payment within thirty days.", title="Insurance agreement")]),
        ]
    )
    # "insurance" expands to "verzekering" and "polis" among others; neither the user's word
    # nor an expansion makes a clause a hit through the document's title.
    assert documents(search(backend, "insurance", expand=True)) == [1]
    # Beside another word of the user's, the title does count: document 3 holds both words,
    # document 2 only "payment" (its "verzekering" is an expansion, in the title).
    found = documents(search(backend, "insurance payment", expand=True))
    assert sorted(found) == [1, 2, 3]
    if "ranks" in backend.capabilities:
        assert found[0] == 3


def test_trailing_wildcard_and_exclusion(backend: SearchBackend) -> None:
    backend.apply(
        [
            (1, [unit(1, 0, "Termination of the agreement by notice.")]),
            (2, [unit(2, 0, "The agreement terminates automatically.")]),
            (3, [unit(3, 0, "Renewal of the agreement.")]),
        ]
    )
    assert sorted(documents(search(backend, "termin*"))) == [1, 2]
    assert documents(search(backend, "agreement -notice -renewal")) == [2]
    assert sorted(documents(search(backend, 'agreement -"by notice"'))) == [2, 3]
    assert sorted(documents(search(backend, 'agreement -"notice by"'))) == [1, 2, 3]


def test_a_wildcard_finds_words_whose_stem_is_shorter_than_the_prefix(
    backend: SearchBackend,
) -> None:
    # "termination" and "terminate" are indexed as "termin" (English units get English stems
    # only), which "terminat" does not start.
    texts = {
        1: "Either party may terminate this agreement if the other is in breach of it.",
        2: "Termination for convenience is excluded by the parties to this agreement.",
        3: "The term of this agreement is five years from the date it is signed.",
        4: "De opzegging gebeurt schriftelijk.",
        5: "Partijen kunnen de overeenkomst opzeggen.",
    }
    backend.apply([(d, [unit(d, 0, text)]) for d, text in texts.items()])
    found = search(backend, "terminat*", mode="clauses")
    assert sorted(documents(found)) == [1, 2]
    assert all("<mark>" in hit.snippet for hit in found.hits)
    assert sorted(documents(search(backend, "opzeg*"))) == [4, 5]


def test_loose_stop_words_are_optional_but_a_stop_word_query_still_works(
    backend: SearchBackend,
) -> None:
    backend.apply([(1, [unit(1, 0, "Governing law is Dutch law.")]), (2, [unit(2, 0, "Of.")])])
    assert documents(search(backend, "the governing law")) == [1]
    assert documents(search(backend, "of")) == [2]


AGREED = "Indien onderhoud is overeengekomen, geldt wat daarover is afgesproken."
LIABLE = "De aansprakelijkheid van de leverancier is beperkt tot het bedrag."


def test_a_question_about_what_was_agreed_finds_the_clauses_on_its_subject(
    backend: SearchBackend,
) -> None:
    # Every clause is an agreement: a question finds what its subject finds, not the clause that
    # says something "is overeengekomen" (search.expansion.drop_asking_words).
    backend.apply([(1, [unit(1, 0, AGREED)]), (2, [unit(2, 0, LIABLE)]), *fillers(range(3, 8))])
    asked = search(backend, "wat is er overeengekomen en afgesproken over aansprakelijkheid")
    assert documents(asked) == documents(search(backend, "aansprakelijkheid")) == [2]
    assert documents(search(backend, "overeengekomen")) == [1]


@pytest.mark.needs("ranks")
def test_the_supplier_named_in_a_question_puts_its_clause_first(backend: SearchBackend) -> None:
    # "What did we agree on liability with supplier X?": X is in the metadata of X's units.
    backend.apply(
        [
            (1, [unit(1, 0, AGREED, supplier="Beta Software")]),
            (2, [unit(2, 0, LIABLE)]),
            (3, [unit(3, 0, LIABLE, supplier="Beta Software")]),
            *fillers(range(4, 9)),
        ]
    )
    dutch = "wat hebben we met leverancier Beta afgesproken over aansprakelijkheid"
    assert documents(search(backend, dutch)) == [3, 2]
    english = search(backend, "what did we agree on liability with Beta", expand=True)
    assert documents(english)[:2] == [3, 2]  # the thesaurus finds the Dutch clauses


# Refused queries


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("*", "leading_wildcard"),
        ("*a*", "leading_wildcard"),
        ("?????????*", "leading_wildcard"),
        ("ab*", "short_prefix"),
        ("te?t", "wildcard"),
        ("content:[a TO z]", "range"),
        ("{a TO z}", "range"),
        ("(((", "syntax"),
        ("a)", "syntax"),
        ('"unclosed phrase', "syntax"),
        ("term^5", "characters"),
        ("termination OR renewal", "operator"),
        ("AND OR NOT", "only_operators"),
        ("(OR) NOT", "only_operators"),
        ("x" * 10_000, "too_long"),
        ("word " * 30, "too_long"),
        ("dossier_id:5", "field"),
        ("content:termination", "field"),
        ("", "empty"),
        ("  - ", "empty"),
        ("-termination", "empty"),
    ],
)
def test_refused_queries_never_run(backend: SearchBackend, text: str, code: str) -> None:
    backend.replace_document(1, [unit(1, 0, "dossier_id 5 content termination test a x word")])
    with pytest.raises(QueryRefused) as refused:
        validate_query(text)
    assert refused.value.code == code
    assert str(refused.value)
    with pytest.raises(QueryRefused):
        search(backend, text)


@pytest.mark.parametrize("text", ["termination?", "Straße", "7:408", "co-branding", "abc*"])
def test_ordinary_queries_are_accepted(text: str) -> None:
    validate_query(text)


# Permission filtering


def _canary_world(backend: SearchBackend) -> None:
    backend.apply(
        [
            (1, [unit(1, 0, "Contract terms for delivery.")]),
            (
                2,
                [
                    unit(
                        2,
                        0,
                        f"Contract terms {CANARY} secret.",
                        dossier_id=2,
                        dossier_reference="2025-099",
                        supplier="Geheim B.V.",
                        kind="report",
                        dossier_status="draft",
                        document_date=date(2019, 1, 1),
                    )
                ],
            ),
            (3, [unit(3, 0, f"Contract terms {CANARY} confidential price list.", kind="annex")]),
        ]
    )


@pytest.mark.parametrize("mode", ["documents", "clauses"])
@pytest.mark.parametrize(
    "text", [CANARY, CANARY[:6] + "*", f'"terms {CANARY}"', f"contract +{CANARY}", "geheim"]
)
def test_forbidden_dossier_never_matches(backend: SearchBackend, mode: str, text: str) -> None:
    _canary_world(backend)
    for sort in ("relevance", "date"):
        hidden = search(backend, text, {1}, mode=mode, denied_documents=frozenset({3}), sort=sort)
        assert (hidden.total, hidden.hits) == (0, [])
        assert all(values == [] for values in hidden.facets.values())


@pytest.mark.parametrize("mode", ["documents", "clauses"])
def test_forbidden_dossier_never_shows(backend: SearchBackend, mode: str) -> None:
    _canary_world(backend)
    shared = search(backend, "contract terms", {1}, mode=mode, denied_documents=frozenset({3}))
    assert documents(shared) == [1]
    assert shared.total == 1
    flat = repr(shared)
    for secret in (CANARY, "2025-099", "Geheim", "report", "draft", "2019", "annex"):
        assert secret not in flat


@pytest.mark.parametrize("mode", ["documents", "clauses"])
def test_an_or_query_counts_and_shows_only_permitted_matches(
    backend: SearchBackend, mode: str
) -> None:
    # "contract" is in every document, the canary only in forbidden ones: under ranked OR the
    # permitted document is found by one word and nothing of the others leaks into the
    # total, the facets, the hit or its score.
    _canary_world(backend)
    hidden = search(backend, f"contract {CANARY}", {1}, mode=mode, denied_documents=frozenset({3}))
    alone = search(backend, "contract", {1}, mode=mode, denied_documents=frozenset({3}))
    assert documents(hidden) == [1] and hidden.total == 1
    assert hidden.facets == alone.facets
    assert hidden.hits[0].score == pytest.approx(alone.hits[0].score)
    flat = repr(hidden)
    for secret in (CANARY, "2025-099", "Geheim", "report", "draft", "2019", "annex"):
        assert secret not in flat


@pytest.mark.parametrize("readable", [1, 31, 32, 33, 64, 100, 128, 129, 200])
def test_a_reader_of_many_dossiers_finds_exactly_theirs(
    backend: SearchBackend, readable: int
) -> None:
    # The PostgreSQL backend puts a reader's dossiers into its GIN queries, 32 to a query and
    # up to four queries, and past that filters by the dossier column: every size on either
    # side of those borders finds the permitted documents and no other.
    backend.apply(
        [(d, [unit(d, 0, f"Liability clause {d}.", dossier_id=d)]) for d in range(1, 241)]
    )
    allowed = set(random.Random(readable).sample(range(1, 241), readable))
    for text in ("liability", "liability -nothing", "liability clause"):
        pages = [search(backend, text, allowed, per_page=100, page=p) for p in (1, 2, 3)]
        assert [found.total for found in pages] == [readable] * 3
        assert sorted(sum((documents(found) for found in pages), [])) == sorted(allowed)
    one = min(allowed)
    assert documents(search(backend, "liability", allowed, dossier_id=one)) == [one]


def test_denied_document_is_excluded_but_its_dossier_is_not(backend: SearchBackend) -> None:
    _canary_world(backend)
    assert sorted(documents(search(backend, CANARY, {1, 2}))) == [2, 3]
    assert documents(search(backend, CANARY, {1, 2}, denied_documents=frozenset({3}))) == [2]
    assert documents(search(backend, "contract", {1}, denied_documents=frozenset({3}))) == [1]
    assert search(backend, CANARY, {1}, denied_documents=frozenset({3})).total == 0


def test_no_allowed_dossiers_means_no_hits(backend: SearchBackend) -> None:
    _canary_world(backend)
    result = search(backend, "contract", set())
    assert (result.total, result.hits) == (0, [])


def test_dossier_filter_cannot_widen_permissions(backend: SearchBackend) -> None:
    _canary_world(backend)
    assert search(backend, "contract", {1}, dossier_id=2).total == 0
    assert documents(search(backend, "contract", {1, 2}, dossier_id=2)) == [2]


def test_old_versions_only_on_request(backend: SearchBackend) -> None:
    backend.replace_document(
        1,
        [
            unit(1, 0, "Old wording about penalties.", version_id=10, is_current=False),
            unit(1, 0, "New wording about bonuses.", version_id=11, version_number=2),
        ],
    )
    assert search(backend, "penalties").total == 0
    old = search(backend, "penalties", include_old_versions=True)
    assert [(hit.document_id, hit.version_id) for hit in old.hits] == [(1, 10)]
    assert search(backend, "bonuses").hits[0].version_number == 2


# Ranked OR: optional words, +word, phrases, -word, coordination


def _liability_world(backend: SearchBackend) -> None:
    """Units holding both, one or none of "limitation" and "liability"; "limitation" common
    (a low idf) so that a unit repeating "liability" outscores one holding both words."""
    filler = "The parties agree on the terms set out in this agreement and its annexes. " * 3
    backend.apply(
        [
            (1, [unit(1, 0, "Liability liability liability: liability is liability.")]),
            (2, [unit(2, 0, f"{filler} A limitation of liability applies to both.")]),
            (3, [unit(3, 0, "Limitation of the term.")]),
            (4, [unit(4, 0, "Payment within thirty days.")]),
            (5, [unit(5, 0, "The liability of the supplier is capped at the price.")]),
            *[(n, [unit(n, 0, f"Limitation number {n}.")]) for n in range(6, 12)],
        ]
    )


@pytest.mark.parametrize("mode", ["documents", "clauses"])
def test_plain_words_are_optional_and_units_holding_all_come_first(
    backend: SearchBackend, mode: str
) -> None:
    _liability_world(backend)
    found = search(backend, "limitation liability", mode=mode, per_page=100)
    ranked = documents(found)
    # Every unit with either word is found; the one with both first, although a unit holding
    # one word scores higher by BM25F alone.
    assert sorted(ranked) == [1, 2, 3, 5, *range(6, 12)]
    assert ranked[0] == 2
    if "ranks" not in backend.capabilities:
        return  # a backend without scores orders by coordination only
    scores = scores_of(found)
    assert scores[1] > scores[2]
    # Within the units holding one word: by score.
    rest = [hit.score for hit in found.hits[1:]]
    assert rest == sorted(rest, reverse=True)
    assert found.total == len(ranked)


@pytest.mark.needs("ranks")  # and the thesaurus, which the scanning backend does not apply
def test_a_concept_in_other_words_outranks_one_word_of_the_users_phrase(
    backend: SearchBackend,
) -> None:
    # "payment terms" names the concept payment_terms with both words; "payable" (one of its
    # other wordings) holds what both words do, while a clause that only mentions a "term"
    # holds one word of the two, however often.
    backend.apply(
        [
            (1, [unit(1, 0, "The term of this term sheet: term after term, each term renewed.")]),
            (2, [unit(2, 0, "The invoice amount is payable to the supplier in euros.")]),
            (3, [unit(3, 0, "The payment terms of the supplier apply to every invoice.")]),
        ]
    )
    found = search(backend, "payment terms", expand=True, mode="clauses", per_page=10)
    assert sorted(documents(found)) == [1, 2, 3]
    assert documents(found)[2] == 1


@pytest.mark.needs("ranks")  # and the thesaurus
def test_a_concepts_other_wordings_count_once_with_a_tie_breaker(backend: SearchBackend) -> None:
    # "audit" adds "controle" and "inspect" (one concept): a clause holding both is one piece of
    # evidence, the better wording in full and the other at TIE_BREAKER, not the sum of both.
    from search.planning import TIE_BREAKER

    backend.apply(
        [
            (1, [unit(1, 0, "controle zwart wit groen")]),
            (2, [unit(2, 0, "inspect zwart wit groen")]),
            (3, [unit(3, 0, "controle inspect wit groen")]),
            *fillers(range(4, 12)),
        ]
    )
    found = search(backend, "audit", expand=True, mode="clauses", per_page=10)
    scores = scores_of(found)
    assert sorted(scores) == [1, 2, 3]
    best, other = max(scores[1], scores[2]), min(scores[1], scores[2])
    assert scores[3] == pytest.approx(best + TIE_BREAKER * other, rel=1e-6)
    assert documents(found)[0] == 3


@pytest.mark.needs("ranks")  # and the thesaurus
def test_the_users_word_that_is_a_wording_of_the_concept_holds_the_concept(
    backend: SearchBackend,
) -> None:
    # "escrow" is a wording of the concept "source code escrow" names, as "broncode" (added)
    # is: a clause holding either holds the concept, above one holding "source" and "code".
    backend.apply(
        [
            (1, [unit(1, 0, "De leverancier voorziet in escrow bij een agent.")]),
            (2, [unit(2, 0, "De broncode wordt bij een agent bewaard.")]),
            (3, [unit(3, 0, "The source of the code is known to the agent.")]),
            *fillers(range(4, 10)),
        ]
    )
    found = search(backend, "source code escrow", expand=True, mode="clauses", per_page=10)
    assert sorted(documents(found)[:2]) == [1, 2] and documents(found)[2] == 3


@pytest.mark.needs("ranks")  # and the thesaurus
def test_only_the_users_own_words_score_in_the_heading(backend: SearchBackend) -> None:
    # "beëindiging" adds "opzegging" (one concept): a thesaurus term in the heading scores as in
    # the text only (search.planning.HEADING says why); the user's own word scores there again.
    body = "kan de overeenkomst eindigen met een termijn van drie maanden"
    backend.apply(
        [
            (1, [unit(1, 0, f"Opzegging {body}")]),
            (2, [unit(2, 0, body, heading="Opzegging")]),
            *fillers(range(3, 9)),
        ]
    )
    found = search(backend, "beëindiging", expand=True, mode="clauses", per_page=10)
    scores = scores_of(found)
    assert sorted(scores) == [1, 2]
    assert scores[2] == pytest.approx(scores[1], rel=1e-6)
    typed = search(backend, "opzegging", expand=True, mode="clauses", per_page=10)
    scores = scores_of(typed)
    assert scores[2] > scores[1] * 1.05


@pytest.mark.needs("ranks")
def test_a_definition_scores_below_the_same_words_in_a_clause(backend: SearchBackend) -> None:
    # A unit among the definitions says what a word means: it scores at DEFINITION_WEIGHT,
    # in both modes, and keeps its coordination (a definition holding every word still ranks
    # above a clause holding one).
    from search.planning import DEFINITION_WEIGHT

    text = "Broncode: de programma-instructies in hun oorspronkelijke taal."
    backend.apply(
        [
            (1, [unit(1, 0, text, heading="Begrippen")]),
            (2, [unit(2, 0, text, heading="Begrippen", definition=True)]),
            (3, [unit(3, 0, "De broncode wordt gedeponeerd.", definition=False)]),
            *fillers(range(4, 10)),
        ]
    )
    for mode in ("clauses", "documents"):
        found = search(backend, "broncode taal", mode=mode, per_page=10)
        scores = scores_of(found)
        assert documents(found) == [1, 2, 3]
        assert scores[2] == pytest.approx(DEFINITION_WEIGHT * scores[1], rel=1e-6)


RANKED_QUERIES = [
    "termination for convenience",
    '"limitation of liability"',
    "governing law",
    "+indemnif* third party",
    "confidential information -employee",
    "notice period 30 days",
    "aansprakelijkheid",
    "opzegtermijn",
    "assignment change of control",
    "non-compete",
    "insurance",
    "12.3",
]


@pytest.mark.needs("ranks")
@pytest.mark.parametrize("mode", ["documents", "clauses"])
def test_rankings_match_the_embedded_index_on_real_contracts(
    make_backend: Callable[[str], SearchBackend], tmp_path: Path, corpus: Path, mode: str
) -> None:
    # One shared set of real clauses: every ranking backend finds, counts, facets, orders and
    # scores them as the embedded index does (Whoosh's BM25F within coordination tiers).
    from ingest.clauses import segment

    texts = sorted((corpus / "cuad-dev" / "txt").glob("*.txt"))[:6]
    units = [
        unit(n, p, clause.text, clause_number=clause.number, dossier_id=n % 3 + 1)
        for n, path in enumerate(texts, start=1)
        for p, clause in enumerate(segment(path.read_text(errors="replace")))
    ]
    tested = make_backend("tested")
    reference = SearchIndex(tmp_path / "reference")
    tested.rebuild(iter(units))
    reference.rebuild(iter(units))
    for text in RANKED_QUERIES:
        for expand in (False, True):
            options = {"mode": mode, "per_page": 25, "expand": expand}
            want = search(reference, text, {1, 2}, **options)
            got = search(tested, text, {1, 2}, **options)
            assert (got.total, got.facets, got.expansions) == (
                want.total,
                want.facets,
                want.expansions,
            ), text
            assert [(h.unit_id, round(h.score, 4), h.snippet) for h in got.hits] == [
                (h.unit_id, round(h.score, 4), h.snippet) for h in want.hits
            ], text
    reference.close()


def test_a_query_whose_words_no_unit_holds_together_still_finds_each(
    backend: SearchBackend,
) -> None:
    _liability_world(backend)
    # No unit holds "payment" and "liability" together; both kinds are found.
    assert sorted(documents(search(backend, "payment liability"))) == [1, 2, 4, 5]
    # A word the index does not hold at all takes nothing away from the others.
    assert sorted(documents(search(backend, "payment zzzyxw"))) == [4]


def test_plus_word_and_phrases_are_required_and_minus_word_excludes(backend: SearchBackend) -> None:
    _liability_world(backend)
    assert sorted(documents(search(backend, "+limitation liability"))) == [2, 3, *range(6, 12)]
    assert documents(search(backend, "+limitation +liability")) == [2]
    assert documents(search(backend, "limitation +liability", per_page=100))[0] == 2
    assert documents(search(backend, '"limitation of liability" supplier')) == [2]
    assert documents(search(backend, '+"limitation of liability"')) == [2]
    assert sorted(documents(search(backend, "limitation liability -number"))) == [1, 2, 3, 5]
    assert sorted(documents(search(backend, 'liability -"limitation of liability"'))) == [1, 5]


def test_an_optional_compound_counts_only_where_its_words_are_in_sequence(
    backend: SearchBackend,
) -> None:
    backend.apply(
        [
            (1, [unit(1, 0, "A non-compete clause binds the seller.")]),
            (2, [unit(2, 0, "Non-exclusive: the parties compete freely.")]),
            (3, [unit(3, 0, "The seller shall not solicit employees.")]),
        ]
    )
    # Unit 2 holds "non" and "compete", but not as "non-compete": that item is not held.
    assert documents(search(backend, "non-compete seller")) == [1, 3]
    assert documents(search(backend, "non-compete")) == [1]


def test_a_hyphenated_compound_is_also_held_written_as_one_word(backend: SearchBackend) -> None:
    backend.apply(
        [
            (1, [unit(1, 0, "A nontransferable licence to use the software.")]),
            (2, [unit(2, 0, "A non-transferable licence to use the software.")]),
            (3, [unit(3, 0, "The licence is non-exclusive; a transferable right.")]),
            (4, [unit(4, 0, "Supplier shall keep all records.")]),
        ]
    )
    assert sorted(documents(search(backend, "non-transferable"))) == [1, 2]
    # Both spellings hold the compound, so they rank with the units holding every word.
    assert sorted(documents(search(backend, "non-transferable licence"))[:2]) == [1, 2]
    assert sorted(documents(search(backend, "+non-transferable software"))) == [1, 2]
    assert sorted(documents(search(backend, "licence -non-transferable"))) == [3]
    # A quoted phrase stays exact.
    assert documents(search(backend, '"non-transferable"')) == [2]


def test_a_stop_word_query_searches_its_stop_words(backend: SearchBackend) -> None:
    backend.apply([(1, [unit(1, 0, "Of.")]), (2, [unit(2, 0, "Of the.")]), (3, [unit(3, 0, "X.")])])
    # Only stop words: they are searched as ordinary optional words, both first.
    assert documents(search(backend, "the of")) == [2, 1]
    # With a content word, a loose stop word neither matches nor counts; +the keeps it.
    assert documents(search(backend, "the x")) == [3]
    assert documents(search(backend, "+the of")) == [2]


def test_or_totals_pages_and_facets_describe_the_same_matches(backend: SearchBackend) -> None:
    _liability_world(backend)
    for mode in ("documents", "clauses"):
        first = search(backend, "limitation liability", mode=mode, per_page=3)
        pages = [
            search(backend, "limitation liability", mode=mode, per_page=3, page=p)
            for p in range(1, 6)
        ]
        seen = [hit.unit_id for page in pages for hit in page.hits]
        assert len(seen) == len(set(seen)) == first.total == 10
        # Page by page, the hits and scores come as on one long page (the first page already
        # runs from the top coordination tier, one unit, into the next).
        whole = search(backend, "limitation liability", mode=mode, per_page=50)
        assert seen == [hit.unit_id for hit in whole.hits]
        assert [h.score for p in pages for h in p.hits] == [h.score for h in whole.hits]
        assert sum(count for _, count in first.facets["kind"]) == first.total
        assert all(page.total == first.total and page.facets == first.facets for page in pages)


# Modes, facets, snippets, order, pages


def test_documents_mode_groups_units_and_clauses_mode_lists_them(backend: SearchBackend) -> None:
    backend.apply(
        [
            (
                1,
                [
                    unit(1, 0, "Payment within thirty days.", heading="Payment"),
                    unit(1, 1, "Late payment interest applies."),
                    unit(1, 2, "Nothing relevant here."),
                ],
            ),
            (2, [unit(2, 0, "Payment by invoice.", dossier_id=2, dossier_reference="2025-002")]),
        ]
    )
    grouped = search(backend, "payment")
    assert grouped.total == 2 and sorted(documents(grouped)) == [1, 2]
    assert all(hit.text == "" for hit in grouped.hits)
    clauses = search(backend, "payment", mode="clauses")
    assert clauses.total == 3
    texts = {hit.unit_id: hit.text for hit in clauses.hits}
    assert texts["10:0"] == "Payment within thirty days."
    assert texts["10:1"] == "Late payment interest applies."
    assert grouped.facets["dossier"] == [("2025-001", 1), ("2025-002", 1)]
    assert clauses.facets["dossier"] == [("2025-001", 2), ("2025-002", 1)]


def test_heading_is_searchable_but_not_part_of_the_text(backend: SearchBackend) -> None:
    backend.replace_document(1, [unit(1, 0, "Either party may end it.", heading="Termination")])
    hit = search(backend, "termination", mode="clauses").hits[0]
    assert (hit.heading, hit.text) == ("Termination", "Either party may end it.")


def test_facets_count_every_permitted_match(backend: SearchBackend) -> None:
    backend.apply(
        [
            (n, [unit(n, 0, "Insurance cover.", kind=kind, document_date=date(year, 5, 1))])
            for n, kind, year in [(1, "contract", 2023), (2, "annex", 2024), (3, "annex", 2024)]
        ]
    )
    facets = search(backend, "insurance", per_page=1).facets
    assert facets["kind"] == [("annex", 2), ("contract", 1)]
    assert facets["year"] == [("2024", 2), ("2023", 1)]
    assert facets["supplier"] == [("Acme B.V.", 3)]
    assert facets["status"] == [("active", 3)]


def test_filters(backend: SearchBackend) -> None:
    backend.apply(
        [
            (1, [unit(1, 0, "Audit rights.", kind="contract", document_date=date(2023, 1, 5))]),
            (2, [unit(2, 0, "Audit rights.", kind="annex", document_date=date(2024, 6, 1))]),
            (3, [unit(3, 0, "Audit rights.", supplier="Initech", dossier_status="ended")]),
        ]
    )
    assert documents(search(backend, "audit", kinds=frozenset({"annex"}))) == [2]
    assert documents(search(backend, "audit", suppliers=frozenset({"Initech"}))) == [3]
    assert documents(search(backend, "audit", statuses=frozenset({"ended"}))) == [3]
    assert documents(search(backend, "audit", year=2023)) == [1]
    assert sorted(documents(search(backend, "audit", date_from=date(2024, 1, 1)))) == [2, 3]
    assert documents(search(backend, "audit", date_to=date(2023, 12, 31))) == [1]


# Clause types


def _typed_world(backend: SearchBackend) -> None:
    """Clauses of three types over two permitted dossiers and a forbidden one."""
    backend.apply(
        [
            (
                1,
                [
                    unit(1, 0, "The cap on damages.", clause_types=("liability",)),
                    unit(1, 1, "Insurance and damages.", clause_types=("insurance", "liability")),
                    unit(1, 2, "Damages for late delivery.", clause_types=()),
                ],
            ),
            (
                2,
                [
                    unit(2, 0, "Cover for damages.", clause_types=("insurance",), kind="annex"),
                    unit(2, 1, "Damages are excluded.", clause_types=("liability",), kind="annex"),
                ],
            ),
            (
                3,
                [
                    unit(
                        3,
                        0,
                        f"Damages {CANARY}.",
                        dossier_id=2,
                        dossier_reference="2025-099",
                        clause_types=("liability", "indemnity"),
                    )
                ],
            ),
        ]
    )


def units(result: SearchResult) -> list[str]:
    return sorted(hit.unit_id for hit in result.hits)


def test_the_clause_type_filter_keeps_units_of_any_chosen_type(backend: SearchBackend) -> None:
    _typed_world(backend)
    liability = search(backend, "damages", {1}, mode="clauses", clause_types={"liability"})
    assert units(liability) == ["10:0", "10:1", "20:1"] and liability.total == 3
    either = search(
        backend, "damages", {1}, mode="clauses", clause_types={"liability", "insurance"}
    )
    assert units(either) == ["10:0", "10:1", "20:0", "20:1"]
    # Documents mode: the documents with a matching clause of the type.
    assert sorted(documents(search(backend, "cover", {1}, clause_types={"insurance"}))) == [2]
    assert search(backend, "late delivery", {1}, clause_types={"liability"}).total == 0


def test_hits_carry_their_clause_types(backend: SearchBackend) -> None:
    _typed_world(backend)
    hits = search(backend, "insurance", {1}, mode="clauses").hits
    assert [hit.clause_types for hit in hits] == [("insurance", "liability")]


@pytest.mark.parametrize(
    "text",
    [
        "damages soort:aansprakelijkheid",
        "soort:Aansprakelijkheid damages",
        "damages type:liability",
        "damages TYPE:LIABILITY",
        'damages soort:"aansprakelijkheid"',
    ],
)
def test_soort_in_the_text_is_the_clause_type_filter(backend: SearchBackend, text: str) -> None:
    _typed_world(backend)
    typed = search(backend, text, {1}, mode="clauses")
    filtered = search(backend, "damages", {1}, mode="clauses", clause_types={"liability"})
    assert units(typed) == units(filtered) == ["10:0", "10:1", "20:1"]
    assert typed.facets == filtered.facets


def test_a_type_in_the_text_adds_to_the_chosen_types(backend: SearchBackend) -> None:
    _typed_world(backend)
    both = search(
        backend, "damages soort:verzekering", {1}, clause_types={"liability"}, mode="clauses"
    )
    assert units(both) == ["10:0", "10:1", "20:0", "20:1"]


@pytest.mark.parametrize("mode", ["documents", "clauses"])
def test_a_query_of_only_a_type_lists_every_permitted_clause_of_it(
    backend: SearchBackend, mode: str
) -> None:
    _typed_world(backend)
    listed = search(backend, "soort:liability", {1}, mode="clauses")
    assert units(listed) == ["10:0", "10:1", "20:1"] and listed.total == 3
    chosen = search(backend, "", {1}, mode="clauses", clause_types={"liability"})
    assert units(chosen) == units(listed)
    # The units with most of the chosen types first.
    mixed = search(backend, "", {1}, mode="clauses", clause_types={"liability", "insurance"})
    assert mixed.hits[0].unit_id == "10:1" and mixed.total == 4
    assert all(hit.snippet for hit in mixed.hits)
    grouped = search(backend, "soort:liability", {1}, mode=mode)
    assert grouped.total == (2 if mode == "documents" else 3)
    # Filters still apply, and the forbidden dossier stays out.
    annex = search(backend, "soort:liability", {1}, mode="clauses", kinds=frozenset({"annex"}))
    assert units(annex) == ["20:1"]
    assert CANARY not in repr(search(backend, "soort:indemnity", {1}, mode=mode))
    assert search(backend, "soort:indemnity", {1}, mode=mode).total == 0
    assert search(backend, "soort:indemnity", set(), mode=mode).total == 0
    assert units(search(backend, "soort:indemnity", {1, 2}, mode="clauses")) == ["30:0"]
    # A question about what was agreed, of a type: the type's clauses, as without the words.
    asked = search(backend, "wat is afgesproken soort:liability", {1}, mode="clauses")
    assert units(asked) == units(listed)
    asked = search(backend, "afgesproken", {1}, mode="clauses", clause_types={"liability"})
    assert units(asked) == units(chosen)


def test_the_clause_type_facet_counts_every_permitted_clause(backend: SearchBackend) -> None:
    _typed_world(backend)
    clauses = search(backend, "damages", {1}, mode="clauses", per_page=1)
    assert clauses.total == 5
    assert clauses.facets["clause_type"] == [("liability", 3), ("insurance", 2)]
    # Counted over the clauses shown: a filter narrows the facet with the hits.
    narrowed = search(backend, "damages", {1}, mode="clauses", clause_types={"insurance"})
    assert narrowed.facets["clause_type"] == [("insurance", 2), ("liability", 1)]
    # Documents mode counts documents, of which clause types are no property: no facet.
    assert search(backend, "damages", {1}).facets["clause_type"] == []
    # The forbidden dossier's clause types never show.
    everything = search(backend, "damages", {1, 2}, mode="clauses")
    assert ("indemnity", 1) in everything.facets["clause_type"]
    hidden = search(backend, f"damages {CANARY}", {1}, mode="clauses")
    assert all(name != "indemnity" for name, _ in hidden.facets["clause_type"])
    assert search(backend, CANARY, {1}, mode="clauses").facets["clause_type"] == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("damages soort:kwaliteit", "unknown_type"),
        ('soort:""', "unknown_type"),
        ("soort:liability -soort:insurance", "type_operator"),
        ("+soort:liability", "type_operator"),
        ("soort:liability -damages", "type_only_exclusions"),
    ],
)
def test_an_unknown_or_misused_type_is_refused(
    backend: SearchBackend, text: str, code: str
) -> None:
    _typed_world(backend)
    with pytest.raises(QueryRefused) as refused:
        search(backend, text, {1}, mode="clauses")
    assert refused.value.code == code and str(refused.value)


def test_snippets_show_a_short_unit_whole_and_join_fragments_once(backend: SearchBackend) -> None:
    filler = "woord " * 60
    long_text = f"Aansprakelijkheid. {filler}de aansprakelijkheid van partijen {filler}einde."
    backend.apply(
        [
            (1, [unit(1, 0, "Kort over aansprakelijkheid hier.")]),
            (2, [unit(2, 0, long_text)]),
        ]
    )
    found = {hit.document_id: hit.snippet for hit in search(backend, "aansprakelijkheid").hits}
    assert found[1] == "Kort over <mark>aansprakelijkheid</mark> hier."
    assert found[2].count("<mark>") == 2
    assert "… …" not in found[2] and "……" not in found[2] and " … " in found[2]


def test_snippets_escape_everything_but_mark(backend: SearchBackend) -> None:
    text = 'Termination <script>alert("x")</script> & <b>termination</b> fee.'
    backend.replace_document(1, [unit(1, 0, text)])
    snippet = search(backend, "termination").hits[0].snippet
    assert set(re.findall(r"<[^>]*>", snippet)) == {"<mark>", "</mark>"}
    assert "&lt;script&gt;" in snippet and "&amp;" in snippet
    assert snippet.count("<mark>") == 2
    assert search(backend, "termination", snippets=False).hits[0].snippet == ""


def test_snippets_are_bounded(backend: SearchBackend) -> None:
    text = " ".join(["filler"] * 400 + ["indemnification"] + ["filler"] * 400)
    backend.replace_document(1, [unit(1, 0, text)])
    snippet = search(backend, "indemnification").hits[0].snippet
    assert "<mark>indemnification</mark>" in snippet
    assert len(snippet) < 400


def test_sort_by_date_and_pages(backend: SearchBackend) -> None:
    backend.apply(
        [
            (n, [unit(n, 0, "Warranty " * n, document_date=date(2020 + n % 5, 1, n))])
            for n in range(1, 8)
        ]
    )
    newest = search(backend, "warranty", sort="date", per_page=3)
    assert newest.total == 7
    dates = [hit.document_date for hit in newest.hits]
    assert dates == sorted(dates, reverse=True)
    pages = [documents(search(backend, "warranty", page=p, per_page=3)) for p in (1, 2, 3, 4)]
    assert [len(page) for page in pages] == [3, 3, 1, 0]
    assert sorted(sum(pages, [])) == list(range(1, 8))
    scores = [hit.score for p in (1, 2, 3) for hit in search(backend, "warranty", page=p).hits]
    assert scores == sorted(scores, reverse=True)


def test_bad_request_values_are_programming_errors(backend: SearchBackend) -> None:
    for change in ({"mode": "x"}, {"sort": "x"}, {"page": 0}, {"per_page": 1000}):
        with pytest.raises(ValueError):
            search(backend, "x", **change)


# Writes


def version_ids(backend: SearchBackend) -> set[int]:
    return set(backend.version_summary())


def test_empty_index_answers(backend: SearchBackend) -> None:
    backend.check()
    assert (backend.document_count(), backend.unit_count(), version_ids(backend)) == (0, 0, set())
    assert search(backend, "anything").total == 0
    backend.replace_document(1, [])
    assert search(backend, "anything").total == 0


def test_replace_delete_apply_and_counts(backend: SearchBackend) -> None:
    backend.replace_document(1, [unit(1, 0, "alpha"), unit(1, 1, "beta")])
    backend.replace_document(2, [unit(2, 0, "gamma")])
    assert (backend.document_count(), backend.unit_count(), version_ids(backend)) == (
        2,
        3,
        {10, 20},
    )
    backend.replace_document(1, [unit(1, 0, "delta", version_id=11)])
    assert search(backend, "alpha").total == 0 and documents(search(backend, "delta")) == [1]
    backend.delete_document(2)
    assert (backend.document_count(), backend.unit_count(), version_ids(backend)) == (1, 1, {11})
    backend.apply([(3, [unit(3, 0, "epsilon")]), (1, None), (3, [unit(3, 0, "zeta")])])
    assert version_ids(backend) == {30}
    assert (search(backend, "epsilon").total, search(backend, "zeta").total) == (0, 1)


def test_version_summary_tells_documents_units_and_current_flags(backend: SearchBackend) -> None:
    backend.replace_document(
        1,
        [
            unit(1, 0, "old", version_id=10, is_current=False),
            unit(1, 0, "new", version_id=11, version_number=2),
            unit(1, 1, "newer", version_id=11, version_number=2),
        ],
    )
    summary = backend.version_summary()
    assert summary == {10: (1, 1, frozenset({False})), 11: (1, 2, frozenset({True}))}


def test_apply_commits_once_per_batch(whoosh: SearchIndex, tmp_path: Path) -> None:
    def generations() -> int:
        return len(list((tmp_path / "index").glob("gen-*/*.toc")))

    whoosh.replace_document(1, [unit(1, 0, "one")])
    before = max(_toc_numbers(tmp_path / "index"))
    whoosh.apply([(n, [unit(n, 0, f"word{n}")]) for n in range(2, 12)])
    assert max(_toc_numbers(tmp_path / "index")) == before + 1
    assert generations() >= 1


def _toc_numbers(directory: Path) -> list[int]:
    return [int(p.stem.rsplit("_", 1)[1]) for p in directory.glob("gen-*/*.toc")]


def test_searches_in_threads_while_documents_change(backend: SearchBackend) -> None:
    backend.apply([(n, [unit(n, 0, f"shared wording {n}")]) for n in range(1, 30)])
    errors: list[BaseException] = []

    def searching() -> None:
        try:
            for _ in range(30):
                assert search(backend, "shared wording").total >= 29
        except BaseException as exc:
            errors.append(exc)
        finally:
            backend.close()

    threads = [threading.Thread(target=searching) for _ in range(4)]
    for thread in threads:
        thread.start()
    for n in range(30, 40):
        backend.replace_document(n, [unit(n, 0, f"shared wording {n}")])
    for thread in threads:
        thread.join()
    assert errors == []
    assert search(backend, "shared wording").total == 39


def test_rebuild_switches_at_once_while_searches_continue(backend: SearchBackend) -> None:
    backend.replace_document(1, [unit(1, 0, "original wording")])
    seen_during: list[int] = []

    def fresh_units() -> Iterator[Unit]:
        yield unit(1, 0, "rebuilt wording")
        seen_during.append(search(backend, "original").total)
        seen_during.append(search(backend, "rebuilt").total)
        for n in range(2, 5):
            yield unit(n, 0, "rebuilt wording")

    progress: list[int] = []
    backend.rebuild(fresh_units(), progress.append)
    assert seen_during == [1, 0]
    assert (search(backend, "original").total, search(backend, "rebuilt").total) == (0, 4)
    assert progress[-1] == 4
    assert (backend.document_count(), backend.unit_count()) == (4, 4)


def test_rebuild_switches_generations_under_another_reader(tmp_path: Path) -> None:
    reader = SearchIndex(tmp_path / "index")
    reader.create()
    reader.replace_document(1, [unit(1, 0, "original wording")])
    seen_during: list[int] = []

    def fresh_units() -> Iterator[Unit]:
        yield unit(1, 0, "rebuilt wording")
        seen_during.append(search(reader, "original").total)
        seen_during.append(search(reader, "rebuilt").total)
        for n in range(2, 5):
            yield unit(n, 0, "rebuilt wording")

    progress: list[int] = []
    SearchIndex(tmp_path / "index").rebuild(fresh_units(), progress.append)
    assert seen_during == [1, 0]
    assert (search(reader, "original").total, search(reader, "rebuilt").total) == (0, 4)
    assert progress[-1] == 4
    assert len(list((tmp_path / "index").glob("gen-*"))) == 1
    reader.close()


def test_rebuild_in_subprocesses(make_backend: Callable[[str], SearchBackend]) -> None:
    backend = make_backend("index")
    backend.rebuild(
        (unit(n, p, f"clause {p} of {n}") for n in range(1, 40) for p in range(3)), processes=2
    )
    assert (backend.document_count(), backend.unit_count()) == (39, 117)
    assert search(backend, "clause", mode="clauses").total == 117


def test_parallel_rebuild_finds_what_a_single_process_rebuild_finds(
    make_backend: Callable[[str], SearchBackend],
) -> None:
    words = ["liability", "termination", "opzegging", "aansprakelijkheid", "2025-017"]

    def units() -> Iterator[Unit]:
        for n in range(1, 120):
            for p in range(4):
                text = f"Article {p}. {words[(n + p) % 5]} and {words[(n * p) % 5]} of {n}"
                yield unit(n, p, text, dossier_id=n % 3 + 1)

    single, parallel = make_backend("one"), make_backend("two")
    single.rebuild(units())
    parallel.rebuild(units(), processes=2)
    for text in [*words, '"liability and termination"', "opzeggen"]:
        for mode in ("documents", "clauses"):
            one = search(single, text, mode=mode, per_page=100)
            two = search(parallel, text, mode=mode, per_page=100)
            assert one.total == two.total > 0, text
            assert sorted((h.unit_id, round(h.score, 6)) for h in one.hits) == sorted(
                (h.unit_id, round(h.score, 6)) for h in two.hits
            )
            assert one.facets == two.facets


@pytest.mark.parametrize("processes", [1, 2])
def test_a_unit_that_fails_to_index_fails_the_rebuild(
    whoosh: SearchIndex, tmp_path: Path, processes: int
) -> None:
    whoosh.replace_document(1, [unit(1, 0, "kept")])
    bad = dataclasses.replace(unit(3, 0, "broken"), kind=None)  # type: ignore[arg-type]
    units = [unit(2, p, f"new {p}") for p in range(3000)] + [bad]
    with pytest.raises((RuntimeError, AttributeError), match="encode"):
        whoosh.rebuild(iter(units), processes=processes)
    assert documents(search(whoosh, "kept")) == [1]
    assert len(list((tmp_path / "index").glob("gen-*"))) == 1


def test_a_killed_indexing_process_fails_the_rebuild(
    whoosh: SearchIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.whoosh import _writer as index_writer

    whoosh.replace_document(1, [unit(1, 0, "kept")])

    def killed(*_: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    # Workers are forked, so they inherit the patch and die on their first unit.
    monkeypatch.setattr(index_writer, "_index_here", killed)
    units = (unit(n, p, f"new {p}") for n in range(2, 200) for p in range(30))
    with pytest.raises(RuntimeError, match="exit code -9"):
        whoosh.rebuild(units, processes=2)
    assert documents(search(whoosh, "kept")) == [1]
    assert len(list((tmp_path / "index").glob("gen-*"))) == 1


def test_a_write_after_a_large_rebuild_leaves_its_segments_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from search.whoosh import _writer as index_writer

    # Scaled down: 36 segments of 40 units stand for the 200,000-unit segments of a large
    # rebuild. Whoosh's own policy merged the largest of them on the next commit.
    monkeypatch.setattr(index_writer, "SEGMENT_UNITS", 40)
    monkeypatch.setattr(index_writer, "MERGE_LIMIT_UNITS", 40)
    backend = SearchIndex(tmp_path / "index")
    backend.rebuild(unit(n, p, f"clause {p} of {n}") for n in range(1, 361) for p in range(4))

    def segment_sizes() -> list[int]:
        _, ix = backend._store.open()
        return sorted(s.doc_count_all() for s in ix._segments())

    before = segment_sizes()
    assert before == [40] * 36
    for n in range(1000, 1012):
        backend.replace_document(n, [unit(n, 0, "new")])
    after = segment_sizes()
    assert after[-36:] == before and len(after) < 36 + 12  # only the small ones merged
    assert (backend.document_count(), search(backend, "new").total) == (372, 12)
    backend.close()


def test_postings_added_out_of_order_are_written_in_order(tmp_path: Path) -> None:
    from search.whoosh._writer import TermPool

    pool = TermPool()
    for docnum in (5, 2, 9, 1):
        pool.add(("document", b"x", docnum, float(docnum), b"v%d" % docnum))
    docs, weights, values = pool.fields["document"][b"x"].columns()
    assert (list(docs), list(weights), values) == (
        [1, 2, 5, 9],
        [1.0, 2.0, 5.0, 9.0],
        [b"v1", b"v2", b"v5", b"v9"],
    )


def test_failed_rebuild_keeps_the_old_index(backend: SearchBackend) -> None:
    backend.replace_document(1, [unit(1, 0, "kept")])

    def broken() -> Iterator[Unit]:
        yield unit(2, 0, "lost")
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        backend.rebuild(broken())
    assert documents(search(backend, "kept")) == [1]


# Damage


def _segment_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("gen-*/*.seg"))


def _damage_toc(directory: Path) -> None:
    toc = max(directory.glob("gen-*/*.toc"))
    toc.write_bytes(toc.read_bytes()[:20])


def _delete_segment(directory: Path) -> None:
    _segment_files(directory)[0].unlink()


def _garbage_segment(directory: Path) -> None:
    segment = _segment_files(directory)[0]
    segment.write_bytes(os.urandom(segment.stat().st_size))


def _garbage_toc(directory: Path) -> None:
    toc = max(directory.glob("gen-*/*.toc"))
    toc.write_bytes(b"\x80\x04garbage" * 10)


def _remove_generation(directory: Path) -> None:
    for path in directory.glob("gen-*/*"):
        path.unlink()


@pytest.mark.parametrize(
    "damage", [_damage_toc, _delete_segment, _garbage_segment, _garbage_toc, _remove_generation]
)
def test_damage_is_reported_as_unavailable(tmp_path: Path, damage: object) -> None:
    directory = tmp_path / "index"
    writer = SearchIndex(directory)
    writer.create()
    writer.apply([(n, [unit(n, p, f"clause {p} of {n}") for p in range(5)]) for n in (1, 2)])
    assert search(writer, "clause").total == 2
    writer.close()
    damage(directory)  # type: ignore[operator]
    damaged = SearchIndex(directory)
    with pytest.raises(IndexUnavailable):
        damaged.check()
    with pytest.raises(IndexUnavailable):
        search(damaged, "clause")
    damaged.rebuild(unit(n, 0, "clause") for n in (1, 2, 3))
    damaged.check()
    assert search(damaged, "clause").total == 3
    damaged.close()


def test_missing_or_foreign_index_is_unavailable(tmp_path: Path) -> None:
    missing = SearchIndex(tmp_path / "nothing")
    assert not missing.exists()
    with pytest.raises(IndexUnavailable):
        missing.check()
    old = tmp_path / "old"
    old.mkdir()
    (old / "CURRENT").write_text("v0 gen-1\n")
    assert not SearchIndex(old).exists()


_HOLD_LOCK = """
import sys, time
from search.types import Unit
from search.whoosh import WhooshBackend as SearchIndex
from tests.conftest import PG_URL, need
from tests.search.postgres import drop_schema, schema_for

def units():
    print("holding", flush=True)
    time.sleep(120)
    yield from ()

SearchIndex(sys.argv[1]).rebuild(units())
"""


def test_killed_writer_does_not_block_the_next_one(whoosh: SearchIndex, tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(tmp_path / "index")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        busy = SearchIndex(tmp_path / "index", lock_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(IndexBusy):
            busy.replace_document(1, [unit(1, 0, "waiting")])
        assert time.monotonic() - started >= 0.3
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()  # type: ignore[union-attr]
    whoosh.replace_document(1, [unit(1, 0, "after the crash")])
    assert documents(search(whoosh, "crash")) == [1]
    assert len(list((tmp_path / "index").glob("gen-*"))) >= 1


def test_units_are_frozen_values() -> None:
    assert dataclasses.is_dataclass(Unit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        unit(1, 0, "x").text = "y"  # type: ignore[misc]

"""Dutch word forms and compounds through the search backend: lemmas, compound parts at index
and query time, phrases still exact, snippets that mark the compound a part matched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from search.backend import SearchBackend
from search.postgres import PostgresBackend
from search.whoosh import WhooshBackend as SearchIndex
from tests.conftest import PG_URL, need
from tests.search.postgres import drop_schema, schema_for
from tests.search.test_index import documents, search, unit

TEXTS = {
    1: "De leverancier neemt een termijn van opzegging van drie maanden in acht.",
    2: "De opzegtermijn bedraagt drie maanden.",
    3: "De leverancier geeft garantie op de geleverde programmatuur.",
    4: "De rechten van intellectueel eigendom blijven bij de opdrachtgever.",
    5: "De overeenkomst wordt stilzwijgend verlengd met een jaar.",
    6: "Partijen sluiten een aansprakelijkheidsverzekering af.",
    7: "The supplier shall maintain insurance covering its liability.",
    8: "Betaling geschiedt binnen de betalingstermijn van dertig dagen.",
    9: "De opzegging van de overeenkomst geschiedt schriftelijk.",
    10: "Opdrachtnemer vrijwaart opdrachtgever tegen aanspraken van derden.",
    11: "De dienst heeft een beschikbaarheid van 99,5 procent per maand.",
    12: "Opdrachtgever stelt de gegevens ter beschikking van opdrachtnemer.",
}


@pytest.fixture(params=["whoosh", "postgres"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    """The texts in each backend that analyses text (the scanning one matches as the index)."""
    if request.param == "postgres":
        need(bool(PG_URL), "DOSSIER_TEST_DATABASE_URL is not set (PostgreSQL backend)")
        created: SearchBackend = PostgresBackend(PG_URL, schema=schema_for(tmp_path))
    else:
        created = SearchIndex(tmp_path / "index", lock_timeout=2.0)
    created.create()
    created.apply([(number, [unit(number, 0, text)]) for number, text in TEXTS.items()])
    yield created
    created.close()
    if isinstance(created, PostgresBackend):
        drop_schema(PG_URL, created.schema)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("opzegtermijn", {1, 2}),  # the compound, and "termijn van opzegging"
        ("+termijn +opzegging", {1, 2}),  # both required: the compound holds both
        ("garanties", {3}),
        ("intellectuele eigendom", {4}),
        ("verlenging", {5}),
        ("verzekering", {6}),
        ("aansprakelijkheid", {6}),  # not "aanspraken" (claims)
        ("aanspraak", {10}),
        ("beschikbaarheid", {11}),  # not "beschikking"
        ("betalingstermijnen", {8}),
        ("+termijn +betaling", {8}),
    ],
)
def test_dutch_word_forms_and_compounds_are_found(
    index: SearchBackend, query: str, expected: set[int]
) -> None:
    assert set(documents(search(index, query))) == expected


def test_the_compound_itself_ranks_above_its_parts_spread_over_a_clause(
    index: SearchBackend,
) -> None:
    assert documents(search(index, "opzegtermijn"))[0] == 2


def test_a_compound_needs_all_of_its_parts_in_one_unit(index: SearchBackend) -> None:
    # Unit 9 has "opzegging" but no "termijn": not a hit for "opzegtermijn".
    assert 9 not in documents(search(index, "opzegtermijn"))


def test_phrases_stay_exact(index: SearchBackend) -> None:
    assert documents(search(index, '"termijn van opzegging"')) == [1]
    assert documents(search(index, '"de opzegtermijn"')) == [2]


def test_a_part_does_not_exclude_the_compound_by_accident(index: SearchBackend) -> None:
    assert set(documents(search(index, "termijn -betaling"))) == {1, 2}


def test_snippets_mark_the_compound_a_part_matched_and_the_parts_a_compound_matched(
    index: SearchBackend,
) -> None:
    by_part = {h.document_id: h.snippet for h in search(index, "termijn", snippets=True).hits}
    assert "<mark>opzegtermijn</mark>" in by_part[2]
    assert "<mark>betalingstermijn</mark>" in by_part[8]
    by_whole = {h.document_id: h.snippet for h in search(index, "opzegtermijn", snippets=True).hits}
    assert "<mark>termijn</mark> van <mark>opzegging</mark>" in by_whole[1]
    assert "<mark>opzegtermijn</mark>" in by_whole[2]


def test_english_text_is_not_lemmatized_or_split(tmp_path: Path) -> None:
    created = SearchIndex(tmp_path / "english", lock_timeout=2.0)
    created.create()
    text = "The supplier and the customer agree that the opzegtermijn is three months."
    created.apply([(1, [unit(1, 0, text)])])
    try:
        assert documents(search(created, "opzegtermijn")) == [1]
        assert documents(search(created, "termijn")) == []
    finally:
        created.close()


def test_a_compound_ranks_above_a_clause_that_only_repeats_its_parts(tmp_path: Path) -> None:
    # Unit 1 holds verwerker and overeenkomst twice each, unit 2 the compound once in a longer
    # text: the parts, common words, must not outweigh the compound the user typed.
    created = SearchIndex(tmp_path / "parts", lock_timeout=2.0)
    created.create()
    texts = {
        1: "De verwerker sluit de overeenkomst; de verwerker voert de overeenkomst uit.",
        2: "Partijen sluiten een verwerkersovereenkomst voor de verwerking van gegevens door "
        "opdrachtnemer en diens medewerkers in alle vestigingen van de organisatie.",
        3: "De verwerkersovereenkomst eindigt met de overeenkomst.",
    }
    created.apply([(number, [unit(number, 0, text)]) for number, text in texts.items()])
    try:
        assert documents(search(created, "verwerkersovereenkomst")) == [3, 2, 1]
    finally:
        created.close()


def test_a_content_word_does_not_find_the_function_word_it_stems_to(tmp_path: Path) -> None:
    created = SearchIndex(tmp_path / "function", lock_timeout=2.0)
    created.create()
    texts = {
        1: "Indien de leverancier tekortschiet, kan de opdrachtgever de overeenkomst ontbinden.",
        2: "De indiening van de inschrijving geschiedt elektronisch.",
        3: "Inschrijvers dienen hun inschrijving tijdig in te dienen.",
        4: "De overheid stelt de regels vast; over de uitvoering beslist de minister.",
    }
    created.apply([(number, [unit(number, 0, text)]) for number, text in texts.items()])
    try:
        assert set(documents(search(created, "indiening"))) == {2}
        assert set(documents(search(created, "indienen"))) == {2}
        assert set(documents(search(created, "overheden"))) == {4}
        assert set(documents(search(created, "+over"))) == {4}
    finally:
        created.close()

"""The scanning backend (search.scan): the database fallback's hits, paged and highlighted by
the same code as the index's."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from search.backend import SearchBackend
from search.scan import ScanBackend
from search.types import SearchRequest, Unit


def _unit(document_id: int, position: int, text: str) -> Unit:
    return Unit(
        unit_id=f"{document_id}:{position}",
        document_id=document_id,
        version_id=document_id * 10,
        version_number=1,
        is_current=True,
        dossier_id=1,
        dossier_reference="2025-001",
        supplier="Leverancier",
        dossier_status="active",
        kind="contract",
        title=f"Document {document_id}",
        document_date=None,
        clause_number=str(position),
        heading="",
        page=None,
        position=position,
        is_clause=True,
        text=text,
    )


UNITS = [
    _unit(1, 1, "De opzegtermijn is drie maanden <b>vet</b> & meer."),
    _unit(1, 2, "Opzegging geschiedt schriftelijk."),
    _unit(2, 1, "Opzegging door de leverancier."),
    _unit(3, 1, "De leverancier levert schriftelijk, na opzegging door de klant."),
]


def _backend(seen: list[Sequence[str]]) -> ScanBackend:
    def source(request: SearchRequest, words: Sequence[str]) -> list[Unit]:
        seen.append(list(words))
        return [u for u in UNITS if any(w in u.text.lower() for w in words)]

    return ScanBackend(source, limit=50)


def _request(text: str, **options: object) -> SearchRequest:
    return SearchRequest(text=text, allowed_dossiers=frozenset({1}), **options)  # type: ignore[arg-type]


def test_it_is_a_backend_and_hands_the_query_words_to_its_source() -> None:
    seen: list[Sequence[str]] = []
    backend = _backend(seen)
    assert isinstance(backend, SearchBackend)
    result = backend.search(_request("Opzegging", mode="clauses"))
    assert seen == [["opzegging"]]
    assert [h.unit_id for h in result.hits] == ["1:2", "2:1", "3:1"] and result.total == 3


def test_documents_mode_shows_each_document_once_and_pages() -> None:
    backend = _backend([])
    first = backend.search(_request("opzegging", per_page=1))
    second = backend.search(_request("opzegging", per_page=1, page=2))
    assert first.total == second.total == 3
    assert [h.document_id for h in first.hits + second.hits] == [1, 2]


def test_snippets_escape_the_text_and_mark_the_matched_words() -> None:
    hit = _backend([]).search(_request("opzegtermijn", mode="clauses")).hits[0]
    assert "<mark>opzegtermijn</mark>" in hit.snippet
    assert "&lt;b&gt;vet&lt;/b&gt; &amp; meer" in hit.snippet and "<b>" not in hit.snippet


def test_a_query_without_words_finds_nothing_and_asks_the_source_nothing() -> None:
    seen: list[Sequence[str]] = []
    assert _backend(seen).search(_request("a")).total == 0
    assert seen == []


def test_a_bad_request_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown search mode"):
        _backend([]).search(_request("opzegging", mode="everything"))


def test_words_are_optional_and_units_holding_more_of_them_come_first() -> None:
    seen: list[Sequence[str]] = []
    result = _backend(seen).search(_request("schriftelijk opzegging leverancier", mode="clauses"))
    # The source is asked for units holding any word; those holding all three come first,
    # then two, in the source's order within.
    assert seen == [["schriftelijk", "opzegging", "leverancier"]]
    assert [h.unit_id for h in result.hits] == ["3:1", "1:2", "2:1"]


def test_plus_word_and_phrases_require_and_minus_word_excludes() -> None:
    backend = _backend([])

    def found(text: str) -> list[str]:
        return [h.unit_id for h in backend.search(_request(text, mode="clauses")).hits]

    assert found("opzegging +leverancier") == ["2:1", "3:1"]
    assert found('"opzegging door" schriftelijk') == ["3:1", "2:1"]
    assert found("opzegging -schriftelijk") == ["2:1"]
    assert found('opzegging -"door de leverancier"') == ["1:2", "3:1"]


def test_the_source_is_not_asked_for_loose_stop_words_or_excluded_words() -> None:
    seen: list[Sequence[str]] = []
    backend = _backend(seen)
    backend.search(_request("de opzegging -leverancier"))
    backend.search(_request("de door"))
    assert seen == [["opzegging"], ["de", "door"]]

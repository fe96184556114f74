"""The scanning backend over a source (the database fallback's shape): hint words for the
source, the permission filter applied again to whatever the source yields, the limit, the time
limit. What it shares with every backend is tested by the contract suite (test_index.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import date

import pytest

from search.backend import SearchBackend
from search.query import QueryRefused
from search.scan import ScanBackend
from search.types import SearchRequest, Unit

SECRET = "zwartekraai"


def _unit(document_id: int, position: int, text: str, **changes: object) -> Unit:
    values: dict[str, object] = {
        "unit_id": f"{document_id}:{position}",
        "document_id": document_id,
        "version_id": document_id * 10,
        "version_number": 1,
        "is_current": True,
        "dossier_id": 1,
        "dossier_reference": "2025-001",
        "supplier": "Leverancier",
        "dossier_status": "active",
        "kind": "contract",
        "title": f"Document {document_id}",
        "document_date": date(2024, 3, 1),
        "clause_number": str(position),
        "heading": "",
        "page": None,
        "position": position,
        "is_clause": True,
        "text": text,
    }
    values.update(changes)
    return Unit(**values)  # type: ignore[arg-type]


UNITS = [
    _unit(1, 1, "De opzegtermijn is drie maanden."),
    _unit(1, 2, "Opzegging geschiedt schriftelijk."),
    _unit(2, 1, "Opzegging door de leverancier."),
]


class Leaky:
    """A source that forgets every filter: it yields all its units for any request, and
    records the hint words it was given and whether it was closed."""

    def __init__(self, units: list[Unit]) -> None:
        self.units = units
        self.hints: list[list[str]] = []
        self.read = 0
        self.closed = False

    def __call__(
        self, request: SearchRequest, hints: Sequence[str], every: bool = True
    ) -> Iterator[Unit]:
        self.hints.append(list(hints))
        try:
            for unit in self.units:
                self.read += 1
                yield unit
        finally:
            self.closed = True


def _request(text: str, **options: object) -> SearchRequest:
    return SearchRequest(text=text, allowed_dossiers=frozenset({1}), **options)  # type: ignore[arg-type]


def test_it_is_a_backend_without_ranks_that_hands_hint_words_to_its_source() -> None:
    source = Leaky(UNITS)
    backend = ScanBackend(source)
    assert isinstance(backend, SearchBackend) and "ranks" not in backend.capabilities
    result = backend.search(_request("Opzegging -schriftelijk", mode="clauses"))
    # The part of the word its stems share, less a letter.
    assert source.hints == [["opze"]]
    # "opzegtermijn" holds it as the first part of the compound (opzeggen + termijn).
    assert [h.unit_id for h in result.hits] == ["1:1", "2:1"] and result.total == 2
    assert {h.score for h in result.hits} == {0.0}


@pytest.mark.parametrize(
    ("change", "options"),
    [
        ({"dossier_id": 2}, {}),
        ({}, {"denied_documents": frozenset({9})}),
        ({"is_current": False, "version_id": 91}, {}),
        ({"dossier_id": 2}, {"dossier_id": 2, "allowed_dossiers": frozenset({1})}),
        ({"kind": "annex"}, {"kinds": frozenset({"contract"})}),
        ({"supplier": "Geheim B.V."}, {"suppliers": frozenset({"Leverancier"})}),
        ({"dossier_status": "draft"}, {"statuses": frozenset({"active"})}),
        ({"document_date": date(2019, 1, 1)}, {"year": 2024}),
        ({"document_date": None}, {"date_from": date(2020, 1, 1)}),
        ({"document_date": date(2025, 1, 1)}, {"date_to": date(2024, 12, 31)}),
    ],
)
@pytest.mark.parametrize("mode", ["documents", "clauses"])
def test_what_a_leaky_source_yields_is_filtered_again(
    change: dict[str, object], options: dict[str, object], mode: str
) -> None:
    hidden = _unit(9, 1, f"Opzegging {SECRET}.", **change)
    backend = ScanBackend(Leaky([*UNITS, hidden]))
    request = dataclasses.replace(_request(f"opzegging +{SECRET}", mode=mode), **options)
    result = backend.search(request)
    assert (result.total, result.hits) == (0, [])
    assert all(values == [] for values in result.facets.values())
    shown = backend.search(dataclasses.replace(request, text="opzegging"))
    assert SECRET not in repr(shown)


def test_at_most_limit_matches_count_and_the_source_is_closed() -> None:
    source = Leaky([_unit(n, 1, "Opzegging.") for n in range(1, 50)])
    result = ScanBackend(source, limit=5).search(_request("opzegging", mode="clauses"))
    assert result.total == 5 and len(result.hits) == 5
    assert source.read == 5 and source.closed


def test_a_scan_past_its_time_limit_is_refused() -> None:
    backend = ScanBackend(Leaky(UNITS))
    with pytest.raises(QueryRefused) as refused:
        backend.search(_request("opzegging", time_limit=0.0))
    assert refused.value.code == "too_slow"


def test_writes_leave_a_source_alone() -> None:
    source = Leaky(UNITS)
    backend = ScanBackend(source)
    backend.delete_document(1)
    backend.rebuild(iter([_unit(5, 1, "Iets anders.")]))
    assert (backend.document_count(), backend.unit_count(), backend.version_summary()) == (0, 0, {})
    assert backend.search(_request("opzegging", mode="clauses")).total == 3  # + opzegtermijn


def test_a_bad_request_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown search mode"):
        ScanBackend(Leaky(UNITS)).search(_request("opzegging", mode="everything"))

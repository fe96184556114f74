"""`search/whoosh/_codec.py`: the two layouts of a block's positions (bare uint16 and compressed
packed values) are read alike, side by side in one posting list, in indexes written before bare
blocks existed, and through merges that rewrite them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from whoosh.writing import OPTIMIZE

from search.types import SearchRequest
from search.whoosh import WhooshBackend, _codec, _store
from tests.search.test_index import unit

# More units than one block holds, so a term's postings span several blocks.
_UNITS = 300


@pytest.fixture
def index(tmp_path: Path) -> Iterator[WhooshBackend]:
    created = WhooshBackend(tmp_path / "index", lock_timeout=2.0)
    created.create()
    yield created
    created.close()


def _document(number: int, long_unit: bool = False) -> tuple[int, list]:
    """Units where "alpha beta" is a phrase in every third unit and the two words apart in the
    others; with `long_unit`, a last unit so long that its positions need 32 bits."""
    units = []
    for position in range(_UNITS):
        text = "alpha beta gamma." if position % 3 == 0 else "alpha gamma beta."
        units.append(unit(number, position, text))
    if long_unit:
        filler = " ".join(f"w{n % 997}x" for n in range(70_000))
        units.append(unit(number, _UNITS, f"{filler} alpha beta."))
    return number, units


def _phrase_units(index: WhooshBackend) -> set[str]:
    found: set[str] = set()
    page = 1
    while True:
        result = index.search(
            SearchRequest(
                '"alpha beta"',
                frozenset({1}),
                mode="clauses",
                page=page,
                per_page=100,
                snippets=False,
            )
        )
        found |= {hit.unit_id for hit in result.hits}
        if not result.hits or len(found) >= result.total:
            return found
        page += 1


def _expected(*documents: tuple[int, bool]) -> set[str]:
    wanted = set()
    for number, long_unit in documents:
        wanted |= {f"{number * 10}:{p}" for p in range(0, _UNITS, 3)}
        if long_unit:
            wanted.add(f"{number * 10}:{_UNITS}")
    return wanted


def _flags(index: WhooshBackend, term: str) -> list[int]:
    """The flags of every block of a body term's postings, over all segments."""
    flags: list[int] = []
    with index._searcher() as searcher:
        for reader, _ in searcher.reader().leaf_readers():
            matcher = _codec._matcher(reader, "body", term)
            if isinstance(matcher, _codec._SkippingMatcher):
                flags += matcher._blocks().flags
    return flags


def test_bare_and_compressed_blocks_give_the_same_positions(index: WhooshBackend) -> None:
    index.apply([_document(1, long_unit=True), _document(2)])
    flags = _flags(index, "alpha")
    # The block holding the long unit stays compressed, the others are bare.
    assert any(f & _codec._BARE for f in flags)
    assert any(f & _codec._VALUES and not f & _codec._BARE for f in flags)
    assert _phrase_units(index) == _expected((1, True), (2, False))


def test_an_index_written_before_bare_blocks_stays_readable_and_merges(
    index: WhooshBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as old_writer:
        old_writer.setattr(_codec, "_bare", lambda values: None)
        index.apply([_document(1), _document(2, long_unit=True)])
    assert not any(f & _codec._BARE for f in _flags(index, "alpha"))
    assert _phrase_units(index) == _expected((1, False), (2, True))
    # A new commit writes bare blocks beside the old ones; merging all segments rewrites the
    # old ones (reading them, bare or not, as packed values) as bare where they can be.
    index.apply([_document(3)])
    assert _phrase_units(index) == _expected((1, False), (2, True), (3, False))
    monkeypatch.setattr(_store, "merge_small", OPTIMIZE)
    index.apply([_document(4)])
    assert _phrase_units(index) == _expected((1, False), (2, True), (3, False), (4, False))
    flags = _flags(index, "alpha")
    assert sum(1 for f in flags if not f & _codec._BARE) == 1  # the long unit's block


def test_positions_come_in_unit_order_across_layouts(index: WhooshBackend) -> None:
    index.apply([_document(1), _document(2, long_unit=True), _document(3)])
    with index._searcher() as searcher:
        [(reader, _)] = searcher.reader().leaf_readers()
        every = np.arange(reader.doc_count_all(), dtype=np.int64)
        units, places = _codec.positions(reader, "body", "beta", every)
    assert np.all(np.diff(units) >= 0)
    # Each short unit holds "beta" once; the long one at the end of its 70,002 words.
    counts = np.bincount(units)
    assert sorted(set(counts[counts > 0].tolist())) == [1]
    assert int(places.max()) > 65_535

"""`search/index_plan.py`: every search has a bounded cost: a cap on what each wildcard and the
whole query expand to, and a time limit on matching. (At most a few wildcards per query:
test_query.py; the per-user rate limit on wildcard searches: tests/dossier/web/test_search.py.)"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from search.query import QueryRefused
from search.types import SearchRequest
from search.whoosh import WhooshBackend as SearchIndex
from search.whoosh import _eval, _tables
from search.whoosh._plan import MAX_EXPANSION, MAX_QUERY_EXPANSION
from tests.search.test_index import documents, unit


def _words(prefix: str, count: int) -> list[str]:
    """`count` distinct made-up words starting with `prefix` (stemming leaves them whole)."""
    letters = "bdfgklmnprstvz"
    return [
        f"{prefix}{a}{b}ok" for a, b in itertools.islice(itertools.product(letters, letters), count)
    ]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    created = SearchIndex(tmp_path / "index", lock_timeout=2.0)
    created.create()
    yield created
    created.close()


def _fill(index: SearchIndex, prefixes: dict[str, int]) -> None:
    """One document per prefix holding that many distinct words with it."""
    index.apply(
        [
            (number, [unit(number, 0, " ".join(_words(prefix, count)) + ".")])
            for number, (prefix, count) in enumerate(prefixes.items(), start=1)
        ]
    )


def _search(index: SearchIndex, text: str, **options: object):
    return index.search(SearchRequest(text, frozenset({1}), **options))  # type: ignore[arg-type]


def test_a_wildcard_matching_too_many_words_is_refused_not_cut_off(index: SearchIndex) -> None:
    _fill(index, {"zor": MAX_EXPANSION + 1, "kal": MAX_EXPANSION})
    with pytest.raises(QueryRefused) as refused:
        _search(index, "zor*")
    assert refused.value.code == "too_broad" and "type more letters" in str(refused.value)
    assert documents(_search(index, "kal*")) == [2]  # exactly at the cap: searched
    assert documents(_search(index, "zorbb*")) == [1]  # narrower: searched


def test_the_wildcards_of_one_query_share_one_expansion_budget(index: SearchIndex) -> None:
    each = MAX_QUERY_EXPANSION // 3 - 1  # three fit, four do not
    assert each <= MAX_EXPANSION and 4 * each > MAX_QUERY_EXPANSION
    _fill(index, {prefix: each for prefix in ("kap", "kep", "kip", "kop")})
    # Searched: each unit holds one of the three; no unit holds all three.
    assert _search(index, "kap* kep* kip*").total == 3
    assert _search(index, "+kap* +kep* +kip*").total == 0
    assert sorted(documents(_search(index, "kap*"))) == [1]
    with pytest.raises(QueryRefused) as refused:
        _search(index, "kap* kep* kip* kop*")
    assert refused.value.code == "too_broad"


def _busy(seconds: float) -> None:
    """Work this thread's CPU for `seconds` of its CPU time."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_the_time_limit_counts_work_not_waiting(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Waiting (for disk pages of a cold index, for a busy machine) is not the query's work.
    _fill(index, {"kap": 3})
    real = _eval.postings

    def waiting(*args: object) -> object:
        time.sleep(1.0)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_eval, "postings", waiting)
    assert documents(_search(index, "kapbbok", time_limit=0.5)) == [1]

    def working(*args: object) -> object:
        _busy(1.0)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_eval, "postings", working)
    with pytest.raises(QueryRefused) as refused:
        _search(index, "kapbbok", time_limit=0.5)
    assert refused.value.code == "too_slow"


def test_matching_stops_at_the_time_limit(index: SearchIndex) -> None:
    _fill(index, {"kap": 3})
    with pytest.raises(QueryRefused) as refused:
        _search(index, "kapbbok", time_limit=0.0)
    assert refused.value.code == "too_slow"
    assert documents(_search(index, "kapbbok", time_limit=None)) == [1]


def test_loading_a_segments_tables_does_not_count_against_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first search of a fresh searcher loads each segment's column arrays (seconds for a
    # large index, once); a search that then matches quickly must not be refused for it.
    real = _tables.load_table

    def slow(reader: object) -> object:
        _busy(1.0)
        return real(reader)  # type: ignore[arg-type]

    writer = SearchIndex(tmp_path / "index", lock_timeout=2.0)
    writer.create()
    _fill(writer, {"kap": 3})
    writer.close()
    monkeypatch.setattr(_tables, "load_table", slow)
    fresh = SearchIndex(tmp_path / "index", lock_timeout=2.0)
    assert documents(_search(fresh, "kapbbok", time_limit=0.5)) == [1]
    # The limit still holds for the matching itself.
    with pytest.raises(QueryRefused):
        _search(fresh, "kapbbok", time_limit=0.0)
    fresh.close()

"""A backend without an index: it scans the units that its source finds for each search.

`dossier` uses it as the fallback while the real index is missing or being rebuilt: the
source is a database query over the permitted current versions (so the permission filter is
part of the source's SQL), and this backend turns the units into the same hits, with the same
snippets (`search.highlight`), as every other backend. It has nothing to write: indexing,
deleting and rebuilding are no-ops, and it never has facets or scores.

The query means what it means in the index (search.query): the source hands over the units
holding any of the query's words, and this backend keeps those that hold every required item
(``+word``, phrases), at least one item when none is required, and no excluded item, judged on
the same analysis as the index (stems, folded words, words in sequence for phrases). They are
ordered by how many of the query's counted items they hold (coordination), then in the
source's order; there is no BM25 here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from itertools import islice

from search.analysis import fold, identifiers, is_stop_word, occurrences, stems, word_list
from search.highlight import snippet
from search.query import Item, ParsedQuery, parse_query
from search.types import SearchRequest, SearchResult, Unit, VersionEntry, check_request, hit_for

__all__ = ["ScanBackend", "Source"]

# The source yields the permitted units whose text holds (case-insensitively) any of the words.
Source = Callable[[SearchRequest, Sequence[str]], Iterable[Unit]]
MAX_WORDS = 8
_WORD = re.compile(r"\w[\w.:-]*")
_EXCLUDED = re.compile(r'(?<!\S)-("[^"]*"|\S+)')


class ScanBackend:
    """Search by scanning what `source` yields (at most `limit` units per search)."""

    def __init__(self, source: Source, *, limit: int = 200) -> None:
        self._source = source
        self._limit = limit

    def search(self, request: SearchRequest) -> SearchResult:
        """The units matching the query, most counted items held first, then in the source's
        order."""
        check_request(request)
        parsed = parse_query(request.text)
        positive = _EXCLUDED.sub(" ", request.text.lower())
        found = list(dict.fromkeys(w for w in _WORD.findall(positive) if len(w) > 1))
        # Loose stop words would make the source return nearly every clause: asked for only
        # when the query has nothing else (as search.query drops them).
        words = ([w for w in found if not is_stop_word(fold(w))] or found)[:MAX_WORDS]
        terms = frozenset(s for item in parsed.positive for w in item.words for s in stems(w))
        units = list(islice(self._source(request, words), self._limit)) if words else []
        units = _ranked(parsed, units)
        if request.mode == "documents":
            seen: set[int] = set()
            units = [u for u in units if not (u.document_id in seen or seen.add(u.document_id))]
        start = (request.page - 1) * request.per_page
        page = units[start : start + request.per_page]
        hits = [
            hit_for(u, 0.0, snippet(u.text, terms) if request.snippets else "", True) for u in page
        ]
        return SearchResult(hits, len(units), request.page, request.per_page, {})

    # Nothing is stored here: the source is the truth.

    def exists(self) -> bool:
        return True

    def check(self) -> None:
        return None

    def create(self) -> None:
        return None

    def apply(self, changes: Iterable[tuple[int, list[Unit] | None]]) -> None:
        return None

    def replace_document(self, document_id: int, units: Iterable[Unit]) -> None:
        return None

    def delete_document(self, document_id: int) -> None:
        return None

    def rebuild(
        self,
        units: Iterable[Unit],
        progress: Callable[[int], None] | None = None,
        *,
        processes: int = 1,
    ) -> None:
        return None

    def version_summary(self) -> dict[int, VersionEntry]:
        return {}

    def document_count(self) -> int:
        return 0

    def unit_count(self) -> int:
        return 0

    def close(self) -> None:
        return None


def _ranked(parsed: ParsedQuery, units: list[Unit]) -> list[Unit]:
    """The units that match the query, by coordination (stable: the source's order within)."""
    keys = parsed.coordination()
    kept: list[tuple[int, Unit]] = []
    for unit in units:
        found = occurrences(unit.text, detect=True)
        folded = word_list(unit.text)
        idents = frozenset(identifiers(unit.text))
        held = [_holds(item, found, folded, idents) for item in parsed.positive]
        if any(_holds(item, found, folded, idents) for item in parsed.negative):
            continue
        required = [h for h, item in zip(held, parsed.positive, strict=True) if item.required]
        if not all(required) or not any(held):
            continue
        groups = {key for key, h in zip(keys, held, strict=True) if h and key is not None}
        kept.append((len(groups), unit))
    kept.sort(key=lambda pair: -pair[0])
    return [unit for _, unit in kept]


def _holds(
    item: Item, found: dict[str, list[int]], folded: list[str], idents: frozenset[str]
) -> bool:
    """Whether a unit's text holds an item: a word by any of its stems (a wildcard by any word
    starting with it), several words in sequence, or one of the item's identifiers."""
    if any(ident in idents for ident in item.idents):
        return True
    if item.prefix:
        return any(word.startswith(item.words[-1]) for word in folded)
    if len(item.words) == 1:
        return any(stem in found for stem in stems(item.words[0]))
    places = [{p for stem in stems(word) for p in found.get(stem, ())} for word in item.words]
    return any(all(start + i in place for i, place in enumerate(places)) for start in places[0])

"""A backend without an index: it scans the units that its source finds for each search.

`dossier` uses it as the fallback while the real index is missing or being rebuilt: the
source is a database query over the permitted current versions (so the permission filter is
part of the source's SQL), and this backend turns the units into the same hits, with the same
snippets (`search.highlight`), as every other backend. It has nothing to write: indexing,
deleting and rebuilding are no-ops, and it never has facets or scores.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from itertools import islice

from search.analysis import alternatives
from search.highlight import snippet
from search.query import parse_query
from search.types import SearchRequest, SearchResult, Unit, VersionEntry, check_request, hit_for

__all__ = ["ScanBackend", "Source"]

# The words a source must find (all of them, case-insensitively) in a unit's text.
Source = Callable[[SearchRequest, Sequence[str]], Iterable[Unit]]
MAX_WORDS = 8
_WORD = re.compile(r"\w[\w.:-]*")


class ScanBackend:
    """Search by scanning what `source` yields (at most `limit` units per search)."""

    def __init__(self, source: Source, *, limit: int = 200) -> None:
        self._source = source
        self._limit = limit

    def search(self, request: SearchRequest) -> SearchResult:
        """Every unit containing every word of the query, in the source's order."""
        check_request(request)
        parsed = parse_query(request.text)
        words = [w for w in _WORD.findall(request.text.lower()) if len(w) > 1][:MAX_WORDS]
        terms = frozenset(
            s
            for item in parsed.positive
            for w in item.words
            for way in alternatives(w)
            for part in way
            for s in part
        )
        units = list(islice(self._source(request, words), self._limit)) if words else []
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

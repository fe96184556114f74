"""The embedded search backend: a Whoosh index in one directory, evaluated by our own code.

The files are written through Whoosh (pinned: see pyproject.toml) and read by the private
modules beside this one (`_store`, `_tables`, `_search`, ...), which evaluate queries over
numpy arrays of each segment's columns. Nothing outside this package imports those modules:
callers use `WhooshBackend` through the `search.backend.SearchBackend` protocol.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace

from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search.analysis import prepare
from search.expansion import expand
from search.planning import parse_request
from search.query import QueryRefused
from search.types import (
    Expansion,
    IndexUnavailable,
    SearchRequest,
    SearchResult,
    Unit,
    VersionEntry,
)
from search.whoosh._errors import CORRUPTION, quietly, reclaim
from search.whoosh._search import empty_result, execute, segments
from search.whoosh._store import Store
from search.whoosh._tables import FLAG_CURRENT, SegmentTable, TableCache

__all__ = ["WhooshBackend"]

DEFAULT_LOCK_TIMEOUT = 30.0


class WhooshBackend:
    """The search index in one directory; safe to share between threads."""

    capabilities = frozenset({"ranks"})  # BM25F scores (search.backend.SearchBackend)

    def __init__(
        self, directory: str | os.PathLike[str], *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    ) -> None:
        self._store = Store(directory, lock_timeout)
        self._tables = TableCache()
        # Whoosh searchers are not safe to share between threads; each thread keeps its own.
        self._local = threading.local()

    def exists(self) -> bool:
        """Whether an index of the current schema version is there (it may still be corrupt)."""
        return self._store.exists()

    def check(self) -> None:
        """Raise IndexUnavailable unless the index on disk opens and every segment can be read.

        Opens the index afresh rather than using this thread's searcher: a searcher opened
        earlier keeps reading files that were deleted or replaced on disk since, and would
        hide damage that any new process (or a rebuild) would trip over. The analysis's Dutch
        dictionary is loaded here too, so that the first search does not wait for it.
        """
        prepare()
        try:
            generation, index = self._store.open()
            with quietly(), index.searcher() as searcher:
                searcher.doc_count()
                for sub, _ in segments(searcher):
                    reader = sub.reader()
                    # Loading the segment's tables reads every column (and warms the cache).
                    self._tables.table(_segment_key(generation, reader), reader)
                    _probe(reader)
        except CORRUPTION as failure:
            reclaim(failure)
            raise IndexUnavailable(f"the search index cannot be read: {failure!r}") from failure

    def create(self) -> None:
        """Replace anything in the directory with an empty index."""
        self._store.create()
        self._forget()

    def replace_document(self, document_id: int, units: Iterable[Unit]) -> None:
        """Delete every unit of a document and add these, in one commit."""
        self.apply([(document_id, list(units))])

    def delete_document(self, document_id: int) -> None:
        """Delete every unit of a document."""
        self.apply([(document_id, None)])

    def apply(self, changes: Iterable[tuple[int, list[Unit] | None]]) -> None:
        """Replace (units) or delete (None) documents with one writer and one commit."""
        self._store.apply(changes)

    def rebuild(
        self,
        units: Iterable[Unit],
        progress: Callable[[int], None] | None = None,
        *,
        processes: int = 1,
    ) -> None:
        """Index all units into a fresh generation, then switch to it atomically.

        ``processes`` > 1 indexes in that many forked subprocesses (faster on idle cores, more
        memory); only use it outside a threaded web server.
        """
        self._store.rebuild(units, progress, processes)
        self._forget()

    def document_count(self) -> int:
        """Number of distinct documents with at least one live unit."""
        return len(self._live_values("document"))

    def unit_count(self) -> int:
        """Number of live units."""
        with self._searcher() as searcher:
            return searcher.doc_count()

    def version_ids(self) -> set[int]:
        """Version ids of all live units, for consistency checks against the database."""
        return self._live_values("version")

    def version_summary(self) -> dict[int, VersionEntry]:
        """Per indexed version: its document, its number of live units and their current flags.

        For consistency checks against the database (`dossier verify`).
        """
        documents: dict[int, int] = {}
        units: dict[int, int] = {}
        current: dict[int, set[bool]] = {}
        with self._searcher() as searcher:
            for sub, _ in segments(searcher):
                reader = sub.reader()
                numbers = self._table(reader).numbers
                deleted = reader.deleted_docs_set
                rows = zip(
                    numbers["version"].tolist(),
                    numbers["document"].tolist(),
                    numbers["flags"].tolist(),
                    strict=True,
                )
                for docnum, (version, document, flags) in enumerate(rows):
                    if docnum in deleted:
                        continue
                    documents.setdefault(version, document)
                    units[version] = units.get(version, 0) + 1
                    current.setdefault(version, set()).add(bool(flags & FLAG_CURRENT))
        summary = {
            version: VersionEntry(documents[version], count, frozenset(current[version]))
            for version, count in units.items()
        }
        return summary

    def search(self, request: SearchRequest) -> SearchResult:
        """One page of hits, the total and the facets, all limited to what the caller may read."""
        request, parsed = parse_request(request)
        expansions: tuple[Expansion, ...] = ()
        if request.expand:
            parsed, expansions = expand(parsed)
        if not request.allowed_dossiers:
            return replace(empty_result(request), expansions=expansions)
        with self._searcher() as searcher:
            result = execute(searcher, self._table, request, parsed)
        return replace(result, expansions=expansions)

    def close(self) -> None:
        """Close this thread's searcher (other threads' searchers close when they are dropped)."""
        self._forget()

    def _table(self, reader: IndexReader) -> SegmentTable:
        """The cached column arrays of one segment of this thread's generation."""
        return self._tables.table(_segment_key(self._local.generation, reader), reader)

    def _live_values(self, attribute: str) -> set[int]:
        """Distinct values of a numeric column over all live units."""
        values: set[int] = set()
        with self._searcher() as searcher:
            for sub, _ in segments(searcher):
                reader = sub.reader()
                column = self._table(reader).numbers[attribute].tolist()
                deleted = reader.deleted_docs_set
                values.update(v for d, v in enumerate(column) if d not in deleted)
        return values

    @contextmanager
    def _searcher(self) -> Iterator[Searcher]:
        """This thread's up-to-date searcher; Whoosh read errors become IndexUnavailable."""
        try:
            yield self._current_searcher()
            return
        except QueryRefused:  # a ValueError, but about the query (too broad, too slow)
            raise
        except CORRUPTION as exc:
            failure = exc
        self._forget()
        reclaim(failure)
        raise IndexUnavailable(f"the search index cannot be read: {failure!r}") from failure

    def _current_searcher(self) -> Searcher:
        """Reuse this thread's searcher while its generation and commit are still the latest."""
        local = self._local
        current = self._store.current()
        name = current.name if current is not None else None
        if getattr(local, "searcher", None) is None or local.generation != name:
            self._forget()
            try:
                self._open()
            except (IndexUnavailable, *CORRUPTION):
                # A rebuild may have switched generations and removed the one we were opening.
                if self._store.current() == current:
                    raise
                self._open()
            self._tables.keep_only(self._segment_keys(local.searcher))
        elif not local.searcher.up_to_date():
            # Not searcher.refresh(): it reuses the readers of unchanged segments together with
            # their cached set of deleted documents, so units deleted since stayed findable.
            local.searcher.close()
            local.searcher = None
            with quietly():
                local.searcher = local.index.searcher()
            self._tables.keep_only(self._segment_keys(local.searcher))
        return local.searcher

    def _open(self) -> None:
        """Open the current generation and a searcher on it for this thread."""
        generation, index = self._store.open()
        with quietly():
            searcher = index.searcher()
        local = self._local
        local.generation, local.index, local.searcher = generation, index, searcher

    def _segment_keys(self, searcher: Searcher) -> set[str]:
        """Table cache keys of a searcher's segments."""
        generation = self._local.generation
        return {_segment_key(generation, sub.reader()) for sub, _ in segments(searcher)}

    def _forget(self) -> None:
        """Close and drop this thread's searcher (after a switch of generation or an error)."""
        local = self._local
        searcher: Searcher | None = getattr(local, "searcher", None)
        local.generation, local.index, local.searcher = None, None, None
        if searcher is not None:
            with suppress(CORRUPTION):
                searcher.close()


def _segment_key(generation: str | None, reader: IndexReader) -> str:
    """Cache key of a segment: segment ids are only unique within one generation."""
    return f"{generation}/{reader.segment().segment_id()}"


def _probe(reader: IndexReader) -> None:
    """Read a little of the stored fields and postings of one segment, so damage shows up now."""
    count = reader.doc_count_all()
    if count:
        reader.stored_fields(count - 1)
    for fieldname in ("body", "meta", "ident", "document"):
        for term in reader.lexicon(fieldname):
            list(reader.postings(fieldname, term).all_ids())
            break

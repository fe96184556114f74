"""The seam between the application and a search engine.

`dossier` talks to search only through `SearchBackend`: it hands over units to index (one
document at a time, or all of them for a rebuild), asks one question per search with the
caller's permission sets inside the request, and checks the index against the database.
Everything a backend returns is a plain value from `search.types`. Query parsing and analysis
(`search.query`, `search.analysis`) and thesaurus expansion (`search.expansion`, when the
request's `expand` is on; the expansions come back in `SearchResult.expansions`) sit above
the backends and are shared by them, as are clause types (`search.clause_types`: a unit's
types, the request's `clause_types` filter, `soort:` in the text, the "clause_type" facet of
clauses mode, and a query of only types that lists their units).

Backends: "whoosh", the embedded index in a directory (`search.whoosh`), and "postgres",
PostgreSQL full text in a schema of a database (`search.postgres`), chosen by a setting
(`open_backend`); and the scanning backend (`search.scan`), which `dossier` falls back on
while the index is unavailable (over the database) and which keeps units in memory when it has
no source. All of them apply the permission sets themselves, return the same `Hit`s and
facets, and build their snippets with `search.highlight`. What a backend cannot do it leaves
out of its `capabilities`; the contract tests (tests/search/test_index.py) run against every
backend. The database fallback searches the words as typed, without the thesaurus's expansion.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

from search.postgres import PostgresBackend
from search.types import SearchRequest, SearchResult, Unit, VersionEntry
from search.whoosh import WhooshBackend

__all__ = ["BACKENDS", "CAPABILITIES", "SearchBackend", "open_backend"]

BACKENDS = ("whoosh", "postgres")
# Every capability a backend may list in `SearchBackend.capabilities`.
CAPABILITIES = frozenset({"ranks"})


@runtime_checkable
class SearchBackend(Protocol):
    """A search index: a cache derived from the database, rebuilt from it at any time.

    Raises `search.types.IndexUnavailable` when the index is missing or damaged (the caller
    rebuilds), `search.types.IndexBusy` when a writer waited too long for another, and
    `search.query.QueryRefused` for a query it will not run (too broad, too slow).
    """

    # What the backend can do beyond the contract every backend meets: "ranks" when hits
    # carry relevance scores and relevance order follows them (without it every score is 0.0
    # and relevance order is the order the backend found them in).
    capabilities: frozenset[str]

    def exists(self) -> bool:
        """Whether an index is there (it may still be damaged: see `check`)."""
        ...

    def check(self) -> None:
        """Raise IndexUnavailable unless the whole index can be read."""
        ...

    def create(self) -> None:
        """Replace whatever is there with an empty index."""
        ...

    def apply(self, changes: Iterable[tuple[int, list[Unit] | None]]) -> None:
        """Replace (units) or delete (None) documents by id, all in one commit."""
        ...

    def replace_document(self, document_id: int, units: Iterable[Unit]) -> None:
        """Delete every unit of a document and add these, in one commit."""
        ...

    def delete_document(self, document_id: int) -> None:
        """Delete every unit of a document."""
        ...

    def rebuild(
        self,
        units: Iterable[Unit],
        progress: Callable[[int], None] | None = None,
        *,
        processes: int = 1,
    ) -> None:
        """Index all units afresh and switch to the result at once (searches go on meanwhile)."""
        ...

    def search(self, request: SearchRequest) -> SearchResult:
        """One page of hits, the total and the facets, limited to what the request allows."""
        ...

    def version_summary(self) -> dict[int, VersionEntry]:
        """Per indexed version: its document, unit count and current flags (`dossier verify`)."""
        ...

    def document_count(self) -> int:
        """Number of documents with at least one unit."""
        ...

    def unit_count(self) -> int:
        """Number of units."""
        ...

    def close(self) -> None:
        """Release what this thread holds open."""
        ...


def open_backend(
    name: str,
    *,
    directory: str | os.PathLike[str],
    database_url: str | None = None,
    schema: str | None = None,
) -> SearchBackend:
    """The backend a setting names, on its storage: a directory for "whoosh", a PostgreSQL
    database (and a schema in it) for "postgres"."""
    if name == "whoosh":
        return WhooshBackend(directory)
    if name == "postgres":
        if not database_url or not database_url.startswith(("postgresql", "postgres:")):
            raise ValueError(
                "the postgres search backend needs a PostgreSQL database "
                f"(got {database_url.split(':', 1)[0] if database_url else 'none'})"
            )
        return PostgresBackend(database_url, **({"schema": schema} if schema else {}))
    raise ValueError(f"unknown search backend {name!r}; known: {', '.join(BACKENDS)}")

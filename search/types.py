"""The values that go into and come out of the search index."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

__all__ = [
    "FACETS",
    "MAX_PER_PAGE",
    "Expansion",
    "Hit",
    "IndexBusy",
    "IndexUnavailable",
    "SearchRequest",
    "SearchResult",
    "Unit",
    "VersionEntry",
    "check_request",
    "hit_for",
]

# "clause_type" is counted in clauses mode only (a document's clauses have many types); in
# documents mode it is an empty list.
FACETS = ("kind", "dossier", "supplier", "year", "status", "clause_type")
MAX_PER_PAGE = 100


class IndexUnavailable(Exception):
    """The index is missing or corrupt; the caller rebuilds it from the database."""


class IndexBusy(Exception):
    """Another writer held the index lock for longer than we were willing to wait."""


@dataclass(frozen=True)
class Unit:
    """One indexed piece (clause or section) of one document version."""

    unit_id: str
    document_id: int
    version_id: int
    version_number: int
    is_current: bool
    dossier_id: int
    dossier_reference: str
    supplier: str
    dossier_status: str
    kind: str
    title: str
    document_date: date | None
    clause_number: str
    heading: str
    page: int | None
    position: int
    is_clause: bool
    text: str
    # The thesaurus concepts the clause is about (search.clause_types), strongest first.
    clause_types: tuple[str, ...] = ()
    # Among the definitions (ingest.clauses.in_definitions): ranked lower, see
    # search.planning.DEFINITION_WEIGHT.
    definition: bool = False


@dataclass(frozen=True)
class SearchRequest:
    """A search with the caller's permission sets and the filters chosen in the interface."""

    text: str
    allowed_dossiers: frozenset[int]
    denied_documents: frozenset[int] = frozenset()
    mode: str = "documents"
    dossier_id: int | None = None
    kinds: frozenset[str] = frozenset()
    suppliers: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    # Clause types (concept ids): units of any of them. A query of only this filter (no words)
    # lists every permitted unit of these types; `soort:x` in the text adds to it.
    clause_types: frozenset[str] = frozenset()
    year: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    include_old_versions: bool = False
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    snippets: bool = True
    # Also search the thesaurus's near-synonyms of the query's words (search.expansion).
    expand: bool = True
    # Seconds of matching after which the search is refused (QueryRefused "too_slow"), a net
    # under the limits on wildcards and expansions; None: no limit. The embedded index counts
    # the searching thread's CPU time, PostgreSQL the statement's wall-clock time.
    time_limit: float | None = 5.0


@dataclass(frozen=True)
class Hit:
    """A document (documents mode) or a clause (clauses mode) found by a search."""

    document_id: int
    version_id: int
    version_number: int
    dossier_id: int
    dossier_reference: str
    title: str
    kind: str
    supplier: str
    document_date: date | None
    clause_number: str
    heading: str
    page: int | None
    unit_id: str
    score: float
    snippet: str
    text: str
    clause_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expansion:
    """One thesaurus concept a query named, and the terms that were searched as well."""

    concept: str
    label_nl: str
    label_en: str
    matched: tuple[str, ...]  # the user's own words that named the concept
    terms: tuple[str, ...]  # the concept's other terms, as the thesaurus writes them


@dataclass(frozen=True)
class SearchResult:
    """One page of hits with the total and facet counts over every permitted match, and the
    thesaurus expansions that were searched besides the user's words."""

    hits: list[Hit]
    total: int
    page: int
    per_page: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    expansions: tuple[Expansion, ...] = ()


class VersionEntry(NamedTuple):
    """What the index holds of one version: its document, unit count and current flag(s)."""

    document_id: int
    units: int
    current: frozenset[bool]


def check_request(request: SearchRequest) -> None:
    """Reject programming errors in a request (bad mode, sort or paging); every backend calls
    this first."""
    if request.mode not in ("documents", "clauses"):
        raise ValueError(f"unknown search mode {request.mode!r}")
    if request.sort not in ("relevance", "date"):
        raise ValueError(f"unknown sort order {request.sort!r}")
    if request.page < 1 or not 1 <= request.per_page <= MAX_PER_PAGE:
        raise ValueError(f"page must be >= 1 and per_page between 1 and {MAX_PER_PAGE}")


def hit_for(unit: Any, score: float, snippet: str, with_text: bool) -> Hit:
    """A hit for a unit (a `Unit`, or a backend's own record with the same attributes), with
    its score, its HTML snippet, and its whole text when `with_text` (clause hits)."""
    return Hit(
        document_id=unit.document_id,
        version_id=unit.version_id,
        version_number=unit.version_number,
        dossier_id=unit.dossier_id,
        dossier_reference=unit.dossier_reference,
        title=unit.title,
        kind=unit.kind,
        supplier=unit.supplier,
        document_date=unit.document_date,
        clause_number=unit.clause_number,
        heading=unit.heading,
        page=unit.page,
        unit_id=unit.unit_id,
        score=float(score),
        snippet=snippet,
        text=unit.text if with_text else "",
        clause_types=tuple(unit.clause_types),
    )

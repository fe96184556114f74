"""A backend without an index: it scans units and matches each one as the index would.

Over a source (`ScanBackend(source)`), it is what `dossier` falls back on while the index is
missing or being rebuilt: the source is a database query over the permitted versions, narrowed
by hint words (`search.matching.hint_words`), and the database is the truth, so writes are
no-ops. Without a source (`ScanBackend()`) it keeps the units written to it in memory and takes
writes like any backend (tests, small collections).

Either way the backend itself applies the request's permission sets and filters to every unit
(a source that forgets one never leaks), matches each unit with the semantics of the query
(`search.matching`), and builds hits, facets and snippets (`search.highlight`) like the index.
It has no scores: its `capabilities` lack "ranks", and relevance order is the source's order.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date

from search.highlight import snippet
from search.matching import Matcher, body_text, hint_words
from search.planning import TOO_SLOW, parse_request
from search.query import QueryRefused
from search.types import (
    FACETS,
    Hit,
    SearchRequest,
    SearchResult,
    Unit,
    VersionEntry,
    hit_for,
)

__all__ = ["ScanBackend", "Source"]

# Units that may match a request. A source may narrow by the hint words (with `every`, every
# match contains each of them, lower-case, in its text, heading, clause number, title, supplier
# or dossier reference; without it, at least one: a query of optional words) and by the
# request's permission sets and filters; the backend applies those again to whatever it yields.
Source = Callable[[SearchRequest, Sequence[str], bool], Iterable[Unit]]
PROGRESS_EVERY = 1000

Match = tuple[Unit, frozenset[str]]  # a matching unit and the stems to mark in its snippet


class ScanBackend:
    """Search by scanning the units of `source`, or those written to it when there is none;
    at most `limit` matching units count per search (None: all of them)."""

    capabilities: frozenset[str] = frozenset()

    def __init__(self, source: Source | None = None, *, limit: int | None = None) -> None:
        self._memory = _Memory() if source is None else None
        self._source = source or self._memory.units  # type: ignore[union-attr]
        self._limit = limit

    def search(self, request: SearchRequest) -> SearchResult:
        """Every permitted unit that matches, in the source's order (or by date), paged."""
        request, parsed = parse_request(request)
        if not request.allowed_dossiers:
            return _result(request, [], [])
        deadline = None if request.time_limit is None else time.monotonic() + request.time_limit
        # Required items: a match holds all their hints; else (ranked OR) at least one hint.
        units = self._scan(request, hint_words(parsed), every=bool(parsed.required))
        # No words: a listing by clause type, every unit that passes the filters.
        matcher = Matcher(parsed) if parsed.positive else None
        found = list(_matching(request, units, matcher, deadline, self._limit))
        # Most coordination groups held first, as the index ranks its tiers (stable: within a
        # tier the source's order stands, there being no scores here).
        found.sort(key=lambda match: -match[2])
        found = [(unit, marked) for unit, marked, _ in found]
        if request.mode == "documents":
            found = _first_per_document(found, request.sort == "date")
        elif request.sort == "date":
            found.sort(key=lambda match: _ordinal(match[0].document_date), reverse=True)
        return _result(request, found, [unit for unit, _ in found])

    def _scan(self, request: SearchRequest, hints: Sequence[str], every: bool) -> Iterator[Unit]:
        """The source's units; the source is closed when the scan stops early."""
        units = iter(self._source(request, hints, every))
        try:
            yield from units
        finally:
            close = getattr(units, "close", None)
            if close is not None:
                close()

    def exists(self) -> bool:
        return True

    def check(self) -> None:
        return None

    def create(self) -> None:
        if self._memory is not None:
            self._memory.replace_all({})

    def apply(self, changes: Iterable[tuple[int, list[Unit] | None]]) -> None:
        if self._memory is not None:
            self._memory.apply(changes)

    def replace_document(self, document_id: int, units: Iterable[Unit]) -> None:
        self.apply([(document_id, list(units))])

    def delete_document(self, document_id: int) -> None:
        self.apply([(document_id, None)])

    def rebuild(
        self,
        units: Iterable[Unit],
        progress: Callable[[int], None] | None = None,
        *,
        processes: int = 1,
    ) -> None:
        """Read every unit, then switch to them at once (searches see the old ones meanwhile)."""
        if self._memory is None:
            return
        documents: dict[int, list[Unit]] = {}
        for unit in units:
            if unit.document_id not in documents:
                if progress is not None and documents and len(documents) % PROGRESS_EVERY == 0:
                    progress(len(documents))
                documents[unit.document_id] = []
            documents[unit.document_id].append(unit)
        self._memory.replace_all({d: tuple(found) for d, found in documents.items()})
        if progress is not None:
            progress(len(documents))

    def version_summary(self) -> dict[int, VersionEntry]:
        if self._memory is None:
            return {}
        documents: dict[int, int] = {}
        counts: Counter[int] = Counter()
        current: dict[int, set[bool]] = {}
        for unit in self._memory.all():
            documents.setdefault(unit.version_id, unit.document_id)
            counts[unit.version_id] += 1
            current.setdefault(unit.version_id, set()).add(unit.is_current)
        return {v: VersionEntry(documents[v], n, frozenset(current[v])) for v, n in counts.items()}

    def document_count(self) -> int:
        return 0 if self._memory is None else self._memory.document_count()

    def unit_count(self) -> int:
        return 0 if self._memory is None else sum(1 for _ in self._memory.all())

    def close(self) -> None:
        return None


class _Memory:
    """Units by document; every write replaces the whole mapping, so a search reads one
    snapshot while writes go on."""

    def __init__(self) -> None:
        self._documents: dict[int, tuple[Unit, ...]] = {}
        self._lock = threading.Lock()

    def units(self, request: SearchRequest, hints: Sequence[str], every: bool) -> Iterator[Unit]:
        """Every unit (the backend filters and matches them), in the order they were written."""
        return self.all()

    def all(self) -> Iterator[Unit]:
        for units in self._documents.values():
            yield from units

    def document_count(self) -> int:
        return len(self._documents)

    def apply(self, changes: Iterable[tuple[int, list[Unit] | None]]) -> None:
        with self._lock:
            documents = dict(self._documents)
            for document_id, units in changes:
                documents.pop(document_id, None)  # a replaced document moves to the end
                if units:
                    documents[document_id] = tuple(units)
            self._documents = documents

    def replace_all(self, documents: dict[int, tuple[Unit, ...]]) -> None:
        with self._lock:
            self._documents = documents


def _matching(
    request: SearchRequest,
    units: Iterable[Unit],
    matcher: Matcher | None,
    deadline: float | None,
    limit: int | None,
) -> Iterator[tuple[Unit, frozenset[str], int]]:
    """The permitted units that match, with the stems to mark and the coordination groups
    they hold, at most `limit` of them. Without a matcher (a listing by clause type) every
    permitted unit matches, its coordination the number of chosen clause types it has."""
    count = 0
    for unit in units:
        if deadline is not None and time.monotonic() >= deadline:
            raise QueryRefused("too_slow", TOO_SLOW)
        if not _permitted(unit, request):
            continue
        if matcher is None:
            matched: tuple[frozenset[str], int] | None = (
                frozenset(),
                len(request.clause_types.intersection(unit.clause_types)),
            )
        else:
            matched = matcher.match(unit)
        if matched is None:
            continue
        yield unit, *matched
        count += 1
        if limit is not None and count >= limit:
            return


def _permitted(unit: Unit, request: SearchRequest) -> bool:
    """Whether a request may see a unit: its dossier is allowed (and the chosen one), its
    document is not denied, it is current (unless old versions are asked for) and it passes
    the filters of kind, supplier, status, clause type, year and dates."""
    if unit.dossier_id not in request.allowed_dossiers:
        return False
    if unit.document_id in request.denied_documents:
        return False
    if request.dossier_id is not None and unit.dossier_id != request.dossier_id:
        return False
    if not (unit.is_current or request.include_old_versions):
        return False
    for value, chosen in (
        (unit.kind, request.kinds),
        (unit.supplier, request.suppliers),
        (unit.dossier_status, request.statuses),
    ):
        if chosen and value not in chosen:
            return False
    if request.clause_types and request.clause_types.isdisjoint(unit.clause_types):
        return False
    return _in_dates(unit.document_date, request)


def _in_dates(day: date | None, request: SearchRequest) -> bool:
    """Whether a date is in the request's year and date range (no date passes no bound)."""
    lows, highs = [request.date_from], [request.date_to]
    if request.year is not None:
        lows.append(date(request.year, 1, 1))
        highs.append(date(request.year, 12, 31))
    bounds = [(low, high) for low, high in zip(lows, highs, strict=True) if low or high]
    if not bounds:
        return True
    return day is not None and all(
        (low is None or day >= low) and (high is None or day <= high) for low, high in bounds
    )


def _first_per_document(found: list[Match], by_date: bool) -> list[Match]:
    """Each document's first match, in the order of the documents' first matches, or by the
    newest date among each document's matches."""
    first: dict[int, Match] = {}
    newest: dict[int, int] = {}
    for match in found:
        document = match[0].document_id
        first.setdefault(document, match)
        newest[document] = max(newest.get(document, 0), _ordinal(match[0].document_date))
    chosen = list(first.values())
    if by_date:
        chosen.sort(key=lambda match: newest[match[0].document_id], reverse=True)
    return chosen


def _ordinal(day: date | None) -> int:
    return day.toordinal() if day is not None else 0


def _result(request: SearchRequest, found: list[Match], counted: list[Unit]) -> SearchResult:
    """One page of hits from the ordered matches, the total and the facets of `counted`."""
    start = (request.page - 1) * request.per_page
    hits = [_hit(unit, marked, request) for unit, marked in found[start : start + request.per_page]]
    facets = _facets(counted, clause_types=request.mode == "clauses")
    return SearchResult(hits, len(found), request.page, request.per_page, facets)


def _hit(unit: Unit, marked: frozenset[str], request: SearchRequest) -> Hit:
    text = snippet(body_text(unit), marked) if request.snippets else ""
    return hit_for(unit, 0.0, text, request.mode == "clauses")


def _facets(units: list[Unit], clause_types: bool) -> dict[str, list[tuple[str, int]]]:
    """Facet counts over the matched units (one per document in documents mode), ordered as
    the index orders them: years newest first, the others by count, then alphabetically; the
    clause types only with `clause_types` (clauses mode), a unit counting for each of its."""
    counters: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for unit in units:
        if clause_types:
            counters["clause_type"].update(unit.clause_types)
        values = {
            "kind": unit.kind,
            "dossier": unit.dossier_reference,
            "supplier": unit.supplier,
            "status": unit.dossier_status,
            "year": str(unit.document_date.year) if unit.document_date else "",
        }
        for name, value in values.items():
            if value:
                counters[name][value] += 1
    return {
        name: sorted(counter.items(), reverse=True)
        if name == "year"
        else sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        for name, counter in counters.items()
    }

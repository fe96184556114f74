"""Matching units inside the permitted dossiers, then filtering by version, confidentiality,
the interface filters and phrase adjacency, per segment; each match carries its score and
its coordination (how many of the query's counted items it holds).

Postings are only read inside the docnum ranges of the dossiers the caller may read (each
segment knows the ranges of every dossier), skipping the postings in between. Every match left after
the filters is exactly a permitted match, and the total, the facets, the ranking and the
snippets are all taken from these, so nothing outside the permitted set can influence a count,
a facet or a snippet.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from whoosh.searching import Searcher

from search.planning import DEFINITION_WEIGHT
from search.types import FACETS, SearchRequest
from search.whoosh._adjacency import Positions, check_adjacency
from search.whoosh._eval import NOTHING, Scores, evaluate
from search.whoosh._plan import Plan
from search.whoosh._tables import FLAG_CURRENT, FLAG_DEFINITION, Allowed, SegmentTable

__all__ = [
    "Leaf",
    "Matches",
    "browse_leaf",
    "count_facets",
    "first_per_document",
    "gather",
    "match_leaf",
]


@dataclass
class Leaf:
    """One segment of the searched index with its arrays and its permitted matches."""

    searcher: Searcher
    offset: int
    table: SegmentTable
    matches: Scores = field(default=NOTHING)
    coordination: np.ndarray = field(default_factory=lambda: NOTHING.ids)


def _visible(leaf: Leaf, request: SearchRequest) -> tuple[Allowed, np.ndarray] | None:
    """The units of the permitted (and chosen) dossiers as ranges, and as a mask of those
    that are live and current (unless old versions are asked for); None when there are none."""
    dossiers = request.allowed_dossiers
    if request.dossier_id is not None:
        dossiers = dossiers & {request.dossier_id}
    allowed = leaf.table.allowed(dossiers)
    if not len(allowed.starts):
        return None
    visible = allowed.mask
    if not request.include_old_versions:
        visible = visible & (leaf.table.numbers["flags"] & FLAG_CURRENT).astype(bool)
    deleted = leaf.searcher.reader().deleted_docs_set
    if deleted:
        visible = visible.copy() if visible is allowed.mask else visible
        visible[np.fromiter(deleted, dtype=np.int64, count=len(deleted))] = False
    return allowed, visible


def browse_leaf(leaf: Leaf, request: SearchRequest) -> None:
    """Set the leaf's matches for a query without words (a listing by clause type): every
    visible unit that passes the filters, unscored; its coordination is how many of the
    chosen clause types it has, so the units with most of them come first."""
    found = _visible(leaf, request)
    if found is None:
        return
    ids = np.flatnonzero(found[1])
    ids = ids[_passes(ids, leaf.table, request)]
    leaf.matches = Scores(ids, np.zeros(len(ids), dtype=np.float64))
    held = leaf.table.type_codes(request.clause_types)
    leaf.coordination = held[leaf.table.codes["types"][ids]] if len(held) else np.zeros_like(ids)


def match_leaf(plan: Plan, leaf: Leaf, request: SearchRequest) -> None:
    """Set the leaf's permitted matches and their scores."""
    visible_units = _visible(leaf, request)
    if visible_units is None:
        return
    allowed, visible = visible_units
    reader = leaf.searcher.reader()
    found = evaluate(plan, reader, leaf.table, allowed, visible)
    found = found.only(_passes(found.ids, leaf.table, request))
    kept = check_adjacency(reader, found.ids, plan.checks)
    if len(kept) < len(found):
        found = found.only(np.isin(found.ids, kept, assume_unique=True))
    read = Positions(reader)
    for row, item in enumerate(plan.items):
        if item.check >= 0:
            # An optional multi-word item whose words are not in sequence is not held.
            candidates = found.ids[found.held[row]]
            check = (plan.optional_checks[item.check],)
            holding = check_adjacency(reader, candidates, check, read)
            found = found.drop(row, np.setdiff1d(candidates, holding, assume_unique=True))
    scores, leaf.coordination = found.totals(plan)
    definition = (leaf.table.numbers["flags"][scores.ids] & FLAG_DEFINITION).astype(bool)
    weights = np.where(definition, DEFINITION_WEIGHT, 1.0)
    leaf.matches = Scores(scores.ids, scores.values * weights)


def _passes(found: np.ndarray, table: SegmentTable, request: SearchRequest) -> np.ndarray:
    """Which units pass confidentiality and the interface filters (kind, supplier, status,
    clause type, year and date range)."""
    keep = np.ones(len(found), dtype=bool)
    if request.clause_types:
        held = table.type_codes(request.clause_types)
        keep &= held[table.codes["types"][found]] > 0 if len(held) else False
    if request.denied_documents:
        document = table.numbers["document"][found]
        keep &= np.isin(document, list(request.denied_documents), invert=True)
    for attribute, chosen in (
        ("kind", request.kinds),
        ("supplier", request.suppliers),
        ("status", request.statuses),
    ):
        if chosen:
            keep &= np.isin(table.codes[attribute][found], table.code_set(attribute, chosen))
    low, high = date_bounds(request)
    if low is not None or high is not None:
        dates = table.numbers["date"][found]
        keep &= (dates >= (low or 1)) & (dates <= (high or date.max.toordinal()))
    return keep


def date_bounds(request: SearchRequest) -> tuple[int | None, int | None]:
    """Inclusive ordinal bounds from the year and the date range of a request."""
    lows, highs = [], []
    if request.year is not None:
        lows.append(date(request.year, 1, 1).toordinal())
        highs.append(date(request.year, 12, 31).toordinal())
    if request.date_from is not None:
        lows.append(request.date_from.toordinal())
    if request.date_to is not None:
        highs.append(request.date_to.toordinal())
    return (max(lows) if lows else None), (min(highs) if highs else None)


@dataclass(frozen=True)
class Matches:
    """Every permitted match of a search, in index order (leaf, then docnum), as arrays."""

    leaf: np.ndarray
    docnum: np.ndarray
    score: np.ndarray
    document: np.ndarray
    date: np.ndarray
    coordination: np.ndarray  # counted items held: the first key of relevance order

    def __len__(self) -> int:
        return len(self.docnum)

    def only(self, chosen: np.ndarray) -> Matches:
        """The matches at some positions (indices or a boolean array)."""
        return Matches(
            self.leaf[chosen],
            self.docnum[chosen],
            self.score[chosen],
            self.document[chosen],
            self.date[chosen],
            self.coordination[chosen],
        )


def gather(leaves: list[Leaf]) -> Matches:
    """The matches of all leaves, with the attributes that ranking and grouping need."""
    parts = [(index, leaf) for index, leaf in enumerate(leaves) if len(leaf.matches)]
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Matches(empty, empty, np.zeros(0), empty, empty, empty)

    return Matches(
        np.concatenate([np.full(len(leaf.matches), index) for index, leaf in parts]),
        np.concatenate([leaf.matches.ids for _, leaf in parts]),
        np.concatenate([leaf.matches.values for _, leaf in parts]),
        np.concatenate(
            [leaf.table.numbers["document"][leaf.matches.ids] for _, leaf in parts]
        ).astype(np.int64),
        np.concatenate([leaf.table.numbers["date"][leaf.matches.ids] for _, leaf in parts]).astype(
            np.int64
        ),
        np.concatenate([leaf.coordination for _, leaf in parts]).astype(np.int64),
    )


def first_per_document(matches: Matches) -> np.ndarray:
    """Positions of each document's first match (in index order), in index order."""
    return np.sort(np.unique(matches.document, return_index=True)[1])


def count_facets(
    leaves: list[Leaf], matches: Matches, clause_types: bool = False
) -> dict[str, list[tuple[str, int]]]:
    """Facet counts over the given matches (in documents mode, one per document); the clause
    types only with `clause_types` (clauses mode), each unit counting once for each of its
    types."""
    counters: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for index in np.unique(matches.leaf).tolist():
        docnums = matches.docnum[matches.leaf == index]
        _count_leaf(leaves[index].table, docnums, counters)
        if clause_types:
            _count_types(leaves[index].table, docnums, counters["clause_type"])
    return {name: _ordered(name, counter) for name, counter in counters.items()}


def _count_types(table: SegmentTable, docnums: np.ndarray, counter: Counter[str]) -> None:
    """Add the clause types of some units of one segment to a counter."""
    labels = table.labels["types"]
    counts = np.bincount(table.codes["types"][docnums], minlength=len(labels))
    for code in np.flatnonzero(counts).tolist():
        for concept in labels[code].split():
            counter[concept] += int(counts[code])


def _count_leaf(
    table: SegmentTable, docnums: np.ndarray, counters: dict[str, Counter[str]]
) -> None:
    """Add the facet values of some units of one segment to the counters."""
    for name, attribute in (
        ("kind", "kind"),
        ("dossier", "reference"),
        ("supplier", "supplier"),
        ("status", "status"),
    ):
        labels = table.labels[attribute]
        counts = np.bincount(table.codes[attribute][docnums], minlength=len(labels))
        for code in np.flatnonzero(counts).tolist():
            if labels[code]:
                counters[name][labels[code]] += int(counts[code])
    ordinals = table.numbers["date"][docnums].astype(np.int64)
    ordinals = ordinals[ordinals > 0]  # 0: no date
    if len(ordinals):
        # Years from day ordinals in bulk (a match set may hold hundreds of thousands).
        days = (ordinals - _EPOCH).astype("datetime64[D]")
        years = days.astype("datetime64[Y]").astype(np.int64) + 1970
        first = int(years.min())
        counts = np.bincount(years - first)
        for offset in np.flatnonzero(counts).tolist():
            counters["year"][str(first + offset)] += int(counts[offset])


_EPOCH = date(1970, 1, 1).toordinal()


def _ordered(name: str, counter: Counter[str]) -> list[tuple[str, int]]:
    """Years newest first; other facets by count, then alphabetically."""
    if name == "year":
        return sorted(counter.items(), key=lambda item: item[0], reverse=True)
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))

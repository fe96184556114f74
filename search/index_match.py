"""Matching units inside the permitted dossiers, then filtering by version, confidentiality,
the interface filters and phrase adjacency, per segment.

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

from whoosh.searching import Searcher

from search.index_adjacency import check_adjacency
from search.index_eval import evaluate
from search.index_plan import Plan
from search.index_tables import FLAG_CURRENT, SegmentTable
from search.index_types import FACETS, SearchRequest

__all__ = ["Leaf", "Ref", "count_facets", "group_documents", "match_leaf"]

# A matched unit: (index of its leaf, docnum inside that leaf's segment).
Ref = tuple[int, int]


@dataclass
class Leaf:
    """One segment of the searched index with its arrays and its permitted matches."""

    searcher: Searcher
    offset: int
    table: SegmentTable
    matched: list[int] = field(default_factory=list)
    scores: dict[int, float] = field(default_factory=dict)


def match_leaf(plan: Plan, leaf: Leaf, request: SearchRequest) -> None:
    """Set the leaf's permitted matches and their scores."""
    allowed = request.allowed_dossiers
    if request.dossier_id is not None:
        allowed = allowed & {request.dossier_id}
    runs = leaf.table.allowed_runs(allowed)
    if not runs:
        return
    leaf.scores = evaluate(plan, leaf.searcher.reader(), leaf.table, runs)
    leaf.matched = _filter(sorted(leaf.scores), leaf, plan, request)


def _filter(found: list[int], leaf: Leaf, plan: Plan, request: SearchRequest) -> list[int]:
    """Keep the units that pass versions, confidentiality, interface filters and adjacency."""
    numbers = leaf.table.numbers
    if not request.include_old_versions:
        flags = numbers["flags"]
        found = [d for d in found if flags[d] & FLAG_CURRENT]
    if request.denied_documents:
        document, denied = numbers["document"], request.denied_documents
        found = [d for d in found if document[d] not in denied]
    found = _filter_codes(_filter_dates(found, numbers["date"], request), leaf.table, request)
    return check_adjacency(leaf.searcher.reader(), found, plan.checks)


def _filter_codes(found: list[int], table: SegmentTable, request: SearchRequest) -> list[int]:
    """Keep units whose kind, supplier and dossier status are among the chosen ones."""
    for attribute, chosen in (
        ("kind", request.kinds),
        ("supplier", request.suppliers),
        ("status", request.statuses),
    ):
        if chosen:
            codes, wanted = table.codes[attribute], table.code_set(attribute, chosen)
            found = [d for d in found if codes[d] in wanted]
    return found


def _filter_dates(found: list[int], dates: object, request: SearchRequest) -> list[int]:
    """Keep units dated within the chosen year and date range (undated units never pass)."""
    low, high = date_bounds(request)
    if low is None and high is None:
        return found
    low, high = low or 1, high or date.max.toordinal()
    return [d for d in found if low <= dates[d] <= high]  # type: ignore[index]


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


def group_documents(leaves: list[Leaf]) -> dict[int, list[Ref]]:
    """Permitted matches grouped by document id, in index order."""
    groups: dict[int, list[Ref]] = {}
    for index, leaf in enumerate(leaves):
        document = leaf.table.numbers["document"]
        for d in leaf.matched:
            groups.setdefault(document[d], []).append((index, d))
    return groups


def count_facets(
    leaves: list[Leaf], refs: list[Ref] | None = None
) -> dict[str, list[tuple[str, int]]]:
    """Facet counts over the given units (in documents mode, one unit per document), or over
    every matched unit when no refs are given."""
    counters: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    per_leaf: dict[int, list[int]] = {}
    if refs is None:
        per_leaf = {index: leaf.matched for index, leaf in enumerate(leaves) if leaf.matched}
    else:
        for index, d in refs:
            per_leaf.setdefault(index, []).append(d)
    for index, docnums in per_leaf.items():
        _count_leaf(leaves[index].table, docnums, counters)
    return {name: _ordered(name, counter) for name, counter in counters.items()}


def _count_leaf(table: SegmentTable, docnums: list[int], counters: dict[str, Counter[str]]) -> None:
    """Add the facet values of some units of one segment to the counters."""
    for name, attribute in (
        ("kind", "kind"),
        ("dossier", "reference"),
        ("supplier", "supplier"),
        ("status", "status"),
    ):
        codes, labels = table.codes[attribute], table.labels[attribute]
        for code, count in Counter(map(codes.__getitem__, docnums)).items():
            if labels[code]:
                counters[name][labels[code]] += count
    years: Counter[int] = Counter(map(table.numbers["date"].__getitem__, docnums))
    for ordinal, count in years.items():
        if ordinal:
            counters["year"][str(date.fromordinal(ordinal).year)] += count


def _ordered(name: str, counter: Counter[str]) -> list[tuple[str, int]]:
    """Years newest first; other facets by count, then alphabetically."""
    if name == "year":
        return sorted(counter.items(), key=lambda item: item[0], reverse=True)
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))

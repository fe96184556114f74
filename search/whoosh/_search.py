"""One search from parsed query to result page: match, filter, count, rank, and build hits."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search.highlight import snippet
from search.planning import empty_result
from search.query import ParsedQuery
from search.types import Hit, SearchRequest, SearchResult, hit_for
from search.whoosh._match import (
    Leaf,
    Matches,
    browse_leaf,
    count_facets,
    first_per_document,
    gather,
    match_leaf,
)
from search.whoosh._plan import make_plan
from search.whoosh._rank import best_per_document, rank_clauses, rank_documents
from search.whoosh._schema import stored_unit
from search.whoosh._tables import SegmentTable

__all__ = ["empty_result", "execute", "segments"]

TableFor = Callable[[IndexReader], SegmentTable]


def segments(top: Searcher) -> list[tuple[Searcher, int]]:
    """The (searcher, docnum offset) of each segment; an index without segments has none."""
    return [(s, offset) for s, offset in top.leaf_searchers() if s.reader().segment() is not None]


def execute(
    top: Searcher, table_for: TableFor, request: SearchRequest, parsed: ParsedQuery
) -> SearchResult:
    """Run a parsed query with the request's permission sets and filters."""
    # The time limit is on this thread's CPU time (see Plan.check_time), so what it bounds is
    # the query's own work, not waits for disk pages or for other threads and processes.
    started = time.thread_time()
    plan = make_plan(parsed, top)
    browse = not parsed.positive  # a listing by clause type (search.query allows it only then)
    if not plan.items and not browse:
        return empty_result(request)
    # A segment's column arrays are loaded once and shared by every later search (the first
    # search after a start or a commit loads them: seconds for a large index). Filling that
    # cache is not this query's matching, so it does not count against the time limit.
    loading = time.thread_time()
    leaves = [Leaf(sub, offset, table_for(sub.reader())) for sub, offset in segments(top)]
    if request.time_limit is not None:
        loaded = time.thread_time() - loading
        plan = dataclasses.replace(plan, deadline=started + loaded + request.time_limit)
    for leaf in leaves:
        plan.check_time()
        if browse:
            browse_leaf(leaf, request)
        else:
            match_leaf(plan, leaf, request)
    plan.check_time()
    first = (request.page - 1) * request.per_page
    stop = first + request.per_page
    by_date = request.sort == "date"
    matches = gather(leaves)
    if request.mode == "documents":
        best, newest = best_per_document(matches)
        total = len(best)
        facets = count_facets(leaves, matches.only(first_per_document(matches)))
        ranked = rank_documents(best, newest, stop, by_date) if first < total else None
    else:
        total = len(matches)
        facets = count_facets(leaves, matches, clause_types=True)
        ranked = rank_clauses(matches, stop, by_date) if first < total else None
    page = ranked.only(slice(first, stop)) if ranked is not None else None
    hits = _hits(leaves, page, plan.highlight, request) if page is not None else []
    return SearchResult(hits, total, request.page, request.per_page, facets)


def _hits(
    leaves: list[Leaf], page: Matches, terms: frozenset[str], request: SearchRequest
) -> list[Hit]:
    """Hit objects for the scored units of one page, with snippets when asked for."""
    hits = []
    for index, d, score in zip(
        page.leaf.tolist(), page.docnum.tolist(), page.score.tolist(), strict=True
    ):
        unit = stored_unit(leaves[index].searcher.stored_fields(d))
        text = snippet(unit.body, terms) if request.snippets else ""
        hits.append(hit_for(unit, score, text, request.mode == "clauses"))
    return hits

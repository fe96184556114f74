"""Ordering permitted matches (relevance or date) and cutting out one page.

Every permitted match was scored while it was matched (only postings inside the permitted
docnum ranges are read), so ranking is exact and needs no second pass. A document's score is
the score of its best unit; in date order a document shows its best unit too.
"""

from __future__ import annotations

import heapq

from search.index_match import Leaf, Ref

__all__ = ["rank_clauses", "rank_documents"]

Scored = tuple[float, Ref]


def _scored(leaves: list[Leaf], refs: list[Ref]) -> list[Scored]:
    """Units with their scores."""
    return [(leaves[index].scores.get(d, 0.0), (index, d)) for index, d in refs]


def _best_first(scored: list[Scored], stop: int) -> list[Scored]:
    """The `stop` highest scores, highest first; ties in index order (no sort of them all)."""
    keyed = heapq.nsmallest(stop, [(-score, ref) for score, ref in scored])
    return [(-negated, ref) for negated, ref in keyed]


def rank_clauses(leaves: list[Leaf], refs: list[Ref], stop: int, by_date: bool) -> list[Scored]:
    """The first `stop` units in the requested order, with scores."""
    if not by_date:
        return _best_first(_scored(leaves, refs), stop)
    dates = [leaf.table.numbers["date"] for leaf in leaves]
    chosen = sorted(refs, key=lambda ref: (-dates[ref[0]][ref[1]], ref))[:stop]
    return _scored(leaves, chosen)


def rank_documents(
    leaves: list[Leaf], groups: dict[int, list[Ref]], stop: int, by_date: bool
) -> list[Scored]:
    """The best unit of each of the first `stop` documents in the requested order."""
    best: dict[int, Scored] = {}
    for document, refs in groups.items():
        if len(refs) == 1:
            index, d = refs[0]
            best[document] = (leaves[index].scores.get(d, 0.0), refs[0])
        else:
            best[document] = max(_scored(leaves, refs), key=lambda item: item[0])
    if not by_date:
        return _best_first(list(best.values()), stop)
    dates = [leaf.table.numbers["date"] for leaf in leaves]

    def newest(document: int) -> tuple[int, int]:
        return (-max(dates[i][d] for i, d in groups[document]), -document)

    return [best[document] for document in sorted(groups, key=newest)[:stop]]

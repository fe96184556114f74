"""Ordering permitted matches (relevance or date) and cutting out one page.

For relevance every permitted match was scored while it was matched (the scoring matcher runs
only inside the permitted docnum ranges), so ranking is exact and needs no second pass. For
date order nothing is scored while matching; only the units of the requested page are scored
afterwards. A document's score is the score of its best unit.
"""

from __future__ import annotations

from whoosh import query as wq

from search.index_match import Leaf, Ref

__all__ = ["rank_clauses", "rank_documents", "score_refs"]

Scored = tuple[float, Ref]


def score_refs(query: wq.Query, leaves: list[Leaf], refs: list[Ref]) -> dict[Ref, float]:
    """Scores of the given matched units, each leaf's matcher stepped forward once."""
    per_leaf: dict[int, list[int]] = {}
    for index, d in refs:
        per_leaf.setdefault(index, []).append(d)
    scores: dict[Ref, float] = {}
    for index, docnums in per_leaf.items():
        searcher = leaves[index].searcher
        matcher = query.matcher(searcher, searcher.context(needs_current=True))
        for d in sorted(set(docnums)):
            if not matcher.is_active():
                break
            if matcher.id() < d:
                matcher.skip_to(d)
            if matcher.is_active() and matcher.id() == d:
                scores[(index, d)] = matcher.score()
    return scores


def _by_score(leaves: list[Leaf], refs: list[Ref]) -> list[Scored]:
    """Units with the scores recorded while matching, best first (ties in index order)."""
    scored = [(leaves[index].scores.get(d, 0.0), (index, d)) for index, d in refs]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return scored


def rank_clauses(
    query: wq.Query, leaves: list[Leaf], refs: list[Ref], stop: int, by_date: bool
) -> list[Scored]:
    """The first `stop` units in the requested order, with scores."""
    if not by_date:
        return _by_score(leaves, refs)[:stop]
    dates = [leaf.table.numbers["date"] for leaf in leaves]
    chosen = sorted(refs, key=lambda ref: (-dates[ref[0]][ref[1]], ref))[:stop]
    scores = score_refs(query, leaves, chosen)
    return [(scores.get(ref, 0.0), ref) for ref in chosen]


def rank_documents(
    query: wq.Query, leaves: list[Leaf], groups: dict[int, list[Ref]], stop: int, by_date: bool
) -> list[Scored]:
    """The best unit of each of the first `stop` documents in the requested order."""
    if by_date:
        return _documents_by_date(query, leaves, groups, stop)
    best = [max(_by_score(leaves, refs), key=lambda item: item[0]) for refs in groups.values()]
    best.sort(key=lambda item: (-item[0], item[1]))
    return best[:stop]


def _documents_by_date(
    query: wq.Query, leaves: list[Leaf], groups: dict[int, list[Ref]], stop: int
) -> list[Scored]:
    """Newest documents first (then highest id); each represented by its best matched unit."""
    dates = [leaf.table.numbers["date"] for leaf in leaves]

    def newest(item: tuple[int, list[Ref]]) -> tuple[int, int]:
        return (-max(dates[i][d] for i, d in item[1]), -item[0])

    chosen = sorted(groups.items(), key=newest)[:stop]
    scores = score_refs(query, leaves, [ref for _, refs in chosen for ref in refs])
    return [
        max(((scores.get(ref, 0.0), ref) for ref in refs), key=lambda item: item[0])
        for _, refs in chosen
    ]

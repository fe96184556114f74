"""Ordering permitted matches (relevance or date) and cutting out one page.

Relevance is ranked OR with coordination in tiers: first the units that hold every counted
item of the query (each of the user's words, phrases and required words; an expansion, or a
user's word that is itself a wording of its concept, counts through the concept it shares
with the user's words: ParsedQuery.coordination), then those holding one fewer, and so on;
within a tier by BM25F score (a unit among the definitions at planning.DEFINITION_WEIGHT).
Tiers rather than a coordination factor on the score (score x (held/total)^k): on
scripts/eval_clauses.py they measured at least as well as the factors tried, and they need no
tuned constant. A unit that
holds all words therefore always ranks above one holding fewer, however often the latter
repeats a word.

Every permitted match was scored while it was matched (only the postings of visible units are
scored), so ranking is exact and needs no second pass. A document ranks by its best unit (most
items held, then highest score); in date order a document shows its best unit too. Ties keep
index order (leaf, then docnum), so a page never depends on how the sort happened to break them.
"""

from __future__ import annotations

import numpy as np

from search.whoosh._match import Matches

__all__ = ["best_per_document", "rank_clauses", "rank_documents"]


def _top(keys: tuple[np.ndarray, ...], stop: int) -> np.ndarray:
    """Positions of the `stop` smallest rows by the keys (last key first, as np.lexsort)."""
    primary = keys[-1]
    if stop < len(primary):
        # Only rows whose primary key reaches the stop-th smallest can be among the first.
        bound = np.partition(primary, stop - 1)[stop - 1]
        candidates = np.flatnonzero(primary <= bound)
        order = np.lexsort(tuple(key[candidates] for key in keys))
        return candidates[order[:stop]]
    return np.lexsort(keys)[:stop]


def rank_clauses(matches: Matches, stop: int, by_date: bool) -> Matches:
    """The first `stop` matches in the requested order."""
    position = np.arange(len(matches))
    if by_date:
        return matches.only(_top((position, -matches.date), stop))
    return matches.only(_top((position, -matches.score, -matches.coordination), stop))


def best_per_document(matches: Matches) -> tuple[Matches, np.ndarray]:
    """Each document's best match (most items held, highest score, then first in index order) in
    document order, with the newest date of each document's matches."""
    position = np.arange(len(matches))
    order = np.lexsort((position, -matches.score, -matches.coordination, matches.document))
    documents = matches.document[order]
    starts = np.flatnonzero(np.diff(documents, prepend=documents[:1] - 1))
    newest = np.maximum.reduceat(matches.date[order], starts) if len(order) else matches.date
    return matches.only(order[starts]), newest


def rank_documents(best: Matches, newest: np.ndarray, stop: int, by_date: bool) -> Matches:
    """The best match of each of the first `stop` documents in the requested order."""
    if by_date:
        return best.only(_top((-best.document, -newest), stop))
    # Ties in index order of each document's best unit.
    index_order = np.lexsort((best.docnum, best.leaf))
    rank = np.empty(len(best), dtype=np.int64)
    rank[index_order] = np.arange(len(best))
    return best.only(_top((rank, -best.score, -best.coordination), stop))

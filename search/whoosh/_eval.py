"""Evaluating a plan on one segment: postings of the visible units, set algebra, BM25F.

Whoosh's matcher trees cost several Python calls per posting and per tree node (is_active, id,
next, skip_to, score). Here each term's postings are read as arrays, only from the blocks that
overlap the docnum ranges of the permitted dossiers, and cut down to the units the caller may
see with one mask over the segment. The AND/OR of words, fields and items are operations on
sorted arrays of docnums with aligned scores. Scores are the same BM25F sums Whoosh would
compute for the equivalent OR/AND query, added in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh.reading import IndexReader

from search.whoosh._codec import postings
from search.whoosh._columns import BYTE_LENGTHS
from search.whoosh._plan import Alternative, Plan, PlanItem
from search.whoosh._tables import Allowed, SegmentTable

__all__ = ["Scores", "evaluate"]

# Whoosh's BM25F defaults.
B = 0.75
K1 = 1.2
_LENGTHS = np.array(BYTE_LENGTHS, dtype=np.float64)


@dataclass(frozen=True)
class Scores:
    """Units (ascending docnums) with a score each."""

    ids: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def only(self, keep: np.ndarray) -> Scores:
        """The units where a boolean array aligned with ids is true."""
        return Scores(self.ids[keep], self.values[keep])


NOTHING = Scores(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


class _Segment:
    """One segment's postings (read once per term) and length norms for one query."""

    def __init__(
        self,
        reader: IndexReader,
        table: SegmentTable,
        allowed: Allowed,
        visible: np.ndarray,
        plan: Plan,
    ) -> None:
        self.reader, self.table, self.allowed, self.visible = reader, table, allowed, visible
        self.plan = plan
        self._terms: dict[tuple[str, str], Scores] = {}

    def term(self, field: str, term: str) -> Scores:
        """BM25F score of a term in each visible unit of this segment that holds it."""
        key = (field, term)
        found = self._terms.get(key)
        if found is None:
            self.plan.check_time()
            found = self._terms[key] = self._score(field, term)
        return found

    def _score(self, field: str, term: str) -> Scores:
        """BM25F (Whoosh's formula and defaults) from frequencies and one-byte length codes."""
        ids, weights = postings(self.reader, field, term, self.allowed.starts, self.allowed.ends)
        keep = self.visible[ids]
        ids, weights = ids[keep], weights[keep]
        if not len(ids):
            return NOTHING
        assert self.plan.idf is not None and self.plan.average_length is not None
        idf, average = self.plan.idf[(field, term)], self.plan.average_length[field]
        # K1 * (1 - B + B * length / average) for every possible one-byte length code.
        norm = K1 * (1 - B + B * _LENGTHS / average)
        top = idf * (K1 + 1)
        return Scores(ids, top * weights / (weights + norm[self.table.lengths[field][ids]]))


def evaluate(
    plan: Plan, reader: IndexReader, table: SegmentTable, allowed: Allowed, visible: np.ndarray
) -> Scores:
    """The visible units (a mask over the segment) that match every item of a plan, scored.

    `allowed` bounds the blocks of postings that are read; `visible` is the exact set.
    """
    segment = _Segment(reader, table, allowed, visible, plan)
    scores: Scores | None = None
    in_text: list[np.ndarray] = []
    for item in plan.items:
        found, text = _item(item, segment)
        scores = found if scores is None else _both(scores, found)
        in_text.append(text)
        if not len(scores):
            return NOTHING
    if scores is None:
        return NOTHING
    if len(plan.items) > 1:
        scores = scores.only(np.isin(scores.ids, np.concatenate(in_text)))
    for item in plan.excluded:
        scores = scores.only(np.isin(scores.ids, _item(item, segment)[0].ids, invert=True))
    return scores


def _item(item: PlanItem, segment: _Segment) -> tuple[Scores, np.ndarray]:
    """An item's scores (its matching alternatives added up) and the units it matched in text."""
    found = [_alternative(alternative, segment) for alternative in item.alternatives]
    in_text = [
        scores.ids
        for alternative, scores in zip(item.alternatives, found, strict=True)
        if alternative.field != "meta"
    ]
    return _sum(found), (np.concatenate(in_text) if in_text else NOTHING.ids)


def _alternative(alternative: Alternative, segment: _Segment) -> Scores:
    """Units holding every word of an alternative in its field (each word by any of its terms)."""
    result: Scores | None = None
    for terms in alternative.words:
        word = _sum([segment.term(alternative.field, term) for term in terms])
        result = word if result is None else _both(result, word)
        if not len(result):
            return NOTHING
    if result is None:
        return NOTHING
    boost = alternative.boost
    return result if boost == 1.0 else Scores(result.ids, result.values * boost)


def _sum(parts: list[Scores]) -> Scores:
    """Units in any of the parts, with their scores added in the parts' order (OR)."""
    parts = [part for part in parts if len(part)]
    if not parts:
        return NOTHING
    if len(parts) == 1:
        return parts[0]
    ids, where = np.unique(np.concatenate([part.ids for part in parts]), return_inverse=True)
    # bincount adds the weights of one unit in input order, so the sums match a left-to-right
    # addition over the parts.
    values = np.bincount(where, weights=np.concatenate([part.values for part in parts]))
    return Scores(ids, values)


def _both(first: Scores, second: Scores) -> Scores:
    """Units in both, with their scores added (AND)."""
    ids, left, right = np.intersect1d(
        first.ids, second.ids, assume_unique=True, return_indices=True
    )
    return Scores(ids, first.values[left] + second.values[right])

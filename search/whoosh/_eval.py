"""Evaluating a plan on one segment: postings of the visible units, set algebra, BM25F.

Whoosh's matcher trees cost several Python calls per posting and per tree node (is_active, id,
next, skip_to, score). Here each term's postings are read as arrays, only from the blocks that
overlap the docnum ranges of the permitted dossiers, and cut down to the units the caller may
see with one mask over the segment. The AND/OR of words, fields and items are operations on
sorted arrays of docnums with aligned scores. Scores are the same BM25F sums Whoosh would
compute for the equivalent OR/AND query, added in the same order.

The items of a query combine as ranked OR (see search.query): the candidates are the units
holding every required item, or, without required items, any item. Per candidate the result
keeps each item's (weighted) score, whether the item was held and whether it was held outside
``meta``, so that the adjacency of optional multi-word items can still take an item away from
a unit (`Found.drop`) before the scores are added up and the coordination is counted
(`Found.totals`), a concept's added terms blended (planning.TIE_BREAKER).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh.reading import IndexReader

from search.planning import TIE_BREAKER
from search.whoosh._codec import postings
from search.whoosh._columns import BYTE_LENGTHS
from search.whoosh._plan import Alternative, Plan, PlanItem
from search.whoosh._tables import Allowed, SegmentTable

__all__ = ["Found", "Scores", "evaluate"]

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


@dataclass(frozen=True)
class Found:
    """Candidate units (ascending docnums) with, per plan item (rows), its weighted score, and
    whether the unit holds it at all and outside ``meta``."""

    ids: np.ndarray
    scores: np.ndarray  # (items, units) float
    held: np.ndarray  # (items, units) bool
    in_text: np.ndarray  # (items, units) bool

    def __len__(self) -> int:
        return len(self.ids)

    def only(self, keep: np.ndarray) -> Found:
        """The units where a boolean array aligned with ids is true."""
        return Found(
            self.ids[keep], self.scores[:, keep], self.held[:, keep], self.in_text[:, keep]
        )

    def drop(self, row: int, ids: np.ndarray) -> Found:
        """The same units, with item `row` taken away from the given units (sorted docnums)."""
        away = np.isin(self.ids, ids, assume_unique=True)
        if not away.any():
            return self
        scores, held, in_text = self.scores.copy(), self.held.copy(), self.in_text.copy()
        scores[row, away], held[row, away], in_text[row, away] = 0.0, False, False
        return Found(self.ids, scores, held, in_text)

    def totals(self, plan: Plan) -> tuple[Scores, np.ndarray]:
        """The units that still match (every required item, or any item when none is, and at
        least one item outside ``meta``), their summed scores in item order, and how many
        coordination groups each holds."""
        required = [i for i, item in enumerate(plan.items) if item.required]
        keep = self.in_text.any(axis=0)
        if required:
            keep &= self.held[required].all(axis=0)
        ids, scores, held = self.ids[keep], self.scores[:, keep], self.held[:, keep]
        total = np.zeros(len(ids), dtype=np.float64)
        blocks: dict[int, list[int]] = {}
        for row, item in enumerate(plan.items):
            if item.block < 0:
                total += scores[row]
            else:
                blocks.setdefault(item.block, []).append(row)
        for rows in blocks.values():
            # A concept's added terms: the best in full, the others at TIE_BREAKER.
            block = scores[rows]
            best = block.max(axis=0)
            total += (1 - TIE_BREAKER) * best + TIE_BREAKER * block.sum(axis=0)
        groups = np.zeros(len(ids), dtype=np.int64)
        for group in range(plan.groups):
            rows = [i for i, item in enumerate(plan.items) if group in item.groups]
            if rows:
                groups += held[rows].any(axis=0)
        return Scores(ids, total), groups


NO_UNITS = np.zeros(0, dtype=np.int64)


def _empty(plan: Plan) -> Found:
    rows = len(plan.items)
    return Found(
        NO_UNITS,
        np.zeros((rows, 0), dtype=np.float64),
        np.zeros((rows, 0), dtype=bool),
        np.zeros((rows, 0), dtype=bool),
    )


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
) -> Found:
    """The visible units (a mask over the segment) that are candidates for a plan, with each
    item's score; `Found.totals` decides the matches.

    `allowed` bounds the blocks of postings that are read; `visible` is the exact set.
    """
    segment = _Segment(reader, table, allowed, visible, plan)
    required: np.ndarray | None = None
    # Required items first: when they leave nothing, the optional ones are never read.
    order = sorted(range(len(plan.items)), key=lambda i: not plan.items[i].required)
    found: dict[int, tuple[Scores, np.ndarray]] = {}
    for index in order:
        item = plan.items[index]
        scores, text = _item(item, segment)
        if item.weight != 1.0:
            scores = Scores(scores.ids, scores.values * item.weight)
        found[index] = (scores, text)
        if item.required:
            required = scores.ids if required is None else _common(required, scores.ids)
            if not len(required):
                return _empty(plan)
    parts = [found[index] for index in range(len(plan.items))]
    if required is not None:
        ids = required
    else:
        # The union as a mask over the segment: linear, where np.unique sorts.
        union = np.zeros(len(visible), dtype=bool)
        for scores, _ in parts:
            union[scores.ids] = True
        ids = np.flatnonzero(union)
    for item in plan.excluded:
        ids = ids[np.isin(ids, _item(item, segment)[0].ids, invert=True)]
    if not len(ids):
        return _empty(plan)
    rows = len(parts)
    values = np.zeros((rows, len(ids)), dtype=np.float64)
    held = np.zeros((rows, len(ids)), dtype=bool)
    in_text = np.zeros((rows, len(ids)), dtype=bool)
    for row, (scores, text) in enumerate(parts):
        at, present = _positions(ids, scores.ids)
        values[row, at] = scores.values[present]
        held[row, at] = True
        in_text[row, _positions(ids, text)[0]] = True
    return Found(ids, values, held, in_text)


def _positions(ids: np.ndarray, some: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the values of `some` that occur in the sorted `ids` are, and which those are."""
    if not len(some):
        return NO_UNITS, np.zeros(0, dtype=bool)
    at = np.searchsorted(ids, some)
    present = at < len(ids)
    present[present] = ids[at[present]] == some[present]
    return at[present], present


def _common(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The sorted units in both."""
    return np.intersect1d(first, second, assume_unique=True)


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

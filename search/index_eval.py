"""Evaluating a plan on one segment: postings inside the permitted ranges, set algebra, BM25F.

Whoosh's matcher trees cost several Python calls per posting and per tree node (is_active, id,
next, skip_to, score), which made a two-word query at 10,000 documents take 150 ms. Here each
term's postings are read only inside the docnum ranges of the permitted dossiers, in whole block
slices, and the AND/OR of words, fields and items is plain dictionary and set work. Scores are
the same BM25F sums Whoosh would compute for the equivalent OR/AND query.
"""

from __future__ import annotations

from whoosh.reading import IndexReader

from search.index_codec import collect
from search.index_columns import BYTE_LENGTHS
from search.index_plan import Alternative, Plan, PlanItem
from search.index_tables import SegmentTable

__all__ = ["evaluate"]

# Whoosh's BM25F defaults.
B = 0.75
K1 = 1.2

Scores = dict[int, float]


class _Segment:
    """One segment's postings (read once per term) and length norms for one query."""

    def __init__(
        self, reader: IndexReader, table: SegmentTable, runs: list[tuple[int, int]], plan: Plan
    ) -> None:
        self.reader, self.table, self.runs, self.plan = reader, table, runs, plan
        self._terms: dict[tuple[str, str], Scores] = {}

    def term(self, field: str, term: str) -> Scores:
        """BM25F score of a term in each permitted unit of this segment that holds it."""
        key = (field, term)
        found = self._terms.get(key)
        if found is None:
            found = self._terms[key] = self._score(field, term)
        return found

    def _score(self, field: str, term: str) -> Scores:
        """BM25F (Whoosh's formula and defaults) from frequencies and one-byte length codes."""
        weights = collect(self.reader, field, term, self.runs)
        if not weights:
            return {}
        assert self.plan.idf is not None and self.plan.average_length is not None
        idf, average = self.plan.idf[(field, term)], self.plan.average_length[field]
        # K1 * (1 - B + B * length / average) for every possible one-byte length code.
        norm = [K1 * (1 - B + B * length / average) for length in BYTE_LENGTHS]
        codes = self.table.lengths[field]
        top = idf * (K1 + 1)
        return {d: top * w / (w + norm[codes[d]]) for d, w in weights.items()}


def evaluate(
    plan: Plan, reader: IndexReader, table: SegmentTable, runs: list[tuple[int, int]]
) -> Scores:
    """Docnum -> score of the permitted units (inside `runs`) that match every item of a plan."""
    segment = _Segment(reader, table, runs, plan)
    scores: Scores | None = None
    in_text: set[int] = set()
    for item in plan.items:
        found, text = _item(item, segment)
        scores = found if scores is None else _both(scores, found)
        in_text |= text
        if not scores:
            return {}
    if scores is None:
        return {}
    if len(plan.items) > 1:
        scores = {d: s for d, s in scores.items() if d in in_text}
    for item in plan.excluded:
        for docnum in _item(item, segment)[0]:
            scores.pop(docnum, None)
    return scores


def _item(item: PlanItem, segment: _Segment) -> tuple[Scores, set[int]]:
    """An item's scores (its matching alternatives added up) and the units it matched in text."""
    found: Scores = {}
    in_text: set[int] = set()
    for alternative in item.alternatives:
        scores = _alternative(alternative, segment)
        if not found:
            found = dict(scores)
        else:
            for docnum, score in scores.items():
                found[docnum] = found.get(docnum, 0.0) + score
        if alternative.field != "meta":
            in_text.update(scores)
    return found, in_text


def _alternative(alternative: Alternative, segment: _Segment) -> Scores:
    """Units holding every word of an alternative in its field (each word by any of its terms)."""
    result: Scores | None = None
    for terms in alternative.words:
        word = _any_term(alternative.field, terms, segment)
        result = word if result is None else _both(result, word)
        if not result:
            return {}
    boost = alternative.boost
    if boost == 1.0 or not result:
        return result or {}
    return {d: s * boost for d, s in result.items()}


def _any_term(field: str, terms: tuple[str, ...], segment: _Segment) -> Scores:
    """Units holding any of a word's terms, with their scores added (OR)."""
    if len(terms) == 1:
        return segment.term(field, terms[0])
    word: Scores = {}
    for term in terms:
        scores = segment.term(field, term)
        if not word:
            word = dict(scores)
            continue
        for docnum, score in scores.items():
            word[docnum] = word.get(docnum, 0.0) + score
    return word


def _both(first: Scores, second: Scores) -> Scores:
    """Units in both, with their scores added (AND)."""
    if len(second) < len(first):
        first, second = second, first
    return {d: s + second[d] for d, s in first.items() if d in second}

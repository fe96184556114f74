"""Checking multi-word items (phrases, ``7:408``, ``non-compete``) on candidate units.

Positions come from the postings of each word's stems, read in bulk for a sorted array of
candidates, so the cost grows with the candidates a user may read, not with the index. Stop
words ("of" in "limitation of liability") have the longest posting lists, so the content words
are checked first with the stop words as one-word gaps, and the stop words' positions are read
only for the units that still qualify.

A sequence is found with keys, not loops: word i at position p in unit d gives the key
(d, p - i), and a unit holds the words in sequence when one key occurs for every word.
"""

from __future__ import annotations

import numpy as np
from whoosh.reading import IndexReader

from search.whoosh._codec import positions
from search.whoosh._plan import Adjacency

__all__ = ["Positions", "check_adjacency"]

# Keys pack (unit, start) into one integer; starts are shifted so that they are never negative
# and may reach 2**32 (positions are uint32), units stay far below 2**30.
_SHIFT = 33
_NONE = np.zeros(0, dtype=np.int64)


class Positions:
    """Positions of terms in candidate units of one segment, read once per term and narrowing
    set of units, for all the checks of one query: several expansions share words ("liability
    insurance", "certificate of insurance"), and a check that needs a term for some of the
    units read before reuses what was read."""

    def __init__(self, reader: IndexReader) -> None:
        self.reader = reader
        self._read: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def of(self, field: str, term: str, docnums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(unit, position) of each occurrence of a term in the given sorted units."""
        known = self._read.get((field, term))
        if known is None or not np.all(np.isin(docnums, known[0], assume_unique=True)):
            units, places = positions(self.reader, field, term, docnums)
            self._read[(field, term)] = (docnums, units, places)
            return units, places
        # Read before for more units: keep those of the units asked for now.
        keep = np.isin(known[1], docnums)
        return known[1][keep], known[2][keep]


def check_adjacency(
    reader: IndexReader,
    docnums: np.ndarray,
    checks: tuple[Adjacency, ...],
    found: Positions | None = None,
) -> np.ndarray:
    """The docnums (sorted) whose positive items are adjacent and negative items are not;
    `found` holds the positions read by earlier checks of the same query in this segment."""
    if not checks or not len(docnums):
        return docnums
    found = found or Positions(reader)
    kept = docnums
    # With stop words as gaps a positive item may seem to hold where the stop words rule it
    # out, and a negative one too: the first pass only narrows by what it can decide, the exact
    # pass (reading the stop words' positions for the units left) decides the rest.
    for check in checks:
        exact = not any(check.stop)
        if exact or not check.negated:
            kept = _narrow(kept, _holding(found, kept, check, exact), check.negated)
        if not len(kept):
            return kept
    for check in checks:
        if any(check.stop):
            kept = _narrow(kept, _holding(found, kept, check, exact=True), check.negated)
    return kept


def _narrow(kept: np.ndarray, holding: np.ndarray, negated: bool) -> np.ndarray:
    """The kept units that hold a positive item, or that do not hold a negative one."""
    if negated:
        return np.setdiff1d(kept, holding, assume_unique=True)
    return np.intersect1d(kept, holding, assume_unique=True)


def _holding(found: Positions, docnums: np.ndarray, check: Adjacency, exact: bool) -> np.ndarray:
    """The units (sorted) that have the item's identifier, its words in sequence in one field
    (without `exact` stop words match any word) or its words written as one word."""
    holding = [found.of("ident", ident, docnums)[0] for ident in check.idents]
    for field in check.fields:
        holding.append(_in_sequence(found, field, docnums, check, exact))
        holding += [found.of(field, stem, docnums)[0] for stem in check.joined]
    return np.unique(np.concatenate(holding)) if holding else _NONE


def _in_sequence(
    found: Positions, field: str, docnums: np.ndarray, check: Adjacency, exact: bool
) -> np.ndarray:
    """Units in which every (known) word i occurs at some start + i in one field."""
    words = [
        (i, stems)
        for i, (stems, stop) in enumerate(zip(check.words, check.stop, strict=True))
        if exact or not stop
    ]
    count = len(check.words)
    keys: np.ndarray | None = None
    units = docnums
    for i, stems in words:
        parts = [found.of(field, stem, units) for stem in stems]
        word_units = np.concatenate([part[0] for part in parts])
        starts = np.concatenate([part[1] for part in parts]) + (count - i)
        # One stem's keys come sorted (units ascending, positions ascending in a unit).
        word_keys = (word_units << _SHIFT) | starts
        word_keys = _distinct(np.sort(word_keys) if len(parts) > 1 else word_keys)
        keys = word_keys if keys is None else np.intersect1d(keys, word_keys, assume_unique=True)
        if not len(keys):
            return _NONE
        units = _distinct(keys >> _SHIFT)
    return units if keys is not None else _NONE


def _distinct(ordered: np.ndarray) -> np.ndarray:
    """The distinct values of a sorted array."""
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]

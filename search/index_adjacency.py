"""Checking multi-word items (phrases, ``7:408``, ``non-compete``) on candidate units.

Positions come from the postings of each word's stems, read once per term for a sorted batch
of candidates, so the cost grows with the candidates a user may read, not with the index.
"""

from __future__ import annotations

from whoosh.reading import IndexReader, TermNotFound

from search.index_plan import FIELDS, Adjacency

__all__ = ["check_adjacency"]

Positions = dict[tuple[str, str], dict[int, frozenset[int]]]


def check_adjacency(
    reader: IndexReader, docnums: list[int], checks: tuple[Adjacency, ...]
) -> list[int]:
    """The docnums (sorted) whose positive items are adjacent and negative items are not."""
    if not checks or not docnums:
        return docnums
    wanted = {
        (field, stem)
        for check in checks
        for field, _ in FIELDS
        for word in check.words
        for stem in word
    }
    wanted |= {("ident", ident) for check in checks for ident in check.idents}
    found = _positions(reader, docnums, wanted)
    return [d for d in docnums if all(_holds(check, d, found) != check.negated for check in checks)]


def _holds(check: Adjacency, docnum: int, found: Positions) -> bool:
    """Whether a unit has the item's identifier, or its words in sequence in one field."""
    if any(docnum in found.get(("ident", ident), {}) for ident in check.idents):
        return True
    for field, _ in FIELDS:
        per_word = [_word_positions(field, stems, docnum, found) for stems in check.words]
        if all(per_word) and any(
            all(start + i in positions for i, positions in enumerate(per_word))
            for start in per_word[0]
        ):
            return True
    return False


def _word_positions(
    field: str, stems: tuple[str, ...], docnum: int, found: Positions
) -> frozenset[int]:
    """Positions of any stem of a word in one field of one unit."""
    sets = [found.get((field, stem), {}).get(docnum, frozenset()) for stem in stems]
    return sets[0] if len(sets) == 1 else frozenset().union(*sets)


def _positions(reader: IndexReader, docnums: list[int], wanted: set[tuple[str, str]]) -> Positions:
    """For each wanted (field, term), the positions in each of the given units that hold it."""
    found: Positions = {}
    for field, term in wanted:
        if (field, term) not in reader:
            continue
        try:
            matcher = reader.postings(field, term)
        except TermNotFound:
            continue
        has_positions = matcher.supports("positions")
        per_unit: dict[int, frozenset[int]] = {}
        for docnum in docnums:
            if not matcher.is_active():
                break
            if matcher.id() < docnum:
                matcher.skip_to(docnum)
            if matcher.is_active() and matcher.id() == docnum:
                per_unit[docnum] = (
                    frozenset(matcher.value_as("positions")) if has_positions else frozenset({0})
                )
        found[(field, term)] = per_unit
    return found

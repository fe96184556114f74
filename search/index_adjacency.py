"""Checking multi-word items (phrases, ``7:408``, ``non-compete``) on candidate units.

Positions come from the postings of each word's stems, read once per term for a sorted batch
of candidates, so the cost grows with the candidates a user may read, not with the index. Stop
words ("of" in "limitation of liability") have the longest posting lists, so the content words
are checked first with the stop words as one-word gaps, and the stop words' positions are read
only for the units that still qualify.
"""

from __future__ import annotations

from whoosh.reading import IndexReader, TermNotFound

from search.index_plan import FIELDS, Adjacency

__all__ = ["check_adjacency"]

Positions = dict[tuple[str, str], dict[int, frozenset[int]]]
_EMPTY: frozenset[int] = frozenset()


def check_adjacency(
    reader: IndexReader, docnums: list[int], checks: tuple[Adjacency, ...]
) -> list[int]:
    """The docnums (sorted) whose positive items are adjacent and negative items are not."""
    if not checks or not docnums:
        return docnums
    found = _positions(reader, docnums, _terms(checks, stop_words=False))
    passed = [d for d in docnums if _keep(checks, d, found)]
    if not passed or not any(any(check.stop) for check in checks):
        return passed
    # With stop words as gaps a unit may pass that the stop words themselves rule out; an
    # exact pass can only narrow (never widen) what the first pass kept.
    found |= _positions(reader, passed, _terms(checks, stop_words=True))
    return [d for d in passed if _keep(checks, d, found, exact=True)]


def _terms(checks: tuple[Adjacency, ...], stop_words: bool) -> set[tuple[str, str]]:
    """(field, term) pairs of the content words (with identifiers), or of the stop words."""
    wanted = {
        (field, stem)
        for check in checks
        for field, _ in FIELDS
        for word, stop in zip(check.words, check.stop, strict=True)
        if stop == stop_words
        for stem in word
    }
    if not stop_words:
        wanted |= {("ident", ident) for check in checks for ident in check.idents}
    return wanted


def _keep(
    checks: tuple[Adjacency, ...], docnum: int, found: Positions, exact: bool = False
) -> bool:
    """Whether a unit passes the checks: positive items hold, negative items do not.

    Without `exact` the stop words are gaps, so a negative item that might hold keeps the unit
    and a positive item that might hold passes; the exact pass decides those.
    """
    for check in checks:
        holds = _holds(check, docnum, found, exact or not any(check.stop))
        if check.negated and holds and (exact or not any(check.stop)):
            return False
        if not check.negated and not holds:
            return False
    return True


def _holds(check: Adjacency, docnum: int, found: Positions, exact: bool) -> bool:
    """Whether a unit has the item's identifier, or its words in sequence in one field."""
    if any(docnum in found.get(("ident", ident), {}) for ident in check.idents):
        return True
    for field, _ in FIELDS:
        per_word = [
            None if stop and not exact else _word_positions(field, stems, docnum, found)
            for stems, stop in zip(check.words, check.stop, strict=True)
        ]
        if _in_sequence(per_word):
            return True
    return False


def _in_sequence(per_word: list[frozenset[int] | None]) -> bool:
    """Whether some start p has word i at position p + i for every word (None: any word)."""
    known = [(i, positions) for i, positions in enumerate(per_word) if positions is not None]
    if not known or not all(positions for _, positions in known):
        return False
    first, anchor = known[0]
    return any(
        all(start + i in positions for i, positions in known)
        for start in (position - first for position in anchor)
    )


def _word_positions(
    field: str, stems: tuple[str, ...], docnum: int, found: Positions
) -> frozenset[int]:
    """Positions of any stem of a word in one field of one unit."""
    sets = [found.get((field, stem), {}).get(docnum, _EMPTY) for stem in stems]
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

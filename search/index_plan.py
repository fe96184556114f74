"""From parsed query items to a Whoosh query of candidate units plus adjacency checks.

Whoosh's phrase matching checks positions for every unit that holds all the words, before any
permission filter; with stop words inside phrases (``"limitation of liability"``) that meant
decoding the positions of "of" in nearly every unit. Here the Whoosh query only asks for the
phrase's content words; the exact adjacency of all its words (stop words included) is checked
afterwards, on the few candidates the caller may read. The same query, without positions,
scores the units.
"""

from __future__ import annotations

from dataclasses import dataclass

from whoosh import query as wq
from whoosh.reading import IndexReader

from search.analysis import is_stop_word, stems
from search.query import Item, ParsedQuery

__all__ = ["Adjacency", "Plan", "make_plan"]

# Text fields an item may match in, with their weight; "ident" holds identifiers whole.
FIELDS = (("body", 1.0), ("meta", 0.5))
IDENT_BOOST = 2.0
# A trailing wildcard expands to at most this many stems, so "con*" cannot build a huge OR.
MAX_EXPANSION = 64


@dataclass(frozen=True)
class Adjacency:
    """A multi-word item: its words must follow each other in one field, or an identifier match."""

    negated: bool
    words: tuple[tuple[str, ...], ...]
    idents: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """What to run for a query: candidate query, adjacency checks, and the stems to highlight."""

    query: wq.Query
    checks: tuple[Adjacency, ...]
    highlight: frozenset[str]


def make_plan(parsed: ParsedQuery, reader: IndexReader) -> Plan:
    """Build the plan of a parsed query against the terms that exist in the index."""
    positive = [_candidates(item, reader) for item in parsed.positive]
    if any(query is wq.NullQuery for query in positive):
        return Plan(wq.NullQuery, (), frozenset())
    query: wq.Query = positive[0] if len(positive) == 1 else wq.And(positive)
    excluded = [_candidates(item, reader) for item in parsed.negative if len(item.words) == 1]
    excluded = [q for q in excluded if q is not wq.NullQuery]
    if excluded:
        query = wq.AndNot(query, excluded[0] if len(excluded) == 1 else wq.Or(excluded))
    checks = tuple(
        Adjacency(item.negated, tuple(stems(word) for word in item.words), item.idents)
        for item in parsed.items
        if len(item.words) > 1
    )
    return Plan(query, checks, _highlight(parsed, reader))


def _candidates(item: Item, reader: IndexReader) -> wq.Query:
    """Units that may match an item: its content words in one field, or one of its identifiers."""
    words = [w for w in item.words if not is_stop_word(w)] or list(item.words)
    alternatives: list[wq.Query] = []
    for field, boost in FIELDS:
        parts = [_word(field, word, reader, item.prefix) for word in words]
        if parts and all(part is not None for part in parts):
            query = parts[0] if len(parts) == 1 else wq.And(parts)
            alternatives.append(query.with_boost(boost) if boost != 1.0 else query)
    alternatives += [
        wq.Term("ident", ident, boost=IDENT_BOOST)
        for ident in item.idents
        if ("ident", ident) in reader
    ]
    if not alternatives:
        return wq.NullQuery
    return alternatives[0] if len(alternatives) == 1 else wq.Or(alternatives)


def _word(field: str, word: str, reader: IndexReader, prefix: bool) -> wq.Query | None:
    """A word as the OR of those of its stems (and prefix expansions) that the field holds."""
    terms = list(stems(word)) + (_expand(reader, field, word) if prefix else [])
    present = [t for t in dict.fromkeys(terms) if (field, t) in reader]
    if not present:
        return None
    if len(present) == 1:
        return wq.Term(field, present[0])
    return wq.Or([wq.Term(field, term) for term in present])


def _expand(reader: IndexReader, field: str, prefix: str) -> list[str]:
    """Up to MAX_EXPANSION indexed stems of a field that start with a prefix."""
    found = []
    for term in reader.expand_prefix(field, prefix):
        found.append(term.decode("utf-8") if isinstance(term, bytes) else term)
        if len(found) >= MAX_EXPANSION:
            break
    return found


def _highlight(parsed: ParsedQuery, reader: IndexReader) -> frozenset[str]:
    """Body stems to mark in snippets: those of positive words (stop words only if alone)."""
    items = parsed.positive
    chosen = [w for item in items for w in item.words if not is_stop_word(w)]
    if not chosen:
        chosen = [w for item in items for w in item.words]
    terms = {stem for word in chosen for stem in stems(word)}
    for item in items:
        if item.prefix:
            terms.update(_expand(reader, "body", item.words[-1]))
    return frozenset(terms)

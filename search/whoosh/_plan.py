"""From parsed query items to a plan: per item, the terms to look up in each field.

An item (word, compound word or phrase) matches a unit when all its content words occur in
one field (each word through any of its stems), or when one of its identifiers does. Exact
adjacency of multi-word items, stop words included, is checked afterwards on the permitted
candidates only (see index_adjacency): Whoosh's phrase matching decoded the positions of "of"
in nearly every unit before any permission filter applied. Scores are Whoosh's BM25F, computed
from the same statistics Whoosh uses (collection idf and average field length).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search.analysis import is_stop_word, stems
from search.expansion import concept_items
from search.query import Item, ParsedQuery, QueryRefused
from search.whoosh._tables import SCORED_FIELDS

__all__ = ["EMPTY", "Adjacency", "Alternative", "Plan", "PlanItem", "make_plan"]

# Fields an item's words may match in, with their weight; "body" is the unit's own text.
FIELDS = (("body", 1.0), ("meta", 0.5))
IDENT_BOOST = 2.0
# A trailing wildcard expands to at most this many stems per field, so "con*" cannot build a
# huge OR; a broader prefix is refused with a message rather than silently cut off.
MAX_EXPANSION = 64
# All wildcards of one query together expand to at most this many (field, stem) terms.
MAX_QUERY_EXPANSION = 192
TOO_BROAD = "A * wildcard matches too many words; type more letters before the * or use fewer."
TOO_SLOW = "This search takes too long; make it more specific."
# Word endings that stemming removes (English, then Dutch), tried after a wildcard's prefix.
ENDINGS = (
    *("", "e", "s", "es", "ed", "ing", "ion", "ions", "ive", "or", "ors", "er", "ers"),
    *("al", "ally", "ly", "ment", "ments", "ance", "ence", "ity", "ities", "y", "ies", "able"),
    *("en", "ingen", "ie", "heid", "heden", "lijk", "lijke", "baar", "te", "ten"),
    *("de", "den", "t", "st", "ster", "isch", "ische"),
)


@dataclass(frozen=True)
class Alternative:
    """One way for an item to match: every word (any of its terms) in one field."""

    field: str
    boost: float
    words: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class PlanItem:
    """The alternatives of one item; it matches a unit when any alternative does."""

    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class Adjacency:
    """A multi-word item: its words must follow each other in one field, or an identifier match."""

    negated: bool
    words: tuple[tuple[str, ...], ...]
    idents: tuple[str, ...]
    stop: tuple[bool, ...]


@dataclass(frozen=True)
class Plan:
    """What to evaluate for a query; no items means nothing can match."""

    items: tuple[PlanItem, ...]
    excluded: tuple[PlanItem, ...] = ()
    checks: tuple[Adjacency, ...] = ()
    highlight: frozenset[str] = frozenset()
    idf: dict[tuple[str, str], float] | None = None
    average_length: dict[str, float] | None = None
    deadline: float | None = None  # time.monotonic() after which matching gives up

    def check_time(self) -> None:
        """Raise QueryRefused once the plan's deadline has passed."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise QueryRefused("too_slow", TOO_SLOW)


EMPTY = Plan(())


Expansions = dict[tuple[str, str], list[str]]


def make_plan(parsed: ParsedQuery, searcher: Searcher) -> Plan:
    """Build the plan of a parsed query against the terms that exist in the index.

    Raises QueryRefused when its wildcards expand to more terms than MAX_EXPANSION (one
    wildcard in one field) or MAX_QUERY_EXPANSION (the whole query).
    """
    reader = searcher.reader()
    expansions: Expansions = {}
    own = [item for item in parsed.positive if item.concept is None]
    items = [_item(item, reader, expansions) for item in own]
    if len(items) == 1:
        # A single item must match the text itself: metadata only narrows a query with
        # several items ("acme termination"), it never makes every clause of a document a hit.
        items = [PlanItem(tuple(a for a in items[0].alternatives if a.field != "meta"))]
    added = [item for item in parsed.positive if item.concept is not None]
    grouped: set[int] = set()
    if added:
        items, grouped = _with_thesaurus_terms(own, items, added, reader)
    # An expanded item may match through a thesaurus term, so its own adjacency is not checked.
    unchecked = {id(own[i]) for i in grouped}
    if any(not item.alternatives for item in items):
        return EMPTY
    excluded = [_item(item, reader, expansions) for item in parsed.negative if len(item.words) == 1]
    if sum(len(found) for found in expansions.values()) > MAX_QUERY_EXPANSION:
        raise QueryRefused("too_broad", TOO_BROAD)
    checks = tuple(
        _adjacency(item)
        for item in parsed.items
        if len(item.words) > 1 and item.concept is None and id(item) not in unchecked
    )
    terms = {
        (a.field, t)
        for i in (*items, *excluded)
        for a in i.alternatives
        for w in a.words
        for t in w
    }
    return Plan(
        tuple(items),
        tuple(item for item in excluded if item.alternatives),
        checks,
        _highlight(parsed, reader, expansions),
        {term: searcher.idf(*term) for term in terms},
        {field: searcher.avg_field_length(field) or 1.0 for field in SCORED_FIELDS},
    )


def _with_thesaurus_terms(
    own: list[Item], items: list[PlanItem], added: list[Item], reader: IndexReader
) -> tuple[list[PlanItem], set[int]]:
    """The plan items with the thesaurus terms of each concept as optional alternatives.

    Every item here is required (AND), so a concept's added terms cannot be items of their
    own: they become further alternatives of the user's items that named the concept (merged
    into one item when a term spans several, "termination for convenience"), with the term's
    weight as a boost, in the body only. A multi-word term matches when its content words all
    occur in the unit (no adjacency check, which an alternative cannot express). Returns the
    new items and the indexes (in `own`) of the items that were expanded.

    Ranked OR (optional items) makes this unnecessary: expansion items are then items of
    their own, never required.
    """
    groups: list[tuple[set[int], list[Alternative]]] = []
    for concept, indexes in concept_items(own).items():
        terms = [item for item in added if item.concept == concept]
        extra = [a for term in terms if (a := _term_alternative(term, reader)) is not None]
        joined = [g for g in groups if g[0] & set(indexes)]
        groups = [g for g in groups if not g[0] & set(indexes)]
        group_indexes = set(indexes).union(*(g[0] for g in joined))
        groups.append((group_indexes, [a for g in joined for a in g[1]] + extra))
    first = {min(indexes): (indexes, extra) for indexes, extra in groups if extra}
    grouped = {i for indexes, _ in first.values() for i in indexes}
    result = []
    for i, item in enumerate(items):
        if i in first:
            indexes, extra = first[i]
            parts = [items[j] for j in sorted(indexes)]
            result.append(PlanItem((*_conjunction(parts), *extra)))
        elif i not in grouped:
            result.append(item)
    return result, grouped


def _conjunction(parts: list[PlanItem]) -> tuple[Alternative, ...]:
    """The alternatives of several items together: per field, all their words in that field."""
    if len(parts) == 1:
        return parts[0].alternatives
    combined = []
    for field, boost in FIELDS:
        chosen = [next((a for a in p.alternatives if a.field == field), None) for p in parts]
        if all(chosen):
            combined.append(Alternative(field, boost, tuple(w for a in chosen for w in a.words)))
    return tuple(combined)


def _term_alternative(term: Item, reader: IndexReader) -> Alternative | None:
    """A thesaurus term as an alternative in the body, weighted, if the body has its words."""
    words = [w for w in term.words if not is_stop_word(w)] or list(term.words)
    terms = tuple(_terms("body", word, reader, False, {}) for word in words)
    if not all(terms):
        return None
    return Alternative("body", term.weight, terms)


def _adjacency(item: Item) -> Adjacency:
    """The adjacency check of a multi-word item; stop words are marked unless all words are."""
    stop = tuple(is_stop_word(word) for word in item.words)
    if all(stop):
        stop = (False,) * len(stop)
    return Adjacency(item.negated, tuple(stems(word) for word in item.words), item.idents, stop)


def _item(item: Item, reader: IndexReader, expansions: Expansions) -> PlanItem:
    """The alternatives of an item that can match at all, given the terms in the index."""
    words = [w for w in item.words if not is_stop_word(w)] or list(item.words)
    alternatives = []
    for field, boost in FIELDS:
        terms = tuple(_terms(field, word, reader, item.prefix, expansions) for word in words)
        if terms and all(terms):
            alternatives.append(Alternative(field, boost, terms))
    alternatives += [
        Alternative("ident", IDENT_BOOST, ((ident,),))
        for ident in item.idents
        if ("ident", ident) in reader
    ]
    # The unit that is clause 12.3 (or article 12) itself, above those that mention it.
    numbers = item.idents or (
        item.words if len(item.words) == 1 and item.words[0].isdigit() else ()
    )
    alternatives += [
        Alternative("number", IDENT_BOOST, ((number,),))
        for number in numbers
        if ("number", number) in reader
    ]
    return PlanItem(tuple(alternatives))


def _terms(
    field: str, word: str, reader: IndexReader, prefix: bool, expansions: Expansions
) -> tuple[str, ...]:
    """Those of a word's stems (and prefix expansions) that the field holds."""
    terms = list(stems(word)) + (_expand(reader, field, word, expansions) if prefix else [])
    return tuple(t for t in dict.fromkeys(terms) if (field, t) in reader)


@lru_cache(maxsize=1024)
def _ending_stems(prefix: str) -> tuple[str, ...]:
    """The stems of a prefix with each of the common endings (pure, so cached)."""
    return tuple(dict.fromkeys(stem for ending in ENDINGS for stem in stems(prefix + ending)))


def _expand(reader: IndexReader, field: str, prefix: str, expansions: Expansions) -> list[str]:
    """The indexed stems of a field for the words that start with a prefix, at most
    MAX_EXPANSION (QueryRefused beyond), each prefix and field looked up once per query.

    The index holds stems only, and a stem may be shorter than the prefix ("termination" and
    "terminate" are indexed as "termin", which "terminat" does not start). So the stems of
    the prefix with common English and Dutch endings come first, then every indexed stem that
    starts with the prefix.
    """
    if (field, prefix) in expansions:
        return expansions[(field, prefix)]
    found = [stem for stem in _ending_stems(prefix) if (field, stem) in reader]
    if len(found) > MAX_EXPANSION:
        raise QueryRefused("too_broad", TOO_BROAD)
    for term in reader.expand_prefix(field, prefix):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        if text not in found:
            found.append(text)
        if len(found) > MAX_EXPANSION:
            raise QueryRefused("too_broad", TOO_BROAD)
    expansions[(field, prefix)] = found
    return found


def _highlight(parsed: ParsedQuery, reader: IndexReader, expansions: Expansions) -> frozenset[str]:
    """Body stems to mark in snippets: those of positive words (stop words only if alone)."""
    items = parsed.positive
    own = [item for item in items if item.concept is None]
    chosen = [w for item in own for w in item.words if not is_stop_word(w)]
    if not chosen:
        chosen = [w for item in own for w in item.words]
    terms = {stem for word in chosen for stem in stems(word)}
    # Thesaurus terms are marked too, so a hit shows why it matched.
    terms.update(
        stem
        for item in items
        if item.concept
        for word in item.words
        if not is_stop_word(word)
        for stem in stems(word)
    )
    for item in items:
        if item.prefix:
            terms.update(_expand(reader, "body", item.words[-1], expansions))
    return frozenset(terms)

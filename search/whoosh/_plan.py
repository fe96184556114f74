"""From parsed query items to a plan: per item, the terms to look up in each field.

An item (word, compound word or phrase) matches a unit when all its content words occur in
one field (each word through any of its stems), or when one of its identifiers does. Exact
adjacency of multi-word items, stop words included, is checked afterwards on the permitted
candidates only (see index_adjacency): Whoosh's phrase matching decoded the positions of "of"
in nearly every unit before any permission filter applied. For a required item (a phrase,
``+non-compete``) the check removes units; for an optional one (``non-compete``) it only
decides whether the item counts as held. Scores are Whoosh's BM25F, computed from the same
statistics Whoosh uses (collection idf and average field length), times the item's weight.

Each item carries its coordination groups: the indexes of the distinct keys it counts under
(`ParsedQuery.coordination`), none when it does not count (an expansion of its own).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search.analysis import alternatives as ways_to_match
from search.analysis import is_stop_word, stems
from search.planning import (
    FIELDS,
    IDENT_BOOST,
    MAX_EXPANSION,
    MAX_QUERY_EXPANSION,
    PART_BOOST,
    TOO_BROAD,
    TOO_SLOW,
    concept_blocks,
    ending_stems,
    item_fields,
    sequence_fields,
)
from search.query import Item, ParsedQuery, QueryRefused
from search.whoosh._codec import holds
from search.whoosh._tables import SCORED_FIELDS

__all__ = ["EMPTY", "Adjacency", "Alternative", "Plan", "PlanItem", "make_plan"]


@dataclass(frozen=True)
class Alternative:
    """One way for an item to match: every word (any of its terms) in one field."""

    field: str
    boost: float
    words: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class PlanItem:
    """The alternatives of one item; it matches a unit when any alternative does.

    `required`: a unit must hold it; `weight` multiplies its score; `groups`: the coordination
    groups it counts in (none: not counted); `check`: index in Plan.optional_checks of the
    adjacency check that decides whether an optional multi-word item is held, or -1; `block`:
    the concept whose added terms' scores are blended (planning.concept_blocks), or -1.
    """

    alternatives: tuple[Alternative, ...]
    required: bool = True
    weight: float = 1.0
    groups: tuple[int, ...] = ()
    check: int = -1
    block: int = -1


@dataclass(frozen=True)
class Adjacency:
    """A multi-word item: its words must follow each other in one field, or an identifier match,
    or (a hyphenated compound) one of the stems of its words written as one word."""

    negated: bool
    words: tuple[tuple[str, ...], ...]
    idents: tuple[str, ...]
    stop: tuple[bool, ...]
    joined: tuple[str, ...] = ()
    fields: tuple[str, ...] = tuple(field for field, _ in FIELDS)


@dataclass(frozen=True)
class Plan:
    """What to evaluate for a query; no items means nothing can match."""

    items: tuple[PlanItem, ...]
    excluded: tuple[PlanItem, ...] = ()
    checks: tuple[Adjacency, ...] = ()  # filters: required and excluded multi-word items
    optional_checks: tuple[Adjacency, ...] = ()  # decide whether an optional item is held
    groups: int = 0  # coordination groups a unit holding all of the user's items holds
    highlight: frozenset[str] = frozenset()
    idf: dict[tuple[str, str], float] | None = None
    average_length: dict[str, float] | None = None
    deadline: float | None = None  # time.thread_time() after which matching gives up

    def check_time(self) -> None:
        """Raise QueryRefused once the plan's deadline has passed.

        The deadline is in this thread's CPU time: a search of a large index right after a
        start reads much of it from disk (a cold first search at 100,000 documents took over
        5 s, nearly all waiting), and a busy machine stretches every search's wall clock; the
        limit is meant for the work a query asks for, which CPU time measures."""
        if self.deadline is not None and time.thread_time() >= self.deadline:
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
    positive = parsed.positive
    keys = parsed.coordination()
    groups = {key: number for number, key in enumerate(dict.fromkeys(k for ks in keys for k in ks))}
    fields = item_fields(parsed)
    optional_checks: list[Adjacency] = []
    checks: list[Adjacency] = []
    items = []
    blocks = concept_blocks(parsed)
    for item, item_keys, its_fields, block in zip(positive, keys, fields, blocks, strict=True):
        planned = _item(item, reader, expansions, its_fields)
        check = -1
        if len(item.words) > 1:
            if item.required:
                checks.append(_adjacency(item, its_fields))
            else:
                check = len(optional_checks)
                optional_checks.append(_adjacency(item, its_fields))
        items.append(
            PlanItem(
                planned.alternatives,
                item.required,
                item.weight,
                tuple(groups[k] for k in item_keys),
                check,
                block,
            )
        )
    if any(item.required and not item.alternatives for item in items):
        return EMPTY
    # An optional item that the index cannot match still counts in `groups`: no unit then
    # holds every word, and the ranking goes by how many words a unit does hold.
    items = [item for item in items if item.alternatives]
    if not items:
        return EMPTY
    excluded = [_item(item, reader, expansions) for item in parsed.negative if len(item.words) == 1]
    if sum(len(found) for found in expansions.values()) > MAX_QUERY_EXPANSION:
        raise QueryRefused("too_broad", TOO_BROAD)
    checks += [_adjacency(item) for item in parsed.negative if len(item.words) > 1]
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
        tuple(checks),
        tuple(optional_checks),
        len(groups),
        _highlight(parsed, reader, expansions),
        {term: searcher.idf(*term) for term in terms},
        {field: searcher.avg_field_length(field) or 1.0 for field in SCORED_FIELDS},
    )


def _adjacency(item: Item, fields: tuple[tuple[str, float], ...] = FIELDS) -> Adjacency:
    """The adjacency check of a multi-word item in some fields; stop words are marked unless
    all words are."""
    stop = tuple(is_stop_word(word) for word in item.words)
    if all(stop):
        stop = (False,) * len(stop)
    joined = stems(item.joined) if item.joined else ()
    words = tuple(stems(word) for word in item.words)
    names = sequence_fields(fields)
    return Adjacency(item.negated, words, item.idents, stop, joined, names)


def _item(
    item: Item,
    reader: IndexReader,
    expansions: Expansions,
    fields: tuple[tuple[str, float], ...] = FIELDS,
) -> PlanItem:
    """The alternatives of an item that can match at all in some fields (and by identifier or
    clause number), given the terms in the index."""
    words = [w for w in item.words if not is_stop_word(w)] or list(item.words)
    alternatives = []
    for field, boost in fields:
        terms = tuple(_terms(field, word, reader, item.prefix, expansions) for word in words)
        if terms and all(terms):
            alternatives.append(Alternative(field, boost, terms))
        if len(words) == 1 and not item.prefix:
            alternatives += _compound(field, boost, words[0], reader)
        if item.joined and (joined := _terms(field, item.joined, reader, False, expansions)):
            alternatives.append(Alternative(field, boost, (joined,)))
    alternatives += [
        Alternative("ident", IDENT_BOOST, ((ident,),))
        for ident in item.idents
        if holds(reader, "ident", ident)
    ]
    # The unit that is clause 12.3 (or article 12) itself, above those that mention it.
    numbers = item.idents or (
        item.words if len(item.words) == 1 and item.words[0].isdigit() else ()
    )
    alternatives += [
        Alternative("number", IDENT_BOOST, ((number,),))
        for number in numbers
        if holds(reader, "number", number)
    ]
    return PlanItem(tuple(alternatives))


def _compound(field: str, boost: float, word: str, reader: IndexReader) -> list[Alternative]:
    """A compound word's other way to match: all of its parts in the field (see analysis)."""
    found = []
    for way in ways_to_match(word)[1:]:
        terms = tuple(tuple(t for t in part if holds(reader, field, t)) for part in way)
        if all(terms):
            found.append(Alternative(field, boost * PART_BOOST, terms))
    return found


def _terms(
    field: str, word: str, reader: IndexReader, prefix: bool, expansions: Expansions
) -> tuple[str, ...]:
    """Those of a word's stems (and prefix expansions) that the field holds."""
    terms = list(stems(word)) + (_expand(reader, field, word, expansions) if prefix else [])
    return tuple(t for t in dict.fromkeys(terms) if holds(reader, field, t))


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
    found = [stem for stem in ending_stems(prefix) if holds(reader, field, stem)]
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
    chosen = [w for item in items for w in item.words if not is_stop_word(w)]
    if not chosen:
        chosen = [w for item in items for w in item.words]
    # A compound's parts too: "opzegtermijn" marks "termijn" and "opzegging".
    terms = {stem for word in chosen for way in ways_to_match(word) for w in way for stem in w}
    terms.update(stem for item in items if item.joined for stem in stems(item.joined))
    for item in items:
        if item.prefix:
            terms.update(_expand(reader, "body", item.words[-1], expansions))
    return frozenset(terms)

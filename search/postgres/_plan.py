"""From parsed query items to a plan: per item, the lexemes to look for in each field.

The same meaning as the embedded index (search.query, and search.whoosh's plan): an item
matches a unit when all its content words occur in one field (each word through any of its
stems, a Dutch compound also through all of its parts), or one of its identifiers does, or it
is the unit's own clause number; a multi-word item must moreover have its words in sequence in
one field, or its identifier. Fields weigh 1 (body), 0.5 (meta), 0.5 (heading: the user's own
plain words only, search.planning.HEADING) and 2 (identifier, number).
Only lexemes the index holds take part (the lexicon says which, with their document
frequencies for BM25's idf), and a wildcard expands to at most MAX_EXPANSION of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import log

from search.analysis import alternatives as ways_to_match
from search.analysis import is_stop_word, stems
from search.planning import (
    FIELDS,
    HEADING,
    IDENT_BOOST,
    MAX_EXPANSION,
    MAX_QUERY_EXPANSION,
    PART_BOOST,
    TOO_BROAD,
    concept_blocks,
    ending_stems,
    item_fields,
    sequence_fields,
)
from search.postgres._rows import lexeme
from search.query import Item, ParsedQuery, QueryRefused

__all__ = ["Alternative", "Lexicon", "Plan", "PlanItem", "Sequence", "make_plan", "wanted"]


@dataclass
class Lexicon:
    """What the index holds: document frequency per lexeme, the unit count, the average field
    lengths, and a way to list the lexemes that start with a prefix (at most `limit`)."""

    frequency: dict[str, int]
    units: int
    average: dict[str, float]
    starting: Callable[[str, int], dict[str, int]]

    def __contains__(self, name: str) -> bool:
        return name in self.frequency

    def idf(self, name: str) -> float:
        """Whoosh's idf: log(N / (df + 1)) + 1."""
        return log(self.units / (self.frequency[name] + 1)) + 1


@dataclass(frozen=True)
class Alternative:
    """One way for an item to match: every word (any of its lexemes) in one field."""

    field: str
    boost: float
    words: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Sequence:
    """A multi-word item's check: its words (stems) in sequence in one of its fields (body,
    and meta unless the item must match the text), or an identifier, or (a hyphenated
    compound) one of the stems of its words written as one."""

    words: tuple[tuple[str, ...], ...]
    idents: tuple[str, ...]
    joined: tuple[str, ...] = ()
    fields: tuple[str, ...] = tuple(field for field, _ in FIELDS)


@dataclass(frozen=True)
class PlanItem:
    """The alternatives of an item; `groups` are the coordination groups it counts in (none:
    it does not count), `sequence` the check a multi-word item must also pass and `block` the
    concept whose added terms' scores are blended (planning.concept_blocks), or -1."""

    alternatives: tuple[Alternative, ...]
    required: bool = True
    weight: float = 1.0
    groups: tuple[int, ...] = ()
    sequence: Sequence | None = None
    block: int = -1


@dataclass(frozen=True)
class Plan:
    """What to evaluate; no items means nothing can match."""

    items: tuple[PlanItem, ...]
    excluded: tuple[PlanItem, ...] = ()
    excluded_sequences: tuple[Sequence, ...] = ()
    groups: int = 0
    highlight: frozenset[str] = frozenset()


EMPTY = Plan(())


def wanted(parsed: ParsedQuery) -> set[str]:
    """Every lexeme a plan may use apart from wildcard expansions, to look up in one go."""
    found: set[str] = set()
    for item in parsed.items:
        for word in _content(item):
            for field, _ in (*FIELDS, HEADING):
                found.update(lexeme(field, s) for s in stems(word))
                for way in ways_to_match(word)[1:]:
                    found.update(lexeme(field, s) for part in way for s in part)
                if item.prefix:
                    found.update(lexeme(field, s) for s in ending_stems(word))
        if item.joined:
            found.update(lexeme(f, s) for f, _ in (*FIELDS, HEADING) for s in stems(item.joined))
        found.update(lexeme("ident", ident) for ident in item.idents)
        found.update(lexeme("number", number) for number in _numbers(item))
    return found


def make_plan(parsed: ParsedQuery, lexicon: Lexicon) -> Plan:
    """The plan of a parsed query against the lexemes the index holds."""
    expansions: dict[tuple[str, str], list[str]] = {}
    positive = parsed.positive
    keys = parsed.coordination()
    groups = {key: number for number, key in enumerate(dict.fromkeys(k for ks in keys for k in ks))}
    fields = item_fields(parsed)
    items = []
    blocks = concept_blocks(parsed)
    for item, item_keys, its_fields, block in zip(positive, keys, fields, blocks, strict=True):
        items.append(
            PlanItem(
                _alternatives(item, lexicon, expansions, its_fields),
                item.required,
                item.weight,
                tuple(groups[k] for k in item_keys),
                _sequence(item, its_fields) if len(item.words) > 1 else None,
                block,
            )
        )
    if any(item.required and not item.alternatives for item in items):
        return EMPTY
    items = [item for item in items if item.alternatives]
    if not items:
        return EMPTY
    excluded = [
        PlanItem(_alternatives(item, lexicon, expansions))
        for item in parsed.negative
        if len(item.words) == 1
    ]
    if sum(len(found) for found in expansions.values()) > MAX_QUERY_EXPANSION:
        raise QueryRefused("too_broad", TOO_BROAD)
    return Plan(
        tuple(items),
        tuple(item for item in excluded if item.alternatives),
        tuple(_sequence(item) for item in parsed.negative if len(item.words) > 1),
        len(groups),
        _highlight(parsed, lexicon, expansions),
    )


def _content(item: Item) -> list[str]:
    return [w for w in item.words if not is_stop_word(w)] or list(item.words)


def _numbers(item: Item) -> tuple[str, ...]:
    return item.idents or (item.words if len(item.words) == 1 and item.words[0].isdigit() else ())


def _sequence(item: Item, fields: tuple[tuple[str, float], ...] = FIELDS) -> Sequence:
    joined = stems(item.joined) if item.joined else ()
    names = sequence_fields(fields)
    return Sequence(tuple(stems(word) for word in item.words), item.idents, joined, names)


def _alternatives(
    item: Item,
    lexicon: Lexicon,
    expansions: dict[tuple[str, str], list[str]],
    fields: tuple[tuple[str, float], ...] = FIELDS,
) -> tuple[Alternative, ...]:
    """The alternatives of an item that can match at all in some fields (and by identifier
    or clause number), given the lexemes in the index."""
    words = _content(item)
    found = []
    for field, boost in fields:
        names = tuple(_lexemes(field, word, lexicon, item.prefix, expansions) for word in words)
        if names and all(names):
            found.append(Alternative(field, boost, names))
        if len(words) == 1 and not item.prefix:
            for way in ways_to_match(words[0])[1:]:
                parts = tuple(
                    tuple(n for n in (lexeme(field, s) for s in part) if n in lexicon)
                    for part in way
                )
                if all(parts):
                    found.append(Alternative(field, boost * PART_BOOST, parts))
        if item.joined and (joined := _lexemes(field, item.joined, lexicon, False, expansions)):
            found.append(Alternative(field, boost, (joined,)))
    for field, values in (("ident", item.idents), ("number", _numbers(item))):
        found += [
            Alternative(field, IDENT_BOOST, ((lexeme(field, value),),))
            for value in values
            if lexeme(field, value) in lexicon
        ]
    return tuple(found)


def _lexemes(
    field: str,
    word: str,
    lexicon: Lexicon,
    prefix: bool,
    expansions: dict[tuple[str, str], list[str]],
) -> tuple[str, ...]:
    """Those of a word's stems (and a wildcard's expansions) that the field holds."""
    names = [lexeme(field, s) for s in stems(word)]
    if prefix:
        names += [lexeme(field, s) for s in _expand(field, word, lexicon, expansions)]
    return tuple(n for n in dict.fromkeys(names) if n in lexicon)


def _expand(
    field: str, prefix: str, lexicon: Lexicon, expansions: dict[tuple[str, str], list[str]]
) -> list[str]:
    """The terms of a field for the words that start with a prefix (QueryRefused past
    MAX_EXPANSION): stems of the prefix with common endings first, then the lexicon's."""
    if (field, prefix) in expansions:
        return expansions[(field, prefix)]
    found = [s for s in ending_stems(prefix) if lexeme(field, s) in lexicon]
    if len(found) > MAX_EXPANSION:
        raise QueryRefused("too_broad", TOO_BROAD)
    start = len(lexeme(field, ""))
    listed = lexicon.starting(lexeme(field, prefix), MAX_EXPANSION + 1)
    lexicon.frequency.update(listed)
    for name in listed:
        term = name[start:]
        if term not in found:
            found.append(term)
        if len(found) > MAX_EXPANSION:
            raise QueryRefused("too_broad", TOO_BROAD)
    expansions[(field, prefix)] = found
    return found


def _highlight(
    parsed: ParsedQuery, lexicon: Lexicon, expansions: dict[tuple[str, str], list[str]]
) -> frozenset[str]:
    """Body stems to mark in snippets: those of positive words (stop words only if alone)."""
    items = parsed.positive
    chosen = [w for item in items for w in item.words if not is_stop_word(w)]
    if not chosen:
        chosen = [w for item in items for w in item.words]
    found = {stem for word in chosen for way in ways_to_match(word) for w in way for stem in w}
    found.update(stem for item in items if item.joined for stem in stems(item.joined))
    for item in items:
        if item.prefix:
            found.update(_expand("body", item.words[-1], lexicon, expansions))
    return frozenset(found)

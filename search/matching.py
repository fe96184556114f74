"""Matching one unit against a parsed query without an index, for backends that scan.

The meaning is that of the index (see `search.query` and the Whoosh backend's plan): a unit's
searchable fields are its body (heading and text, stemmed in the language its stop words point
at), its metadata (title, supplier and dossier reference, stemmed in both languages), its
identifiers (``7:408``, ``2025-017``, kept whole) and its own clause number. A word matches
through any of its stems; an item (word, compound word or phrase) matches when all its content
words occur in one field, or one of its identifiers does, or it is the unit's clause number;
a multi-word item must moreover have its words in sequence (stop words included) in one field,
or its identifier, or (a hyphenated compound) its words written as one word in one field. The
items combine as ranked OR (`search.query`): every required item (``+word``, a phrase) must
match, and at least one item must match outside the metadata; an excluded word or phrase must
not. Metadata counts only when the query has several items. A matching unit's coordination is
how many of the query's counted items (`ParsedQuery.coordination`) it holds: the scanning
backend orders by it, as the index orders its tiers. A trailing ``*`` matches a word that
starts with the prefix or whose stem does.
"""

from __future__ import annotations

from dataclasses import dataclass

from search.analysis import (
    alternatives,
    fold,
    identifiers,
    is_stop_word,
    language,
    stems,
    terms,
    word_list,
)
from search.query import Item, ParsedQuery
from search.types import Unit

__all__ = ["Matcher", "body_text", "hint_words"]

# At most this many hint words go to a source (each becomes a condition in its query).
MAX_HINTS = 8


def body_text(unit: Unit) -> str:
    """The searched and highlighted body: the heading (unless the text starts with it), then
    the text."""
    heading = unit.heading.strip()
    if not heading or unit.text.lstrip().startswith(heading):
        return unit.text
    return f"{heading}\n{unit.text}"


class _Field:
    """The folded words of one field with the stems indexed at each position."""

    def __init__(self, text: str, detect: bool) -> None:
        self.words = word_list(text)
        lang = language(self.words) if detect else None
        # What the index holds at each position: the stems, and a Dutch compound's parts.
        self.stems = [terms(word, lang) for word in self.words]

    def places(self, word: str, prefix: bool) -> list[int]:
        """Positions where a query word (or, with `prefix`, a word it starts) occurs."""
        wanted = frozenset(stems(word))
        return [
            position
            for position, found in enumerate(self.stems)
            if not wanted.isdisjoint(found)
            or (prefix and _starts(self.words[position], found, word))
        ]

    def holds(self, word: str, prefix: bool) -> bool:
        """Whether a query word occurs: by its stems, by a wildcard's prefix, or (a Dutch
        compound) by all of its parts, as the index's plan matches it."""
        if self.places(word, prefix):
            return True
        if prefix:
            return False
        return any(
            all(any(not frozenset(part).isdisjoint(f) for f in self.stems) for part in way)
            for way in alternatives(word)[1:]
        )

    def has_sequence(self, words: tuple[str, ...]) -> bool:
        """Whether the words occur one after the other somewhere in this field."""
        starts = set(self.places(words[0], False))
        for offset, word in enumerate(words[1:], start=1):
            starts &= {p - offset for p in self.places(word, False)}
            if not starts:
                return False
        return bool(starts)


def _starts(word: str, found: tuple[str, ...], prefix: str) -> bool:
    """Whether a word or one of its stems starts with a wildcard's prefix."""
    return word.startswith(prefix) or any(stem.startswith(prefix) for stem in found)


class _Fields:
    """The analysed fields of one unit."""

    def __init__(self, unit: Unit) -> None:
        body = body_text(unit)
        meta = " \n".join(filter(None, (unit.title, unit.supplier, unit.dossier_reference)))
        self.body = _Field(body, detect=True)
        self.meta = _Field(meta, detect=False)
        self.idents = frozenset(identifiers(f"{body}\n{meta}"))
        self.number = fold(unit.clause_number.strip().rstrip(".")) if unit.clause_number else ""


@dataclass(frozen=True)
class Matcher:
    """A parsed query, ready to be tried on units one by one."""

    query: ParsedQuery

    def match(self, unit: Unit) -> tuple[frozenset[str], int] | None:
        """None when the unit does not match; else the body stems to mark in its snippet and
        the number of coordination groups it holds."""
        fields = _Fields(unit)
        groups = self._accepts(fields)
        return None if groups is None else (self._marked(fields), groups)

    def _accepts(self, fields: _Fields) -> int | None:
        """The combination of search.query (ranked OR): every required item holds, at least
        one item holds outside the metadata (where only a user's word beside other words of
        theirs may hold: ParsedQuery.metadata_allowed), no negative one holds. Returns the
        coordination groups held, or None."""
        positive = self.query.positive
        allowed = self.query.metadata_allowed()
        held = [
            _item_matches(item, fields, meta) for item, meta in zip(positive, allowed, strict=True)
        ]
        if not all(h for h, item in zip(held, positive, strict=True) if item.required):
            return None
        if not any(
            _item_matches(item, fields, False) for item, h in zip(positive, held, strict=True) if h
        ):
            return None
        if any(_item_matches(i, fields, True, negated=True) for i in self.query.negative):
            return None
        keys = self.query.coordination()
        return len({key for item_keys, h in zip(keys, held, strict=True) if h for key in item_keys})

    def _marked(self, fields: _Fields) -> frozenset[str]:
        """Stems of the positive words (stop words only when alone) and of the body words that
        a wildcard matched."""
        items = self.query.positive
        chosen = [w for item in items for w in item.words if not is_stop_word(w)]
        marked = {
            stem
            for word in chosen or [w for i in items for w in i.words]
            for way in alternatives(word)
            for part in way
            for stem in part
        }
        marked.update(stem for item in items if item.joined for stem in stems(item.joined))
        for item in items:
            if item.prefix:
                for position in fields.body.places(item.words[-1], True):
                    marked.update(stems(fields.body.words[position]))
        return frozenset(marked)


def _item_matches(item: Item, fields: _Fields, with_meta: bool, negated: bool = False) -> bool:
    """Whether one item holds in a unit (a negated single word in any field; a negated
    phrase only in sequence)."""
    searched = (fields.body, fields.meta) if with_meta else (fields.body,)
    if len(item.words) > 1:
        in_sequence = not fields.idents.isdisjoint(item.idents) or any(
            field.has_sequence(item.words) or (item.joined and field.places(item.joined, False))
            for field in searched
        )
        if negated or not in_sequence:
            return bool(in_sequence)
    content = [w for w in item.words if not is_stop_word(w)] or list(item.words)
    if any(all(field.holds(w, item.prefix) for w in content) for field in searched):
        return True
    if item.joined and any(field.places(item.joined, False) for field in searched):
        return True
    if not fields.idents.isdisjoint(item.idents):
        return True
    numbers = item.idents or (
        item.words if len(item.words) == 1 and item.words[0].isdigit() else ()
    )
    return bool(fields.number) and fields.number in numbers


def hint_words(query: ParsedQuery) -> list[str]:
    """Lower-case words that a source may require (as substrings) of what it yields: those of
    the required items when the query has any, else those of the optional items, of which a
    match holds at least one (`ScanBackend` then asks its source once per hint).

    Each is the part of a positive content word that its stems share with it, less its last
    letter when stemming changed the word (``opzeg`` for ``opzeggen``, ``bro`` for ``broden``,
    whose stem ``brod`` is also that of ``brood``), so other forms of the word are found too.
    A source may ignore them; the backend matches every unit it gets anyway. Words written
    with accents or ``ß`` where the query has none may be missed by a source that compares
    raw text.
    """
    hints: list[str] = []
    for item in query.required or query.positive:
        content = [w for w in item.words if not is_stop_word(w)] or list(item.words)
        for word in content:
            common = word
            for stem in stems(word):
                common = _common_prefix(common, stem)
            if common != word and len(common) > 3:
                common = common[:-1]
            if common and common not in hints:
                hints.append(common)
    return hints[:MAX_HINTS]


def _common_prefix(one: str, other: str) -> str:
    size = 0
    for a, b in zip(one, other, strict=False):
        if a != b:
            break
        size += 1
    return one[:size]

"""User query text: refusal of dangerous syntax and parsing into words and phrases.

Users type plain words (all must occur in one unit: AND), phrases in double quotes, ``-word`` or
``-"a phrase"`` to exclude, and a trailing ``*`` after at least three letters (in at most
MAX_WILDCARDS words of one query, since each expands to many indexed words). Nothing else of
Whoosh's query language is understood: field names, ranges, boosts, fuzzy terms and grouping are
refused before anything runs, because Whoosh's time limit does not work outside the main thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from search.analysis import identifiers, is_stop_word, words

__all__ = ["Item", "ParsedQuery", "QueryRefused", "parse_query", "validate_query"]

MAX_QUERY_CHARS = 256
MAX_ITEMS = 24
MIN_PREFIX = 3
MAX_WILDCARDS = 4

_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'})
_CHUNK_RE = re.compile(r'-?"[^"]*"|\S+')
_FIELD_RE = re.compile(r"^[A-Za-z_]+:[\w\"*?(]")


class QueryRefused(ValueError):
    """A query that is not run; ``str(exc)`` is a message for the user, ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Item:
    """One word, compound word (``7:408``) or phrase of a query, with its folded words.

    ``required`` marks an item every hit must hold when ranking is OR (phrases, ``+word``);
    ``weight`` multiplies the item's score; ``concept`` names the thesaurus concept of an item
    that query expansion added (``search.expansion``), which is never required.
    """

    words: tuple[str, ...]
    idents: tuple[str, ...] = ()
    negated: bool = False
    prefix: bool = False
    phrase: bool = False
    required: bool = False
    weight: float = 1.0
    concept: str | None = None


@dataclass(frozen=True)
class ParsedQuery:
    """The positive and negative items of a query."""

    items: tuple[Item, ...]

    @property
    def positive(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if not item.negated)

    @property
    def expensive(self) -> bool:
        """Whether the query expands wildcards, the costly kind that is rate-limited per user."""
        return any(item.prefix for item in self.items)

    @property
    def negative(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.negated)


def validate_query(text: str) -> None:
    """Raise QueryRefused when a query would be refused; return silently otherwise."""
    parse_query(text)


def parse_query(text: str) -> ParsedQuery:
    """Check a query for refused syntax and split it into items."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryRefused(
            "too_long", f"The search text is too long (at most {MAX_QUERY_CHARS} characters)."
        )
    text = text.translate(_QUOTES)
    _refuse_syntax(text)
    items = [item for chunk in _CHUNK_RE.findall(text) for item in _chunk_items(chunk)]
    if len(items) > MAX_ITEMS:
        raise QueryRefused("too_long", f"Use at most {MAX_ITEMS} words or phrases.")
    if sum(item.prefix for item in items) > MAX_WILDCARDS:
        raise QueryRefused(
            "too_many_wildcards", f"Use a * wildcard in at most {MAX_WILDCARDS} words."
        )
    items = _drop_loose_stop_words(items)
    if not any(not item.negated for item in items):
        raise QueryRefused("empty", "Type one or more words to search for.")
    return ParsedQuery(tuple(items))


_OPERATORS = frozenset({"AND", "OR", "NOT", "&&", "||"})


def _refuse_syntax(text: str) -> None:
    """Refuse ranges, unbalanced quotes or brackets, and operators we do not support."""
    if any(c in text for c in "[]{}"):
        raise QueryRefused("range", "Ranges such as [a TO z] are not supported; use the filters.")
    if text.count('"') % 2:
        raise QueryRefused("syntax", "Close the quotation marks around a phrase.")
    if any(c in text for c in "^~\\"):
        raise QueryRefused(
            "characters", "The characters ^, ~ and \\ are not supported in a search."
        )
    depth = 0
    for c in text:
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth < 0 or depth > 1:
            raise QueryRefused("syntax", "Brackets in the search text do not match up.")
    if depth:
        raise QueryRefused("syntax", "Brackets in the search text do not match up.")
    words = text.replace("(", " ").replace(")", " ").split()
    if words and all(word in _OPERATORS for word in words):
        raise QueryRefused("only_operators", "The search holds only operators; type words too.")
    if re.search(r"(^|\s)(OR|NOT|\|\||&&)(\s|$)", text):
        raise QueryRefused(
            "operator", "OR and NOT are not supported; use -word to leave a word out."
        )


def _chunk_items(chunk: str) -> list[Item]:
    """Turn one whitespace-separated chunk or quoted phrase into zero or more items."""
    negated = chunk.startswith("-")
    body = chunk[1:] if negated or chunk.startswith("+") else chunk
    if body.startswith('"'):
        found = tuple(word for word, _, _ in words(body))
        return [Item(found, negated=negated, phrase=True)] if found else []
    body = body.strip("()")
    if _FIELD_RE.match(body):
        raise QueryRefused(
            "field", "Field searches (name:value) are not supported; use the filters."
        )
    body, prefix = _wildcard(body)
    found = tuple(word for word, _, _ in words(body))
    if not found:
        return []
    return [Item(found, tuple(identifiers(body)), negated, prefix)]


def _wildcard(body: str) -> tuple[str, bool]:
    """Strip an allowed trailing ``*`` (and a question mark ending a question); refuse the rest."""
    stripped = body.rstrip("?!.,;:")
    if stripped.startswith(("*", "?")) or body.startswith(("*", "?")):
        raise QueryRefused("leading_wildcard", "A search word cannot start with * or ?.")
    if "?" in stripped or "*" in stripped[:-1]:
        raise QueryRefused("wildcard", "Only a * at the end of a word is supported as a wildcard.")
    if not stripped.endswith("*"):
        return body, False
    prefix = stripped[:-1]
    if len([w for w, _, _ in words(prefix)]) != 1 or len(prefix) < MIN_PREFIX:
        raise QueryRefused(
            "short_prefix", f"Put at least {MIN_PREFIX} letters before a * wildcard."
        )
    return prefix, True


def _drop_loose_stop_words(items: list[Item]) -> list[Item]:
    """Leave out unquoted single stop words unless nothing else is left."""
    kept = [
        item
        for item in items
        if item.phrase or item.negated or len(item.words) > 1 or not is_stop_word(item.words[0])
    ]
    return kept if any(not item.negated for item in kept) else items

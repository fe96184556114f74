"""User query text: refusal of dangerous syntax and parsing into words and phrases.

Users type plain words, phrases in double quotes, ``+word`` to require a word, ``-word`` or
``-"a phrase"`` to exclude, and a trailing ``*`` after at least three letters (in at most
MAX_WILDCARDS words of one query, since each expands to many indexed words). Nothing else of
Whoosh's query language is understood: field names, ranges, boosts, fuzzy terms and grouping are
refused before anything runs, because Whoosh's time limit does not work outside the main thread.

Meaning (ranked OR with coordination; every backend implements it):
- a plain word (or compound such as ``non-compete`` or ``7:408``) is optional: a unit matches
  when it holds at least one of the optional items, unless the query has required items;
- a compound of letters joined by hyphens (``non-compete``, ``e-mail``) is held where its words
  follow each other or where they are written as one word (``noncompete``, ``email``);
- ``+word`` and every phrase are required (``Item.required``); ``-word`` excludes;
- units holding every counted item come first, then by how many they hold, then by score
  (see the backends' ranking). An item's ``weight`` multiplies its score contribution; items
  with a weight below 1 are expansions (a thesaurus adds them, with a ``concept``): they add
  score, and count for coordination only through a concept that items of the user's name,
  as each of those items (``ParsedQuery.coordination``).
- ``soort:aansprakelijkheid`` or ``type:liability`` (a clause type by its id or label, Dutch or
  English; several words joined by ``_`` or ``-``, or quoted: ``soort:"gevolgen van
  beëindiging"``) is not a word but a filter on the clause type (`ParsedQuery.type_names`,
  resolved by `search.clause_types.requested_types`); a query of only type filters lists the
  clauses of those types. No other field name is understood.
- stop words: a loose stop word ("the", "van") is dropped when the query has any other word, so
  it neither matches nor counts for coordination; a query of only stop words searches them as
  ordinary optional words; inside phrases stop words are part of the exact sequence, and
  ``+the`` keeps a stop word as a required word. The words that ask what was agreed
  ("afgesproken", "agreed") drop alike, unless part of a thesaurus wording the query names
  (`search.expansion.drop_asking_words`, applied by `search.planning.parse_request`).
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
_TYPE_FIELDS = ("soort", "type")
_CHUNK_RE = re.compile(r'[-+]?(?i:soort|type):"[^"]*"|[-+]?"[^"]*"|\S+')
_FIELD_RE = re.compile(r"^[A-Za-z_]+:[\w\"*?(]")
# Letters (no digits) joined by hyphens: "non-compete", "e-mail"; not "2025-017" or "7:408".
_HYPHENATED_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")
_TYPE_RE = re.compile(r'^(?i:soort|type):(?:"([^"]*)"|(\S+))$')
# "soort: aansprakelijkheid" (a space after the colon) means soort:aansprakelijkheid.
_TYPE_SPACE_RE = re.compile(r"(^|\s)([-+]?(?i:soort|type)):[ \t]+(?=\S)")
# "soort:" with nothing after it.
_TYPE_EMPTY_RE = re.compile(r"^[-+]?(?i:soort|type):$")


class QueryRefused(ValueError):
    """A query that is not run; ``str(exc)`` is a message for the user, ``code`` says why."""

    def __init__(self, code: str, message: str, value: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.value = value  # what the user typed that the message is about, if anything


@dataclass(frozen=True)
class Item:
    """One word, compound word (``7:408``) or phrase of a query, with its folded words.

    `required`: the unit must hold it (``+word``, phrases); otherwise it is optional. `weight`
    multiplies its score contribution (below 1: an expansion, not one of the user's words).
    `concept`: the thesaurus concept a user's word names or an expansion stands for; an
    expansion counts for coordination as the user's items that name its concept
    (`ParsedQuery.coordination`). `whole`: a user's word that is by itself a wording of the
    concept it helps name ("escrow" of "source code escrow"); it counts as an expansion does.
    `joined`: for a compound of letters joined by hyphens, its words written as one word
    (``noncompete``), another way to hold it.
    """

    words: tuple[str, ...]
    idents: tuple[str, ...] = ()
    negated: bool = False
    prefix: bool = False
    phrase: bool = False
    required: bool = False
    weight: float = 1.0
    concept: str | None = None
    joined: str = ""
    whole: bool = False

    @property
    def expansion(self) -> bool:
        """Whether the item was added to the user's words (a lower weight) rather than typed."""
        return self.weight < 1.0


@dataclass(frozen=True)
class ParsedQuery:
    """The positive and negative items of a query."""

    items: tuple[Item, ...]
    # The clause types named with soort:/type:, as typed (search.clause_types resolves them).
    type_names: tuple[str, ...] = ()

    @property
    def positive(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if not item.negated)

    @property
    def required(self) -> tuple[Item, ...]:
        """The positive items a unit must hold."""
        return tuple(item for item in self.positive if item.required)

    @property
    def optional(self) -> tuple[Item, ...]:
        """The positive items a unit may hold (at least one of them when none is required)."""
        return tuple(item for item in self.positive if not item.required)

    def metadata_allowed(self) -> list[bool]:
        """Per positive item, whether it may match in the metadata (title, supplier, dossier
        reference) rather than the text: only a word the user typed beside other words of their
        own ("acme termination"). A query of one word, and every thesaurus expansion, must match
        the text itself, or every clause of an "Insurance agreement" would answer "insurance"."""
        several = sum(not item.expansion for item in self.positive) > 1
        return [several and not item.expansion for item in self.positive]

    def coordination(self) -> list[tuple[object, ...]]:
        """Per positive item, the keys it counts under for coordination (a unit's
        coordination is how many distinct keys the items it holds count under); see `counted`.

        Each of the user's items is a key of its own. An expansion counts under the keys of
        the user's items that name its concept (so "books and records" holds what "audit"
        does, and "payable within thirty days" what both words of "payment terms" do), and
        under none when no user item names it. A clause that holds one word of the user's
        phrase ("terms") therefore counts less than one that holds the concept. A user's item
        that is itself a wording of its concept (`Item.whole`: "escrow" of "source code
        escrow", "liability" of "limitation of liability") counts as the concept's added
        wordings do, under every key that names it as well as its own: otherwise a clause
        holding the word the user typed ranked below one holding "broncode", an added one."""
        keys: list[tuple[object, ...]] = [
            () if item.expansion else (("item", index),) for index, item in enumerate(self.positive)
        ]
        naming: dict[str, list[object]] = {}
        for item, own in zip(self.positive, keys, strict=True):
            if not item.expansion and item.concept is not None:
                naming.setdefault(item.concept, []).extend(own)
        for index, item in enumerate(self.positive):
            if (item.expansion or item.whole) and item.concept is not None:
                keys[index] = tuple(naming.get(item.concept, ()))
        return keys

    @property
    def counted(self) -> int:
        """How many coordination keys a unit holding all of the user's items holds."""
        return len({key for item_keys in self.coordination() for key in item_keys})

    @property
    def expensive(self) -> bool:
        """Whether the query expands wildcards, the costly kind that is rate-limited per user."""
        return any(item.prefix for item in self.items)

    @property
    def negative(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.negated)


def validate_query(text: str, *, browse: bool = False) -> None:
    """Raise QueryRefused when a query would be refused; return silently otherwise."""
    parse_query(text, browse=browse)


def parse_query(text: str, *, browse: bool = False) -> ParsedQuery:
    """Check a query for refused syntax and split it into items and clause-type filters.

    A query without words is refused unless it names a clause type or `browse` says the
    request filters on one: then it lists every unit the filters select.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise QueryRefused(
            "too_long", f"The search text is too long (at most {MAX_QUERY_CHARS} characters)."
        )
    text = _TYPE_SPACE_RE.sub(r"\1\2:", text.translate(_QUOTES))
    _refuse_syntax(text)
    type_names: list[str] = []
    items = []
    for chunk in _CHUNK_RE.findall(text):
        name = _type_name(chunk)
        if name is not None:
            type_names.append(name)
        else:
            items += _chunk_items(chunk)
    if len(items) > MAX_ITEMS:
        raise QueryRefused("too_long", f"Use at most {MAX_ITEMS} words or phrases.")
    if sum(item.prefix for item in items) > MAX_WILDCARDS:
        raise QueryRefused(
            "too_many_wildcards", f"Use a * wildcard in at most {MAX_WILDCARDS} words."
        )
    items = _drop_loose_stop_words(items)
    if not items and (type_names or browse):
        return ParsedQuery((), tuple(type_names))
    if not any(not item.negated for item in items):
        if type_names:
            raise QueryRefused(
                "type_only_exclusions",
                "A clause type (soort:...) with only words to leave out is not supported; "
                "add a word to search for.",
            )
        raise QueryRefused("empty", "Type one or more words to search for.")
    return ParsedQuery(tuple(items), tuple(type_names))


def _type_name(chunk: str) -> str | None:
    """The clause type a ``soort:``/``type:`` chunk names, or None for any other chunk."""
    if chunk.startswith(("-", "+")) and _TYPE_RE.match(chunk[1:]):
        raise QueryRefused(
            "type_operator",
            "A clause type (soort:...) is a filter: it cannot be required or left out with + or -.",
        )
    if _TYPE_EMPTY_RE.match(chunk):
        raise QueryRefused("type_missing", "Name a clause type after soort: or type:.")
    found = _TYPE_RE.match(chunk)
    if found is None:
        return None
    name = (found.group(1) if found.group(1) is not None else found.group(2)).strip()
    if not name:
        raise QueryRefused("unknown_type", "Name a clause type after soort: or type:.")
    return name


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
            "operator",
            "OR and NOT are not needed: every word is optional (results holding all of them "
            "come first); use +word to require a word and -word to leave one out.",
        )


def _chunk_items(chunk: str) -> list[Item]:
    """Turn one whitespace-separated chunk or quoted phrase into zero or more items."""
    negated = chunk.startswith("-")
    required = chunk.startswith("+")
    body = chunk[1:] if negated or required else chunk
    if body.startswith('"'):
        found = tuple(word for word, _, _ in words(body))
        return [Item(found, negated=negated, phrase=True, required=True)] if found else []
    body = body.strip("()")
    if _FIELD_RE.match(body):
        raise QueryRefused(
            "field",
            "Field searches (name:value) are not supported, except soort: (type:) for a clause "
            "type; use the filters.",
        )
    body, prefix = _wildcard(body)
    found = tuple(word for word, _, _ in words(body))
    if not found:
        return []
    hyphenated = len(found) > 1 and _HYPHENATED_RE.fullmatch(body.rstrip("?!.,;:"))
    joined = "".join(found) if hyphenated else ""
    idents = tuple(identifiers(body))
    return [Item(found, idents, negated, prefix, required=required, joined=joined)]


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
    """Leave out unquoted single stop words (not ``+the``) unless nothing else is left."""
    kept = [
        item
        for item in items
        if item.phrase
        or item.negated
        or item.required
        or len(item.words) > 1
        or not is_stop_word(item.words[0])
    ]
    return kept if any(not item.negated for item in kept) else items

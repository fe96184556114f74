"""What every backend's query plan shares, so that a query means the same in each of them.

The fields an item's words may match and their weights, the boost of a compound matched by its
parts, the limits and endings of a trailing wildcard, the refusal texts, and the first steps of
every search: check the request, parse its text (without the words that ask what was agreed:
search.expansion.drop_asking_words), and add the clause types the text names.
"""

from __future__ import annotations

from functools import lru_cache

from search.analysis import stems
from search.clause_types import with_query_types
from search.expansion import drop_asking_words
from search.query import ParsedQuery, parse_query
from search.types import FACETS, SearchRequest, SearchResult, check_request

__all__ = [
    "DEFINITION_WEIGHT",
    "ENDINGS",
    "FIELDS",
    "HEADING",
    "IDENT_BOOST",
    "MAX_EXPANSION",
    "MAX_QUERY_EXPANSION",
    "PART_BOOST",
    "TEXT_FIELDS",
    "TIE_BREAKER",
    "TOO_BROAD",
    "TOO_SLOW",
    "concept_blocks",
    "empty_result",
    "ending_stems",
    "item_fields",
    "parse_request",
    "sequence_fields",
]

# Fields an item's words may match in, with their weight; "body" is the unit's own text.
FIELDS = (("body", 1.0), ("meta", 0.5))
# The fields of an item that must match the text itself (ParsedQuery.metadata_allowed).
TEXT_FIELDS = FIELDS[:1]
# The unit's heading (its own or its article's, also part of "body"): a word the user typed
# that is in the heading scores again there, at this weight, so that "ontbinding" puts the
# article "Ontbinding en opzegging" above clauses that use the word in passing. Only the user's
# own plain words (not thesaurus expansions, not wildcards). Thesaurus terms in the heading as
# well were measured twice: before the blend (TIE_BREAKER) they lowered Dutch precision@5;
# after it they raised it by 0.01 (strict +0.02, CUAD flat) but made the postgres backend's
# searches 14 % slower (a heading lexeme per added term, each one more ts_rank per candidate:
# mean 83.5 -> 95.2 ms at 10,000 documents), so they stay out.
HEADING = ("heading", 0.5)
# A concept's added wordings are one piece of evidence, not several: of the thesaurus terms of
# one concept a unit holds, the best-scoring counts in full and each other at this fraction (a
# disjunction max with a tie breaker; 0.3 is the usual setting). Summed in full, a clause that
# names termination three ways ("opzegging", "beëindiging", "ontbinding" in passing) outranked
# the article about it. scripts/eval_clauses.py and scripts/eval_dutch.py: see the commit.
TIE_BREAKER = 0.3
# A unit among the definitions (Unit.definition: "1.6. Broncode: het geheel van ...",
# '"Escrow" means ...') scores at this fraction: it says what a word means, while a search for
# "source code escrow" asks what was agreed about it, and a definition, short and dense with
# the word, outranked the article that regulates it. Measured with scripts/eval_clauses.py and
# scripts/eval_dutch.py: see the commit.
DEFINITION_WEIGHT = 0.5
# The weight of an identifier or clause-number match.
IDENT_BOOST = 2.0
# A compound query word matched by its parts scores at this fraction: the parts are common words
# (verwerker, overeenkomst) whose summed scores outweighed the compound itself.
PART_BOOST = 0.5
# A trailing wildcard expands to at most this many stems per field, so "con*" cannot build a
# huge OR; a broader prefix is refused with a message rather than silently cut off.
MAX_EXPANSION = 64
# All wildcards of one query together expand to at most this many (field, stem) terms.
MAX_QUERY_EXPANSION = 192
TOO_BROAD = "A * wildcard matches too many words; type more letters before the * or use fewer."
TOO_SLOW = "This search takes too long; make it more specific."
# Word endings that stemming removes (English, then Dutch), tried after a wildcard's prefix:
# the index holds stems, which may be shorter than the prefix ("terminat*" finds "termin").
ENDINGS = (
    *("", "e", "s", "es", "ed", "ing", "ion", "ions", "ive", "or", "ors", "er", "ers"),
    *("al", "ally", "ly", "ment", "ments", "ance", "ence", "ity", "ities", "y", "ies", "able"),
    *("en", "ingen", "ie", "heid", "heden", "lijk", "lijke", "baar", "te", "ten"),
    *("de", "den", "t", "st", "ster", "isch", "ische"),
)


@lru_cache(maxsize=4096)
def ending_stems(prefix: str) -> tuple[str, ...]:
    """The stems of a prefix with each of the common endings (pure, so cached)."""
    return tuple(dict.fromkeys(stem for ending in ENDINGS for stem in stems(prefix + ending)))


def item_fields(parsed: ParsedQuery) -> list[tuple[tuple[str, float], ...]]:
    """Per positive item, the fields it may match in: FIELDS, or only the text when it must
    match the text itself (ParsedQuery.metadata_allowed); and the heading (HEADING) for a
    plain word or phrase of the user's own."""
    return [
        (FIELDS if meta else TEXT_FIELDS)
        + ((HEADING,) if not (item.expansion or item.prefix) else ())
        for item, meta in zip(parsed.positive, parsed.metadata_allowed(), strict=True)
    ]


def concept_blocks(parsed: ParsedQuery) -> list[int]:
    """Per positive item, the block its score is blended in (TIE_BREAKER): one number per
    concept for the thesaurus terms added for it, -1 for the user's own items (added up)."""
    blocks: dict[str, int] = {}
    return [
        blocks.setdefault(item.concept, len(blocks))
        if item.expansion and item.concept is not None
        else -1
        for item in parsed.positive
    ]


def sequence_fields(fields: tuple[tuple[str, float], ...]) -> tuple[str, ...]:
    """The names of the fields in which a multi-word item's words must follow each other: not
    the heading, which keeps no positions (its words are in the body too)."""
    return tuple(field for field, _ in fields if field != HEADING[0])


def parse_request(request: SearchRequest) -> tuple[SearchRequest, ParsedQuery]:
    """Check a request and parse its text (without the words that ask what was agreed); the
    request gets the clause types the text names.

    Raises ValueError for a malformed request and QueryRefused for a refused query.
    """
    check_request(request)
    browse = bool(request.clause_types)
    parsed = drop_asking_words(parse_query(request.text, browse=browse), browse)
    return with_query_types(request, parsed), parsed


def empty_result(request: SearchRequest) -> SearchResult:
    """A result with no hits (nothing permitted, or nothing matched)."""
    return SearchResult([], 0, request.page, request.per_page, {name: [] for name in FACETS})

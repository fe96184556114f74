"""Text analysis shared by indexing and querying: folding, Dutch and English stems, identifiers.

Every word is folded (lower case, accents stripped, ``ß`` -> ``ss``) and stemmed with the
Snowball English or Dutch stemmer. At index time a unit whose stop words clearly say English or
Dutch gets that language's stems only; any other unit (and all metadata) gets both stems at the
same position. A query word always asks for both of its stems, so it finds the word in either
language, and phrases stay exact because each position carries that word's stems only. Stop
words are never removed at index time: Whoosh's default analysis drops them inside phrases, which
made ``"limitation of liability"`` also match ``limitation on liability``. Identifiers such as
``2025-017``, ``7:408`` or ``12.3`` additionally go, whole, into a separate field.

Dutch (in Dutch and undetected units) has two more steps, from `search.dutch`: a content word
whose dictionary form (lemma) stems differently also gets that stem (garanties and garantie,
verlengd and verlenging meet there), and a compound also gets its parts' stems at its own
position (`terms`), so "termijn" finds opzegtermijn. A compound query word matches the compound
or all of its parts in one unit (`alternatives`): opzegtermijn finds "termijn van opzegging".

Where Snowball's Dutch stem joins words of another meaning, the stem is corrected: adjectives in
-lijk, -baar and -ig keep their suffix (aansprakelijkheid does not meet aanspraak), and a content
word never stems to a function word (indiening does not meet "indien", if). English has a short
list of such words (competent does not meet compete), and so has Dutch (late does not meet
laten). Function words are the stop lists plus Dutch question words and legal conjunctions; a
query drops them when loose.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from whoosh.analysis import Token, Tokenizer
from whoosh.lang import stemmer_for_language
from whoosh.lang.stopwords import stoplists

from search import dutch

__all__ = [
    "IdentTokenizer",
    "WordTokenizer",
    "alternatives",
    "fold",
    "identifiers",
    "is_asking_word",
    "is_stop_word",
    "language",
    "occurrences",
    "prepare",
    "stems",
    "term_matcher",
    "terms",
    "word_list",
    "words",
]

# Combining marks are part of a word, so decomposed (NFD) text is not split at an accent.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
WORD_CHAR = rf"[\w{_MARKS}]"
WORD_RE = re.compile(rf"{WORD_CHAR}+")
# Word characters joined by - : . or / (2025-017, 7:408, 12.3, e-mail); a trailing dot is not part.
# Starting only at a word start and never backtracking keeps this linear in the text length.
IDENT_RE = re.compile(rf"(?<![\w{_MARKS}])[\w{_MARKS}]++(?:[-:./][\w{_MARKS}]++)+")
# Longer "words" are base64, hashes or garbage; skipping them keeps the lexicon small.
MAX_WORD = 64
# Letters that NFKD does not decompose into a base letter plus a mark.
_SPECIAL = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "þ": "th", "ı": "i"})

_snowball_english = stemmer_for_language("en")
# English words that Snowball joins with a word of another meaning in contract text, with the
# stem they get instead: "competent jurisdiction" (in nearly every contract's boilerplate) met
# compete and competing, so a search about non-compete clauses found the severability clause;
# an executive (officer) met the execution of the agreement, an authority (a regulator) the
# author. Other forms keep Snowball's stem (authorize and authorization still meet author).
_ENGLISH_APART = {
    **dict.fromkeys(
        ("competent", "competence", "competences", "competency", "competencies", "competently"),
        "competen",
    ),
    **dict.fromkeys(("incompetent", "incompetence"), "incompeten"),
    **dict.fromkeys(("executive", "executives"), "executive"),
    **dict.fromkeys(("authority", "authorities"), "authority"),
}
_snowball_dutch = stemmer_for_language("nl")
# Dutch words that Snowball or their lemma joins with a word of another meaning, and their stems:
# the adjective laat (late, as in "te late levering") met the verb laten (to let, "laat
# uitvoeren"). "laat" is both, so it keeps the verb's stem and gets the adjective's; "late" is
# only the adjective, "laatst(e)" (last) neither.
_DUTCH_APART = {
    "laat": ("lat", "laat"),
    "late": ("laat",),
    "laatst": ("laatst",),
    "laatste": ("laatst",),
}
assert all(stem[:2] == word[:2] for word, found in _DUTCH_APART.items() for stem in found)
# Adjectives in -lijk, -baar and -ig, inflected or made nouns with -heid, keep their suffix:
# Snowball strips it, which joined aansprakelijk(heid) with aanspraak (a claim), beschikbaar with
# beschikking, toepasselijk with toepassing, vertrouwelijk with vertrouwen, gebruikelijk with
# gebruik and overeenkomstig with overeenkomst. Verbs and their nouns (beveiligen, beveiliging)
# end otherwise and keep Snowball's stem.
_ADJECTIVE_RE = re.compile(r"^(.{3,}?)(lijk|baar|bar(?=e)|ig)(e|er|ere|s|se|st|ste|heid|heden)?$")
# Snowball stemming in pure Python is the slowest step of indexing; legal text reuses a small
# vocabulary, so bounded caches (word -> stems, one per language choice) pay for themselves.
_STEM_CACHES: dict[str | None, dict[str, tuple[str, ...]]] = {None: {}, "en": {}, "nl": {}}
# The same for every indexed term of a word (stems and compound parts' stems).
_TERM_CACHES: dict[str | None, dict[str, tuple[str, ...]]] = {None: {}, "en": {}, "nl": {}}
_STEM_CACHE_LIMIT = 400_000
_STOP_WORDS = frozenset(stoplists["en"]) | frozenset(stoplists["nl"])
_ENGLISH_ONLY = frozenset(stoplists["en"]) - frozenset(stoplists["nl"])
_DUTCH_ONLY = frozenset(stoplists["nl"]) - frozenset(stoplists["en"])
# Words of a question that the Dutch stop list lacks ("binnen hoeveel dagen moet een factuur
# betaald worden", "wat gebeurt er met onze gegevens"): question words, pronouns and forms of
# auxiliary and modal verbs. They name nothing a clause is about, yet a unit holding one ranked
# in a higher coordination tier. Language detection keeps the stop lists as they are.
_QUESTION_TEXT = """
    welke welk hoeveel hoelang hoever waarom wanneer waarmee waarover waarvoor waarbij waaraan
    wij we jullie onze hen jou jouw zullen zult moeten moest moesten mogen mag mocht mochten
    kun kunt konden zouden willen wilt wilde gaat gaan ging gebeurt gebeuren gebeurd
"""
# Conjunctions and prepositions of Dutch legal text that the stop list lacks: "indien" (if)
# begins most clauses, and Snowball made it the stem of indienen and indiening (submit).
_LEGAL_TEXT = """
    indien tenzij mits zodat echter hetgeen alsmede alsook waarin waarop waarvan daarbij daarin
    daarop daarvan hierin hierbij hiervan ingevolge krachtens omtrent jegens inzake zulks ter
"""
# Words that name nothing: loose query words drop them, no content word stems to one, and they
# get no lemma.
_FUNCTION_WORDS = _STOP_WORDS | frozenset(_QUESTION_TEXT.split()) | frozenset(_LEGAL_TEXT.split())
# Words of a question about what a contract says ("wat hebben we afgesproken over
# aansprakelijkheid", "what did we agree on liability"): every clause is an agreement, so these
# name nothing a clause is about, yet a unit holding one ("Indien ... Onderhoud is
# overeengekomen") ranked in a higher coordination tier than the liability clause. Unlike
# function words they are content words everywhere else (they are indexed, stemmed and
# lemmatised): a loose query word drops them (search.expansion.drop_asking_words).
_ASKING_TEXT = """
    afgesproken afspreken afspraak afspraken overeengekomen overeenkomen geregeld vastgelegd
    agree agreed say says said
"""
_ASKING_WORDS = frozenset(_ASKING_TEXT.split())
# A unit is stemmed in one language only when, among its first LANGUAGE_SAMPLE words, that
# language's stop words number at least LANGUAGE_MIN and LANGUAGE_RATIO times the other's.
LANGUAGE_SAMPLE = 400
LANGUAGE_MIN = 3
LANGUAGE_RATIO = 4


def prepare() -> None:
    """Load the Dutch dictionary now, so that no search waits for it (about half a second)."""
    dutch.load()


def fold(word: str) -> str:
    """Lower-case a word and strip accents, so Straße~strasse and beëindiging~beeindiging."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold().translate(_SPECIAL))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stems(folded: str, language: str | None = None) -> tuple[str, ...]:
    """The stems of a folded word in one language ("en", "nl") or, by default, in both."""
    found = _STEM_CACHES[language].get(folded)
    return found if found is not None else _stems_uncached(folded, language)


def _stems_uncached(folded: str, language: str | None) -> tuple[str, ...]:
    """Compute and cache the stems of a word; numbers and identifiers are not stemmed.

    A Dutch content word's lemma adds its stem where it differs (garanties -> garantie);
    `_DUTCH_APART` overrides both.
    """
    if any(c.isdigit() for c in folded):
        result: tuple[str, ...] = (folded,)
    elif language == "en":
        result = (_content(_english(folded), folded),)
    else:
        found = _DUTCH_APART.get(folded, ())
        if not found:
            lemma = dutch.lemma(folded) if folded not in _FUNCTION_WORDS else None
            found = (_dutch(folded), _dutch(lemma) if lemma else "")
        result = tuple(
            dict.fromkeys(
                filter(None, found if language else (_content(_english(folded), folded), *found))
            )
        )
    return _remember(_STEM_CACHES[language], folded, result)


def _english(folded: str) -> str:
    """The English stem of a folded word: Snowball's, except for `_ENGLISH_APART`."""
    return _ENGLISH_APART.get(folded) or _snowball_english(folded)


def _dutch(folded: str) -> str:
    """The Dutch stem of a folded word: Snowball's, except that an adjective keeps its -lijk,
    -baar or -ig, and a content word never stems to a function word (see `_content`): overheid
    and overheden stem to over+, not to "over"; indiening to indien+, not "indien"."""
    adjective = _ADJECTIVE_RE.match(folded)
    if adjective:
        base, suffix, _ending = adjective.groups()
        return base + ("baar" if suffix == "bar" else suffix)
    return _content(_snowball_dutch(folded), folded)


def _content(stem: str, folded: str) -> str:
    """A content word's stem, with a ``+`` where it would be a function word."""
    return stem + "+" if stem in _FUNCTION_WORDS and folded not in _FUNCTION_WORDS else stem


def _remember(
    cache: dict[str, tuple[str, ...]], key: str, value: tuple[str, ...]
) -> tuple[str, ...]:
    """Put a value in a bounded cache (emptied when full) and return it."""
    if len(cache) >= _STEM_CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def terms(folded: str, language: str | None = None) -> tuple[str, ...]:
    """Every term indexed for a folded word: its stems and, for a Dutch compound outside English
    text, the Dutch stems of its parts (all at the word's position)."""
    found = _TERM_CACHES[language].get(folded)
    return found if found is not None else _terms_uncached(folded, language)


def _terms_uncached(folded: str, language: str | None) -> tuple[str, ...]:
    """Compute and cache the indexed terms of a word."""
    found = stems(folded, language)
    if language != "en":
        found = tuple(
            dict.fromkeys((*found, *(s for p in dutch.parts(folded) for s in stems(p, "nl"))))
        )
    return _remember(_TERM_CACHES[language], folded, found)


def term_matcher(wanted: frozenset[str]) -> Callable[[str], bool]:
    """A test of whether a folded word has one of the `wanted` terms among its `terms` (both
    languages), that computes the terms of a word not yet cached only when `_may_have` says
    they can include one: analysing a new word is some 100 µs, and most words cannot."""
    starts = tuple({term.rstrip("+")[:2] for term in wanted})
    cache = _TERM_CACHES[None]

    def matches(folded: str) -> bool:
        found = cache.get(folded)
        if found is None:
            if not _may_have(folded, starts):
                return False
            found = _terms_uncached(folded, None)
        return not wanted.isdisjoint(found)

    return matches


# English words that Snowball stems to another beginning (dying -> die).
_ENGLISH_EXCEPTIONS = frozenset({"dying", "lying", "tying"})


def _may_have(folded: str, starts: tuple[str, ...]) -> bool:
    """False only when no term of a folded word, ``+`` removed, begins with one of `starts`.

    A word that is not ASCII is always analysed. For an ASCII word (lower case, no apostrophe):
    a number or identifier is its own only term. The Snowball stems, English and Dutch, keep
    the word's first two letters: their steps remove or replace endings inside R1 and R2, which
    begin after at least two letters, and undo their y/i marks; only the English words of
    _ENGLISH_EXCEPTIONS start otherwise. `_dutch`'s adjective stem keeps the first three
    letters, `_content` appends a ``+``, and a lemma (dutch.lemma) keeps the word's first three
    letters or those after a participle's ``ge``, and `_DUTCH_APART`'s stems begin with their
    word's first two letters (checked at import). So every stem of the word begins like word
    or word[2:]. A compound's parts (dutch.parts: alphabetic, MIN_COMPOUND to MAX_COMPOUND
    letters) are pieces cut from the word or its dictionary form; a part's letters 1-2 and 3-4
    occur in its piece (it may add ``n`` or ``en``, drop a linking ``s`` of a longer piece, or
    undouble a verb's vowel: betaal -> betalen), so its stems and its lemma's stems begin with
    two letters found in the word or its dictionary form.
    """
    if not folded.isascii() or folded in _ENGLISH_EXCEPTIONS:
        return True
    if folded.startswith(starts) or folded.startswith(starts, 2):
        return True
    if not (folded.isalpha() and dutch.MIN_COMPOUND <= len(folded) <= dutch.MAX_COMPOUND):
        return False
    if any(start in folded for start in starts):
        return True
    form = dutch.dictionary_form(folded)
    return not form.isascii() or any(start in form for start in starts)


def alternatives(folded: str) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """The ways a query word matches, each a tuple of words that must all occur (a word by any
    of its stems): the word itself, and for a Dutch compound, all of its parts."""
    parts = dutch.parts(folded)
    whole = (stems(folded),)
    return (whole, tuple(stems(part, "nl") for part in parts)) if parts else (whole,)


def language(folded_words: list[str]) -> str | None:
    """ "en" or "nl" when a text's stop words clearly point at one language, else None."""
    english = dutch = 0
    for word in folded_words[:LANGUAGE_SAMPLE]:
        english += word in _ENGLISH_ONLY
        dutch += word in _DUTCH_ONLY
    if english >= LANGUAGE_MIN and english >= LANGUAGE_RATIO * dutch:
        return "en"
    if dutch >= LANGUAGE_MIN and dutch >= LANGUAGE_RATIO * english:
        return "nl"
    return None


def words(text: str) -> list[tuple[str, int, int]]:
    """(folded word, start, end) for each word of a text, as the index sees them."""
    found = []
    for match in WORD_RE.finditer(text):
        word = match.group()
        if len(word) <= MAX_WORD:
            start, end = match.span()
            found.append((word.lower() if word.isascii() else fold(word), start, end))
    return found


def identifiers(text: str) -> list[str]:
    """The folded identifiers (word characters joined by - : . /) in a text."""
    return [fold(m.group()) for m in IDENT_RE.finditer(text) if len(m.group()) <= MAX_WORD]


def is_stop_word(folded: str) -> bool:
    """Whether a folded word is a Dutch or English stop word (only loose query words drop them)."""
    return folded in _FUNCTION_WORDS


def is_asking_word(folded: str) -> bool:
    """Whether a folded word asks what was agreed ("afgesproken", "agreed"), which names nothing
    a clause is about (only loose query words drop them: search.expansion.drop_asking_words)."""
    return folded in _ASKING_WORDS


def word_list(text: str) -> list[str]:
    """The folded words of a text exactly as words() finds them, without offsets (faster)."""
    return [
        word.lower() if word.isascii() else fold(word)
        for word in WORD_RE.findall(text)
        if len(word) <= MAX_WORD
    ]


def occurrences(text: str, detect: bool) -> dict[str, list[int]]:
    """Each indexed stem of a text with the positions where it occurs.

    This is what WordTokenizer yields, collected without a Token per word: indexing spends
    most of its analysis time here, and the per-token generator overhead was a third of it.
    """
    found = word_list(text)
    lang = language(found) if detect else None
    cache = _TERM_CACHES[lang]
    result: dict[str, list[int]] = {}
    for position, word in enumerate(found):
        for stem in cache.get(word) or _terms_uncached(word, lang):
            positions = result.get(stem)
            if positions is None:
                result[stem] = [position]
            else:
                positions.append(position)
    return result


class WordTokenizer(Tokenizer):
    """Whoosh analyzer for text fields: the stems of every word, those of one word at one position.

    With ``detect`` the language of each text is guessed and, when clear, only its stems are
    indexed; without it (short metadata) both languages' stems always are.
    """

    def __init__(self, detect: bool = False) -> None:
        self.detect = detect

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.detect == other.detect  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.detect))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        start_pos: int = 0,
        start_char: int = 0,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, mode=mode, **kwargs)
        token.boost = 1.0
        found = words(value)
        lang = language([word for word, _, _ in found]) if self.detect and mode != "query" else None
        analyse = stems if mode == "query" else terms
        for pos, (word, start, end) in enumerate(found, start_pos):
            token.pos = pos
            token.startchar = start_char + start
            token.endchar = start_char + end
            for stem in analyse(word, lang):
                token.text = stem
                yield token


class IdentTokenizer(Tokenizer):
    """Whoosh analyzer for the identifier field: only whole identifiers, folded, unstemmed."""

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(self, value: str, mode: str = "", **kwargs: Any) -> Iterator[Token]:
        token = Token(mode=mode, **kwargs)
        token.boost = 1.0
        for ident in identifiers(value):
            token.text = ident
            yield token

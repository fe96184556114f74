"""Query expansion with the bilingual legal thesaurus (``search/thesaurus.toml``).

When the words of a query contain a term of a thesaurus concept ("aansprakelijkheid", "limitation
of liability"), the concept's other terms in both languages are added to the query as extra items
with a weight below 1 and the concept's id. They are never required: a backend ranks them as
optional alternatives below the user's own words. Terms are matched on the stems of their content
words (stop words ignored), in order and adjacent in the query, longest term first; quoted
phrases, wildcards and excluded words are the user's exact wishes and are never expanded.

The thesaurus is data reviewed like code; `load_thesaurus` refuses a malformed file with a
message that names the concept and the term.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import chain, zip_longest
from pathlib import Path

from search import dutch
from search.analysis import is_asking_word, is_stop_word, stems, words
from search.query import Item, ParsedQuery, parse_query
from search.types import Expansion

__all__ = [
    "THESAURUS_PATH",
    "Concept",
    "Term",
    "Thesaurus",
    "ThesaurusError",
    "concept_items",
    "default_thesaurus",
    "drop_asking_words",
    "expand",
    "load_thesaurus",
]

THESAURUS_PATH = Path(__file__).with_name("thesaurus.toml")
# The score of an added term relative to the user's own word (measured with
# scripts/eval_clauses.py: see the commit that set it).
WEIGHT = 0.5
# Added terms per concept and per query: every term is a postings lookup in every segment.
MAX_PER_CONCEPT = 12
MAX_ITEMS = 24
MAX_TERM_WORDS = 8
# A Dutch compound's head found by its ending (see `Thesaurus.compound_head`): at least this
# long, after a dictionary word of at least MIN_MODIFIER letters.
MIN_HEAD = 5
MIN_MODIFIER = 3
LANGUAGES = ("nl", "en")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_CONCEPT_KEYS = frozenset({"id", "label", *LANGUAGES})

Key = tuple[frozenset[str], ...]


class ThesaurusError(ValueError):
    """The thesaurus file cannot be used; the message lists every problem found."""


@dataclass(frozen=True)
class Term:
    """One wording of a concept: as written, its folded words and its content words' stems."""

    text: str
    language: str
    words: tuple[str, ...]
    key: Key


@dataclass(frozen=True)
class Concept:
    """A clause concept with its labels and its terms in both languages."""

    id: str
    label_nl: str
    label_en: str
    terms: tuple[Term, ...]

    def alternating(self) -> list[Term]:
        """The terms in file order, Dutch and English alternating, so a cap keeps both."""
        by_language = [[t for t in self.terms if t.language == lang] for lang in LANGUAGES]
        return [t for t in chain.from_iterable(zip_longest(*by_language)) if t is not None]


@dataclass(frozen=True)
class Thesaurus:
    """The concepts, with every term indexed by the stems of its first content word."""

    concepts: tuple[Concept, ...]

    def __post_init__(self) -> None:
        first: dict[str, list[tuple[Concept, Term]]] = {}
        for concept in self.concepts:
            for term in concept.terms:
                for stem in term.key[0]:
                    first.setdefault(stem, []).append((concept, term))
        object.__setattr__(self, "_first", first)
        heads = {
            term.words[0]
            for concept in self.concepts
            for term in concept.terms
            if term.language == "nl" and len(term.words) == 1 and len(term.words[0]) >= MIN_HEAD
        }
        object.__setattr__(self, "_heads", frozenset(heads))
        # Per stem set met so far, the terms that can start there, longest first.
        object.__setattr__(self, "_starts", {})

    def compound_head(self, folded: str) -> str | None:
        """The head (last part) of a Dutch compound: the decompounder's, or else a one-word
        Dutch term of the thesaurus the word ends in after a dictionary word (prijs|indexatie,
        with "indexatie" in no dictionary). A compound names a kind of its head, so a query
        word no concept knows may still name its head's concept."""
        parts = dutch.parts(folded)
        if parts:
            return parts[-1]
        heads: frozenset[str] = self._heads  # type: ignore[attr-defined]
        for start in range(MIN_MODIFIER, len(folded) - MIN_HEAD + 1):
            if folded[start:] in heads:
                modifier = folded[:start]
                linked = modifier[:-1] if modifier.endswith("s") else ""
                if dutch.known(modifier) or (len(linked) >= MIN_MODIFIER and dutch.known(linked)):
                    return folded[start:]
        return None

    def match(self, sequence: Sequence[frozenset[str] | None]) -> list[tuple[int, int, Concept]]:
        """Non-overlapping (start, end, concept) of the terms found in a sequence of content-word
        stem sets (None breaks a run), leftmost first and the longest term at each start."""
        found = []
        position = 0
        while position < len(sequence):
            best = self._longest(sequence, position)
            if best is None:
                position += 1
                continue
            length, concept = best
            found.append((position, position + length, concept))
            position += length
        return found

    def _longest(
        self, sequence: Sequence[frozenset[str] | None], start: int
    ) -> tuple[int, Concept] | None:
        """The longest term (and its concept) that starts at a position of the sequence."""
        here = sequence[start]
        if here is None:
            return None
        for size, concept, key in self._starting(here):
            if _matches(key, sequence, start):
                return size, concept
        return None

    def _starting(self, here: frozenset[str]) -> tuple[tuple[int, Concept, Key], ...]:
        """The terms whose first content word shares a stem with `here`, longest first; of
        equal length, in the order of the stems and then of the thesaurus (so the first of
        them that matches is the one a scan of all would keep)."""
        starts: dict[frozenset[str], tuple[tuple[int, Concept, Key], ...]]
        starts = self._starts  # type: ignore[attr-defined]
        found = starts.get(here)
        if found is None:
            first: dict[str, list[tuple[Concept, Term]]] = self._first  # type: ignore[attr-defined]
            terms = [
                (len(term.key), concept, term.key)
                for stem in sorted(here)
                for concept, term in first.get(stem, ())
            ]
            terms.sort(key=lambda item: -item[0])  # stable: ties keep their order
            found = tuple(terms)
            if len(starts) >= _STARTS_CACHED:
                starts.clear()
            starts[here] = found
        return found


# The most stem sets whose starting terms are remembered (a large vocabulary's words).
_STARTS_CACHED = 200_000


def _matches(key: Key, sequence: Sequence[frozenset[str] | None], start: int) -> bool:
    """Whether each content word of a term shares a stem with the query word at its place."""
    if start + len(key) > len(sequence):
        return False
    return all(
        (word := sequence[start + i]) is not None and stems_ & word for i, stems_ in enumerate(key)
    )


def _key(folded: Sequence[str]) -> Key:
    """The stem sets of the content words of folded words (all words if all are stop words)."""
    content = [w for w in folded if not is_stop_word(w)]
    return tuple(frozenset(stems(w)) for w in content)


def load_thesaurus(path: Path = THESAURUS_PATH) -> Thesaurus:
    """Read and check a thesaurus file; raises ThesaurusError listing every problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ThesaurusError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ThesaurusError(f"{path}: not valid TOML: {exc}") from exc
    problems: list[str] = []
    concepts = _concepts(data, problems)
    _check_unique(concepts, problems)
    if problems:
        raise ThesaurusError(f"{path}: " + "; ".join(problems))
    return Thesaurus(tuple(concepts))


def _concepts(data: dict, problems: list[str]) -> list[Concept]:
    """The well-formed concepts of a parsed file; what is wrong goes into problems."""
    extra = sorted(set(data) - {"concept"})
    if extra:
        problems.append(f"unknown top-level keys {', '.join(extra)} (only [[concept]] tables)")
    entries = data.get("concept")
    if not isinstance(entries, list) or not entries:
        problems.append("no [[concept]] tables")
        return []
    concepts = []
    for number, entry in enumerate(entries, start=1):
        concept = _concept(number, entry, problems)
        if concept is not None:
            concepts.append(concept)
    return concepts


def _concept(number: int, entry: object, problems: list[str]) -> Concept | None:
    """One concept table checked: id, both labels, terms in both languages."""
    if not isinstance(entry, dict):
        problems.append(f"concept {number} is not a table")
        return None
    name = f"concept {number} ({entry.get('id', 'no id')})"
    before = len(problems)
    unknown = sorted(set(entry) - _CONCEPT_KEYS)
    if unknown:
        problems.append(f"{name}: unknown keys {', '.join(unknown)}")
    concept_id = entry.get("id")
    if not isinstance(concept_id, str) or not _ID_RE.match(concept_id):
        problems.append(f"{name}: id must be lower-case letters, digits and _")
    label = entry.get("label")
    if not isinstance(label, dict) or any(
        not isinstance(label.get(lang), str) or not label[lang].strip() for lang in LANGUAGES
    ):
        problems.append(f"{name}: needs label.nl and label.en")
    terms = [t for lang in LANGUAGES for t in _terms(name, lang, entry.get(lang), problems)]
    if len(problems) > before:
        return None
    return Concept(concept_id, label["nl"].strip(), label["en"].strip(), tuple(terms))


def _terms(name: str, language: str, values: object, problems: list[str]) -> list[Term]:
    """The terms of one language of a concept, each checked."""
    if not isinstance(values, list) or not values:
        problems.append(f"{name}: needs a non-empty list of {language} terms")
        return []
    terms: list[Term] = []
    for value in values:
        folded = tuple(w for w, _, _ in words(value)) if isinstance(value, str) else ()
        if not folded:
            problems.append(f"{name}: {language} term {value!r} has no words")
        elif len(folded) > MAX_TERM_WORDS:
            problems.append(f"{name}: {language} term {value!r} has over {MAX_TERM_WORDS} words")
        elif all(is_stop_word(w) for w in folded):
            problems.append(f"{name}: {language} term {value!r} has only stop words")
        else:
            key = _key(folded)
            twin = next((t for t in terms if _same(t.key, key)), None)
            if twin is None:
                terms.append(Term(value.strip(), language, folded, key))
            else:
                problems.append(
                    f"{name}: {language} term {value!r} matches the same words as {twin.text!r}"
                )
    return terms


def _check_unique(concepts: list[Concept], problems: list[str]) -> None:
    """Ids are unique, and the words of a term name one concept only: a term that matches the
    same words as a term of an earlier concept would never be found (the first one wins)."""
    ids: set[str] = set()
    seen: dict[str, list[tuple[Term, str]]] = {}  # first-word stem -> terms of earlier concepts
    for concept in concepts:
        if concept.id in ids:
            problems.append(f"concept id {concept.id!r} is used twice")
        ids.add(concept.id)
        for term in concept.terms:
            earlier = (pair for stem in term.key[0] for pair in seen.get(stem, ()))
            owner = next(
                (c for t, c in earlier if c != concept.id and _same(t.key, term.key)), None
            )
            if owner is not None:
                problems.append(f"term {term.text!r} of {concept.id!r} is also a term of {owner!r}")
        for term in concept.terms:
            for stem in term.key[0]:
                seen.setdefault(stem, []).append((term, concept.id))


@lru_cache(maxsize=1)
def default_thesaurus() -> Thesaurus:
    """The thesaurus shipped with the package, read once."""
    return load_thesaurus(THESAURUS_PATH)


def warm_up() -> None:
    """Read the thesaurus, and the Dutch dictionary its terms are stemmed with (together a few
    seconds), so that a server's first search does not wait for them."""
    expand(parse_query("aansprakelijkheid opzegtermijn liability"))


def _eligible(item: Item) -> bool:
    """A plain word the user typed (not quoted, excluded, wildcarded or itself an expansion)."""
    return not (item.negated or item.prefix or item.phrase or item.concept is not None)


def _sequence(
    items: Sequence[Item], thesaurus: Thesaurus
) -> tuple[list[frozenset[str] | None], list[int], list[str]]:
    """Content-word stem sets of the query (None between runs of expandable items), with the
    index of the item and the word at each place. A word that is no term by itself also
    carries its compound head's stems (`Thesaurus.compound_head`)."""
    sequence: list[frozenset[str] | None] = []
    owners: list[int] = []
    shown: list[str] = []
    for index, item in enumerate(items):
        if not _eligible(item):
            sequence.append(None)
            owners.append(index)
            shown.append("")
            continue
        for word in item.words:
            if not is_stop_word(word):
                own = frozenset(stems(word))
                head = None if thesaurus.match([own]) else thesaurus.compound_head(word)
                sequence.append(own | frozenset(stems(head)) if head else own)
                owners.append(index)
                shown.append(word)
    return sequence, owners, shown


def concept_items(
    items: Sequence[Item], thesaurus: Thesaurus | None = None
) -> dict[str, tuple[int, ...]]:
    """For each concept the items name, the indexes of the items that name it."""
    thesaurus = thesaurus or default_thesaurus()
    sequence, owners, _ = _sequence(items, thesaurus)
    found: dict[str, tuple[int, ...]] = {}
    for start, end, concept in thesaurus.match(sequence):
        indexes = dict.fromkeys((*found.get(concept.id, ()), *owners[start:end]))
        found[concept.id] = tuple(indexes)
    return found


def drop_asking_words(
    parsed: ParsedQuery, browse: bool = False, thesaurus: Thesaurus | None = None
) -> ParsedQuery:
    """The query without the loose words that ask what was agreed ("wat hebben we afgesproken
    over aansprakelijkheid": search.analysis.is_asking_word), unless one is part of a thesaurus
    term the query names ("agreed damages", "eerdere afspraken") or nothing else is searched: no
    other positive word, and no clause type (``soort:...`` in the text, or `browse`, the types
    chosen beside it), which lists its clauses without words."""
    items = parsed.items
    asking = {
        index
        for index, item in enumerate(items)
        if _eligible(item)
        and not item.required
        and len(item.words) == 1
        and is_asking_word(item.words[0])
    }
    if not asking:
        return parsed
    asking -= {index for named in concept_items(items, thesaurus).values() for index in named}
    kept = tuple(item for index, item in enumerate(items) if index not in asking)
    if any(not item.negated for item in kept) or (not kept and (browse or parsed.type_names)):
        return replace(parsed, items=kept)
    return parsed


def expand(
    parsed: ParsedQuery, thesaurus: Thesaurus | None = None
) -> tuple[ParsedQuery, tuple[Expansion, ...]]:
    """The query with the thesaurus terms of the concepts it names added as weighted optional
    items (at most MAX_PER_CONCEPT per concept, MAX_ITEMS in all), and what was added."""
    thesaurus = thesaurus or default_thesaurus()
    sequence, owners, shown = _sequence(parsed.items, thesaurus)
    own = [key for item in parsed.positive if (key := _key(item.words))]
    matched: dict[str, tuple[Concept, list[str]]] = {}
    naming: dict[str, list[int]] = {}
    for start, end, concept in thesaurus.match(sequence):
        matched.setdefault(concept.id, (concept, []))[1].extend(shown[start:end])
        naming.setdefault(concept.id, []).extend(owners[start:end])
    added: list[Item] = []
    expansions = []
    items = list(parsed.items)
    for concept, words_ in matched.values():
        room = min(MAX_PER_CONCEPT, MAX_ITEMS - len(added))
        terms = _new_terms(concept, own, room)
        if not terms:
            continue
        # The user's words that name the concept carry it too, so that for coordination a
        # clause holding the concept in another wording holds what those words hold
        # (`ParsedQuery.coordination`): "audit" and "books and records" count alike. A word
        # that is a wording by itself ("escrow" of "source code escrow") is one of them.
        for index in naming[concept.id]:
            if items[index].concept is None and not items[index].negated:
                key = _key(items[index].words)
                whole = any(_same(key, term.key) for term in concept.terms)
                items[index] = replace(items[index], concept=concept.id, whole=whole)
        added += [_item(term, concept.id) for term in terms]
        expansions.append(
            Expansion(
                concept.id,
                concept.label_nl,
                concept.label_en,
                tuple(dict.fromkeys(words_)),
                tuple(t.text for t in terms),
            )
        )
    if not added:
        return parsed, ()
    return replace(parsed, items=(*items, *added)), tuple(expansions)


def _new_terms(concept: Concept, own: list[Key], room: int) -> list[Term]:
    """Up to `room` terms of a concept, other wordings first: terms that share no content word
    with the query or an earlier choice, then refinements ("exclusion of liability" after
    "liability"). A term that is already searched adds nothing (see `_covered`)."""
    searched = list(own)
    wordings: list[Term] = []
    refinements: list[Term] = []
    for term in concept.alternating():
        if _covered(term.key, searched):
            continue
        if any(stems_ & word for stems_ in term.key for key in searched for word in key):
            refinements.append(term)
        else:
            wordings.append(term)
            searched.append(term.key)
    return (wordings + [t for t in refinements if not _covered(t.key, searched)])[:room]


def _covered(key: Key, searched: list[Key]) -> bool:
    """Whether a term is searched already: each of its words as a word of its own, or the term
    as a whole. The words of a compound or phrase ("non-compete", "covenant not to compete")
    are searched in sequence only, so "compete" alone is not covered by them."""
    words = [key_[0] for key_ in searched if len(key_) == 1]
    return all(any(stems_ & word for word in words) for stems_ in key) or any(
        _same(key, key_) for key_ in searched
    )


def _same(first: Key, second: Key) -> bool:
    """Whether two terms match the same query words (each word shares a stem)."""
    return len(first) == len(second) and all(a & b for a, b in zip(first, second, strict=True))


def _item(term: Term, concept: str) -> Item:
    return Item(term.words, phrase=len(term.words) > 1, weight=WEIGHT, concept=concept)

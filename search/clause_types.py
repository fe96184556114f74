"""Clause types: which thesaurus concepts a clause is about, decided by rules that can be read.

A clause gets zero or more types (the concept ids of ``search/thesaurus.toml``). The evidence is
the thesaurus's own wordings, matched as a query is matched (folded, stemmed, Dutch lemmas, stop
words skipped, longest term first; see `search.expansion`):

- the heading names a concept ("Artikel 12 Aansprakelijkheid", "Limitation of Liability"): a
  drafter's label is the strongest evidence and suffices on its own (HEADING); a sub-clause
  without a heading of its own inherits its article's heading, a little weaker (CONTEXT_HEADING);
- the text holds the concept's terms: every distinct term counts (TERM per word, PHRASE per
  term of several words, which is more specific), and repeats add a little (REPEAT each, at most
  REPEAT_CAP), so a passing mention never makes a type.

A concept whose evidence reaches THRESHOLD is a type. A clause whose own heading names a concept
is about that first: another concept then needs HEADED_THRESHOLD from its text alone (a
definitions article mentions many concepts without being about them). At most MAX_TYPES types
are kept, strongest first. Nothing is tuned per concept: one set of weights for every concept,
so a change to the thesaurus changes the types as a reviewer would expect.
`explain` says for each concept why; `classify` gives the types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from search.analysis import is_stop_word, stems, word_list, words
from search.expansion import Concept, Thesaurus, default_thesaurus
from search.query import ParsedQuery, QueryRefused
from search.types import SearchRequest

__all__ = [
    "Evidence",
    "TypeName",
    "classify",
    "explain",
    "find_type",
    "join_types",
    "requested_types",
    "split_types",
    "type_names",
    "with_query_types",
]

HEADING = 3.0
CONTEXT_HEADING = 2.0
PHRASE = 1.25
TERM = 0.75
REPEAT = 0.25
REPEAT_CAP = 1.0
THRESHOLD = 2.0
HEADED_THRESHOLD = 3.0
MAX_TYPES = 4
# Only the start of a very long clause is read: its subject is stated early, and the cost of
# classifying stays bounded (resegmenting a large instance classifies every clause).
MAX_WORDS = 1500
# Punctuation that ends a sentence or a list item: a term never spans it.
_BREAK_RE = re.compile(r"[.;:!?\n]")


@dataclass(frozen=True)
class Evidence:
    """Why a concept is (or is not) a type of a clause: its score and the words that gave it."""

    concept: str
    score: float
    heading: tuple[str, ...]  # the heading's words that name the concept
    context: tuple[str, ...]  # the same in the inherited article heading
    text: tuple[str, ...]  # the distinct terms found in the text (folded, stop words left out)
    repeats: int  # further occurrences of those terms
    chosen: bool  # whether the concept is a type of the clause


def explain(
    heading: str, text: str, context_heading: str = "", thesaurus: Thesaurus | None = None
) -> list[Evidence]:
    """Every concept with some evidence in a clause, the types first, then by score.

    `heading` is the clause's own heading; `context_heading` the heading it inherits from its
    article when it has none of its own (see `ingest.clauses.context_headings`).
    """
    thesaurus = thesaurus or default_thesaurus()
    own = _found(heading, thesaurus)
    context = _found(context_heading, thesaurus) if not heading.strip() else {}
    body = _strip_heading(text, heading)
    found = _found(body, thesaurus, MAX_WORDS)
    evidence = []
    for concept_id in dict.fromkeys([*own, *context, *found]):
        terms = found.get(concept_id, [])
        distinct = list(dict.fromkeys(terms))
        score = HEADING * bool(own.get(concept_id)) + CONTEXT_HEADING * bool(
            context.get(concept_id)
        )
        text_score = sum(PHRASE if len(t.split()) > 1 else TERM for t in distinct)
        text_score += min(REPEAT * (len(terms) - len(distinct)), REPEAT_CAP)
        evidence.append(
            Evidence(
                concept_id,
                round(score + text_score, 2),
                tuple(dict.fromkeys(own.get(concept_id, []))),
                tuple(dict.fromkeys(context.get(concept_id, []))),
                tuple(distinct),
                len(terms) - len(distinct),
                False,
            )
        )
    chosen = _choose(evidence, headed=bool(own))
    result = [
        Evidence(**{**e.__dict__, "chosen": e.concept in chosen})  # type: ignore[arg-type]
        for e in evidence
    ]
    return sorted(result, key=lambda e: (not e.chosen, -e.score, e.concept))


def _choose(evidence: list[Evidence], headed: bool) -> set[str]:
    """The concepts that reach the threshold, strongest first, at most MAX_TYPES."""
    passing = []
    for e in evidence:
        named = bool(e.heading or e.context)
        needed = THRESHOLD if named or not headed else HEADED_THRESHOLD
        if e.score >= needed:
            passing.append(e)
    passing.sort(key=lambda e: (-e.score, e.concept))
    return {e.concept for e in passing[:MAX_TYPES]}


def classify(
    heading: str, text: str, context_heading: str = "", thesaurus: Thesaurus | None = None
) -> tuple[str, ...]:
    """The clause types (concept ids) of a clause, strongest first."""
    return tuple(e.concept for e in explain(heading, text, context_heading, thesaurus) if e.chosen)


def _strip_heading(text: str, heading: str) -> str:
    """The text without the heading line it starts with ("Artikel 2 Aansprakelijkheid" for
    the heading "Aansprakelijkheid"): a merged heading is counted as heading, not again as text."""
    stripped = text.lstrip()
    heading = heading.strip()
    if not heading:
        return text
    first, _, rest = stripped.partition("\n")
    if heading in first:
        return first[first.index(heading) + len(heading) :] + "\n" + rest
    return text


def _found(text: str, thesaurus: Thesaurus, limit: int | None = None) -> dict[str, list[str]]:
    """Per concept, the thesaurus terms found in a text (its folded words, stop words left
    out), once per occurrence. A term never spans the end of a sentence or list item."""
    sequence: list[frozenset[str] | None] = []
    shown: list[str] = []
    budget = MAX_WORDS if limit is None else limit
    for part in _BREAK_RE.split(text):
        found_words = word_list(part)[:budget]
        budget -= len(found_words)
        for word in found_words:
            if not is_stop_word(word) and not word.isdigit():
                sequence.append(_stem_set(word))
                shown.append(word)
        if sequence and sequence[-1] is not None:
            sequence.append(None)
            shown.append("")
        if budget <= 0:
            break
    result: dict[str, list[str]] = {}
    for first, last, concept in thesaurus.match(sequence):
        result.setdefault(concept.id, []).append(" ".join(shown[first:last]))
    return result


@lru_cache(maxsize=100_000)
def _stem_set(folded: str) -> frozenset[str]:
    return frozenset(stems(folded))


def join_types(types: tuple[str, ...] | list[str]) -> str:
    """Clause types as stored in a column: concept ids separated by spaces."""
    return " ".join(types)


def split_types(stored: str | None) -> tuple[str, ...]:
    """Clause types from their stored form."""
    return tuple(stored.split()) if stored else ()


@dataclass(frozen=True)
class TypeName:
    """A clause type with its labels."""

    id: str
    label_nl: str
    label_en: str

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_nl


@lru_cache(maxsize=1)
def _names() -> dict[str, Concept]:
    """Every concept by its id and by its folded labels, with spaces, hyphens and underscores
    read alike (soort:aansprakelijkheid, type:liability, soort:gevolgen_van_beeindiging)."""
    names: dict[str, Concept] = {}
    for concept in default_thesaurus().concepts:
        for name in (concept.id, concept.label_nl, concept.label_en):
            names.setdefault(_name_key(name), concept)
    return names


def _name_key(name: str) -> str:
    return "_".join(w for w, _, _ in words(name))


def find_type(name: str) -> TypeName | None:
    """The clause type a user names by its id or its Dutch or English label (accents and case
    folded), or None."""
    concept = _names().get(_name_key(name))
    return None if concept is None else TypeName(concept.id, concept.label_nl, concept.label_en)


def type_names() -> list[TypeName]:
    """Every clause type, in thesaurus order."""
    return [TypeName(c.id, c.label_nl, c.label_en) for c in default_thesaurus().concepts]


def requested_types(parsed: ParsedQuery) -> frozenset[str]:
    """The concept ids of the clause types a query names (soort:/type:); QueryRefused
    "unknown_type" for a name that is no clause type."""
    found = set()
    for name in parsed.type_names:
        named = find_type(name)
        if named is None:
            raise QueryRefused(
                "unknown_type",
                f"There is no clause type {name!r}; use the name of a type as the filters "
                "list it (for example soort:aansprakelijkheid or type:liability).",
                name,
            )
        found.add(named.id)
    return frozenset(found)


def with_query_types(request: SearchRequest, parsed: ParsedQuery) -> SearchRequest:
    """The request with the clause types its text names added to its type filter."""
    named = requested_types(parsed)
    if not named - request.clause_types:
        return request
    return replace(request, clause_types=request.clause_types | named)

"""search.highlight.snippet is the same, byte for byte, as the first way it was computed: every
word of the unit analysed (`reference_snippet` below), over real contract clauses, English and
Dutch, and the words of real queries, with cold caches, so that the pre-test that spares
analysing most new words (search.analysis.term_matcher) is what decides.
"""

from __future__ import annotations

import random

import pytest
from whoosh.analysis import Token
from whoosh.highlight import FIRST, Fragment, top_fragments
from whoosh.lang.snowball.english import EnglishStemmer

from ingest.clauses import context_headings, segment
from search import analysis, dutch, highlight
from search.analysis import alternatives, is_stop_word, stems, terms, words
from search.query import parse_query
from tests.conftest import CORPUS, need

QUERIES = [
    "governing law",
    "termination for convenience",
    '"limitation of liability"',
    "notice period",
    "confidential information",
    "indemnification",
    "renewal term",
    "audit rights",
    "force majeure",
    "liquidated damages",
    "change of control",
    "intellectual property",
    "non-compete",
    "insurance",
    "warranty",
    "terminat*",
    "licens*",
    "section 12.3",
    "2015",
    "the",
    "party parties",
    "dying lying tying",
    "opzegging",
    "aansprakelijkheid",
    "opzegtermijn",
    "termijn",
    "verlenging",
    "garanties",
    "beëindiging",
    "Straße",
    "gegevens verwerking",
    "aanbesteding*",
    "leverancier opdrachtgever",
    "artikel 7:408",
    "indiening",
    "schadevergoeding",
    "vertrouwelijk*",
    "intellectuele eigendom",
    "werkzaamheden",
    "de",
    "betaling factuur",
    "geheimhouding",
    "non-concurrentie",
    "gegaan gedaan",
]


def reference_tokens(text: str, terms_: frozenset[str]) -> list[Token]:
    """The first _tokens: every word analysed."""
    return [
        Token(text=word, startchar=start, endchar=end, boost=1.0)
        for word, start, end in words(text)
        if not terms_.isdisjoint(terms(word))
    ]


def reference_snippet(text: str, terms_: frozenset[str]) -> str:
    """The first snippet, built on reference_tokens."""
    tokens = reference_tokens(text[: highlight.ANALYSED_CHARS], terms_)
    if not tokens:
        return highlight._plain(text)
    if len(text) <= highlight.PLAIN_CHARS:
        return highlight._FORMATTER.format([Fragment(text, tokens, 0, len(text))]).strip()
    fragments = list(highlight._FRAGMENTER.fragment_matches(text, tokens))
    best = top_fragments(fragments, highlight.FRAGMENTS, highlight._SCORER, FIRST, minscore=0)
    return highlight._FORMATTER.format(best) if best else highlight._plain(text)


def _corpus() -> list[str]:
    """Clause bodies (heading and text, as search.matching.body_text) of the CUAD contracts and
    the Dutch Markdown regulations, and a few whole contracts longer than ANALYSED_CHARS."""
    need(CORPUS.is_dir(), f"the shared corpus is not at {CORPUS}")
    texts = sorted((CORPUS / "cuad-dev" / "txt").glob("*.txt"))[::4]
    texts += sorted((CORPUS / "dutch").glob("*.md"))
    bodies = []
    for path in texts:
        text = path.read_text(encoding="utf-8", errors="replace")
        found = segment(text, markdown=path.suffix == ".md")
        for clause, heading in zip(found, context_headings(found), strict=True):
            head = heading.strip()
            starts = not head or clause.text.lstrip().startswith(head)
            bodies.append(clause.text if starts else f"{head}\n{clause.text}")
        if len(text) > highlight.ANALYSED_CHARS and len(bodies) % 3 == 0:
            bodies.append(text)
    return bodies


def _marked(query: str, lexicon: list[str]) -> frozenset[str]:
    """The stems a backend marks for a query (search.postgres._plan._highlight), a wildcard
    expanded over the corpus' terms."""
    items = parse_query(query).positive
    chosen = [w for item in items for w in item.words if not is_stop_word(w)]
    chosen = chosen or [w for item in items for w in item.words]
    found = {s for word in chosen for way in alternatives(word) for part in way for s in part}
    found.update(s for item in items if item.joined for s in stems(item.joined))
    for item in items:
        if item.prefix:
            found.update(term for term in lexicon if term.startswith(item.words[-1]))
    return frozenset(found)


def _forget() -> None:
    """Empty the analysis caches, so that the next snippet analyses words afresh."""
    for cache in (*analysis._TERM_CACHES.values(), *analysis._STEM_CACHES.values()):
        cache.clear()
    dutch.parts.cache_clear()
    dutch.dictionary_form.cache_clear()
    highlight._judged.cache_clear()


@pytest.fixture(scope="module")
def bodies() -> list[str]:
    return _corpus()


def test_snippets_equal_the_reference_over_the_corpus(bodies: list[str]) -> None:
    """Real queries, and sets of terms of the unit's own words (stems, lemmas, compound parts,
    numbers), each over a sample of units with cold caches."""
    vocabulary = {word for body in bodies for word, _, _ in words(body)}
    lexicon = sorted({term for word in vocabulary for term in terms(word)})
    chance = random.Random(20261206)
    cases = [(query, _marked(query, lexicon)) for query in QUERIES]
    for number in range(40):
        body = chance.choice(bodies)
        picked = chance.sample(words(body), min(3, len(words(body))))
        wanted = frozenset(term for word, _, _ in picked for term in terms(word))
        cases.append((f"words of a unit #{number}", wanted))
    known = dict(analysis._TERM_CACHES[None])
    compared = marked = 0
    for name, wanted in cases:
        sample = chance.sample(bodies, 120) + [b for b in bodies if len(b) > 20_000]
        _forget()
        got = [highlight.snippet(body, wanted) for body in sample]
        analysis._TERM_CACHES[None].update(known)  # the reference is slow enough warm
        for body, snippet in zip(sample, got, strict=True):
            assert snippet == reference_snippet(body, wanted), (name, body[:200])
            compared += 1
            marked += "<mark>" in snippet
    assert compared > 10_000 and marked > 1_000


def test_the_pre_test_never_skips_a_word_with_a_wanted_term(bodies: list[str]) -> None:
    """The superset property of search.analysis._may_have itself, for every word of the corpus
    and each of its terms, and for each of the English stemmer's special words."""
    vocabulary = {word for body in bodies for word, _, _ in words(body)}
    special = EnglishStemmer._EnglishStemmer__special_words  # type: ignore[attr-defined]
    for word in sorted(vocabulary | set(special)):
        for term in terms(word):
            assert analysis._may_have(word, (term.rstrip("+")[:2],)), (word, term)


def test_the_pre_test_skips_most_words(bodies: list[str]) -> None:
    """Not a test of sameness: that the pre-test spares analysing most words of a query."""
    vocabulary = sorted({word for body in bodies[:800] for word, _, _ in words(body)})
    starts = tuple({t.rstrip("+")[:2] for t in _marked("termination for convenience", [])})
    kept = sum(analysis._may_have(word, starts) for word in vocabulary)
    assert kept < len(vocabulary) / 2

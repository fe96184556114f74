"""HTML-safe snippets: the one place that escapes document text and marks matched words, for
every backend. Matched words are found by re-analysing one unit, fragments by Whoosh's
highlighting functions (public API).

Units are short (clauses, at most a few thousand characters), so re-analysing the stored text
of the twenty units of a page takes about a millisecond (each distinct word judged once, and
only the words that can match analysed: see `_tokens`), while reading character offsets from
the postings (``TEXT(chars=True)``) meant stepping long posting lists for every term and hit
(about 17 ms per page at 1,000 documents, growing with the index) and made the index larger
and slower to build. Every character of document text is escaped; the only markup is ``<mark>``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import lru_cache

from whoosh.analysis import Token
from whoosh.highlight import (
    FIRST,
    BasicFragmentScorer,
    Formatter,
    Fragment,
    PinpointFragmenter,
    top_fragments,
)

from search.analysis import MAX_WORD, WORD_CHAR, WORD_RE, fold, term_matcher

__all__ = ["snippet"]

# Two fragments of at most FRAGMENT_CHARS plus SURROUND on each side: about 300 characters.
FRAGMENT_CHARS = 100
SURROUND = 40
FRAGMENTS = 2
PLAIN_CHARS = 240
# Matched words are looked for in this much of a unit (Whoosh's own fragmenter limit).
ANALYSED_CHARS = 2**15
_WHITESPACE = re.compile(r"[\s\x00-\x1f\x7f]+")
_ELLIPSES = re.compile(r"…(?:\s*…)+")
_WORD_CHAR = re.compile(WORD_CHAR)
# Words remembered per set of terms (see _judged) before they are forgotten.
JUDGED_WORDS = 10_000
_NEW = object()


class MarkFormatter(Formatter):
    """Escapes all text and wraps matched words in <mark>."""

    between = " … "  # collapsed with the fragments' own ellipses, see format()

    def _text(self, text: str) -> str:
        return html.escape(_WHITESPACE.sub(" ", text))

    def format_token(self, text: str, token: Token, replace: bool = False) -> str:
        return f"<mark>{self._text(text[token.startchar : token.endchar])}</mark>"

    def format(self, fragments: list[Fragment], replace: bool = False) -> str:
        # A fragment's own ellipses and the separator would read "… … …".
        return _ELLIPSES.sub(" … ", super().format(fragments, replace)).strip()

    def format_fragment(self, fragment: Fragment, replace: bool = False) -> str:
        inner = super().format_fragment(fragment, replace)
        before = "…" if fragment.startchar > 0 else ""
        after = "…" if fragment.endchar < len(fragment.text) else ""
        return f"{before}{inner.strip()}{after}"


_FRAGMENTER = PinpointFragmenter(maxchars=FRAGMENT_CHARS, surround=SURROUND, autotrim=True)
_FORMATTER = MarkFormatter()
_SCORER = BasicFragmentScorer()


def snippet(text: str, terms: frozenset[str]) -> str:
    """An escaped extract of text around the words whose stems are among `terms`, marked.

    A compound is marked when one of its parts' stems is (opzegtermijn for "termijn")."""
    tokens = _tokens(text[:ANALYSED_CHARS], terms)
    if not tokens:
        return _plain(text)
    if len(text) <= PLAIN_CHARS:  # a short unit is shown whole
        return _FORMATTER.format([Fragment(text, tokens, 0, len(text))]).strip()
    fragments = list(_FRAGMENTER.fragment_matches(text, tokens))
    best = top_fragments(fragments, FRAGMENTS, _SCORER, FIRST, minscore=0)
    return _FORMATTER.format(best) if best else _plain(text)


def _tokens(text: str, terms: frozenset[str]) -> list[Token]:
    """Tokens for the matched words of a text, in text order: those of `words(text)` whose
    `indexed_terms` include one of `terms`.

    The same tokens, found with less work. Whether a word matches depends on the word alone,
    so each distinct word is judged once per set of terms (`_judged`: a page's units share
    most words), and `term_matcher` analyses only the new words whose terms can match. A
    matched word is then looked for with str.find: an occurrence that no word character
    borders is a whole word of `words(text)`, and each of those is found, as `words` takes
    maximal runs of word characters (WORD_RE).
    """
    judged, matches = _judged(terms)
    if len(judged) > JUDGED_WORDS:
        judged.clear()
    marked: dict[str, str] = {}
    for word in set(WORD_RE.findall(text)):
        folded = judged.get(word, _NEW)
        if folded is _NEW:
            folded = fold(word)
            if len(word) > MAX_WORD or not matches(folded):
                folded = None
            judged[word] = folded
        if folded is not None:
            marked[word] = folded
    spans = []
    for word, folded in marked.items():
        start = text.find(word)
        while start >= 0:
            end = start + len(word)
            if not (start and _WORD_CHAR.match(text, start - 1) or _WORD_CHAR.match(text, end)):
                spans.append((start, end, folded))
            start = text.find(word, end)
    spans.sort()
    return [Token(text=word, startchar=start, endchar=end, boost=1.0) for start, end, word in spans]


@lru_cache(maxsize=16)
def _judged(terms: frozenset[str]) -> tuple[dict[str, str | None], Callable[[str], bool]]:
    """For a set of terms: each word already judged, as written, with its folded form when it
    matches and None when not; and the test for new words."""
    return {}, term_matcher(terms)


def _plain(text: str) -> str:
    """The escaped beginning of a text, for units matched only through metadata."""
    flat = _WHITESPACE.sub(" ", text).strip()
    if len(flat) <= PLAIN_CHARS:
        return html.escape(flat)
    cut = flat.rfind(" ", 0, PLAIN_CHARS)
    return html.escape(flat[: cut if cut > 0 else PLAIN_CHARS]) + "…"

"""Split contract text into numbered clauses with heading, page and position.

Clauses are recognised at line starts ("Artikel 12 – Aansprakelijkheid", "12.3 Titel",
"ARTICLE V", "5. Termination.", "Bijlage 2", "Schedule A") and, for text whose paragraphs were
flattened into long lines, after a run of spaces or a sentence end. Amounts, dates, page numbers,
running headers, table-of-contents entries and cross-references are kept out by the patterns
(ingest.clauses_patterns), the page layout (ingest.clauses_layout) and by keeping only the
longest plausibly increasing numbering (ingest.clauses_chain). Unnumbered headings
("Begripsbepalingen") open clauses only in documents with fewer than three numbered ones.

A bare heading (an opening with no body, or only a lead-in such as "De leverancier garandeert
dat:") is no clause of its own: it joins the clause it heads, so that every clause reads
as text. "Artikel 26 Aansprakelijkheid" followed by "26.1 ..." becomes one clause numbered 26
with heading "Aansprakelijkheid" that holds the heading line and 26.1; a chapter or annex title
joins the clause that follows it. A heading followed by a clause it does not head ("4. Reserved."
before "5. Price") stays a clause, as does the last one of a text.

The clauses tile the text: each character belongs to exactly one clause. Text before the first
clause is a preamble (number and heading ""). A clause longer than `max_clause_chars` is cut at
paragraph (else line, else sentence) boundaries into near-equal parts that keep its number and
heading, so no part is longer than `max_clause_chars`. Blank text has no clauses.

In Markdown every heading is a boundary (ingest.clauses_markdown): a chapter title between
articles heads the article below it, never ends the one above, and headings alone never
make a clause; plain text and PDF text are segmented without this.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ingest.clauses_chain import select
from ingest.clauses_layout import Layout, split_points
from ingest.clauses_markdown import (
    MARKDOWN,
    Heading,
    heading_openings,
    heading_view,
    headings,
    only_headings,
)
from ingest.clauses_patterns import looks_like_heading, roman_value
from ingest.clauses_scan import HARD, Candidate, numbered_candidates, plain_candidates

__all__ = ["Clause", "context_headings", "in_definitions", "segment"]

# Below this many numbered clauses a document counts as unnumbered, and headings alone
# ("Looptijd", "Governing Law") open clauses.
MIN_NUMBERED = 3
# A body of at most this many words that ends in a colon is a lead-in, not a clause: "In deze
# overeenkomst wordt verstaan onder:" joins its heading to the first definition.
LEAD_IN_WORDS = 20
_WORD = re.compile(r"[^\W_]+")
_PART_LEVELS = {"Part": 1, "Deel": 1, "Chapter": 2, "Hoofdstuk": 2}


@dataclass(frozen=True)
class Clause:
    """One clause of a document version, located by character offsets into its text."""

    number: str
    heading: str
    text: str
    page: int
    position: int
    start: int
    end: int


@dataclass(frozen=True)
class _Piece:
    """A clause before cutting to size: where it runs, what it is called and what opened it."""

    start: int
    end: int
    number: str
    heading: str
    opening: Candidate


def segment(text: str, *, max_clause_chars: int = 6000, markdown: bool = False) -> list[Clause]:
    """Numbered (and headed) clauses of `text`; a document without recognisable structure yields
    sections of about `max_clause_chars` split at paragraph ends, with number "" and page set.

    `markdown`: the text is Markdown, whose headings ("## Artikel 5 Aansprakelijkheid") open
    clauses as the same lines without their marks would; offsets and clause texts stay those
    of `text`, marks included.
    """
    if max_clause_chars < 1:
        raise ValueError("max_clause_chars must be positive")
    if not text.strip():
        return []
    view = heading_view(text) if markdown else text
    layout = Layout.of(view)
    openings = _openings(layout)
    marked = headings(text) if markdown else []
    if marked:
        openings = heading_openings(openings, marked)
    pieces = _merge_bare_headings(layout, _pieces(view, openings))
    if marked:
        pieces = _join_heading_runs(text, marked, pieces)
    clauses = _clauses(layout, pieces, max_clause_chars)
    if markdown:
        clauses = [replace(clause, text=text[clause.start : clause.end]) for clause in clauses]
    return _unhead_definitions(clauses)


def _openings(layout: Layout) -> list[Candidate]:
    """The candidates that open clauses, in text order, at distinct offsets."""
    chosen = select(layout, numbered_candidates(layout))
    if sum(1 for candidate in chosen if candidate.key is not None) < MIN_NUMBERED:
        headed = [(candidate.start, candidate.head_end) for candidate in chosen]
        chosen += [
            plain
            for plain in plain_candidates(layout)
            if not any(start <= plain.start < end for start, end in headed)
        ]
    openings: dict[int, Candidate] = {}
    for candidate in sorted(chosen, key=lambda candidate: candidate.anchor):
        openings.setdefault(candidate.start, candidate)
    return [openings[start] for start in sorted(openings)]


def _pieces(text: str, openings: list[Candidate]) -> list[_Piece]:
    """Whole clauses from their openings, with a preamble when text comes before the first."""
    starts = [opening.start for opening in openings]
    if not openings or text[: starts[0]].strip():
        openings = [_preamble(), *openings]
        starts = [0, *starts]
    starts[0] = 0
    ends = [*starts[1:], len(text)]
    return [
        _Piece(start, end, opening.label, opening.heading, opening)
        for opening, start, end in zip(openings, starts, ends, strict=True)
    ]


def _preamble() -> Candidate:
    """The opening of the text before the first clause (title, parties, recitals)."""
    return Candidate(
        start=0,
        anchor=0,
        label="",
        kind="plain",
        key=None,
        heading="",
        strength=HARD,
        weak=False,
        head_end=0,
    )


def _merge_bare_headings(layout: Layout, pieces: list[_Piece]) -> list[_Piece]:
    """The pieces with each run of bare headings joined to the clause they head."""
    merged: list[_Piece] = []
    waiting: list[_Piece] = []  # short pieces, each heading the next
    for piece in pieces:
        if waiting and not _heads(waiting[-1].opening, piece.opening):
            # The last short piece heads nothing: a short clause, with the headings above it.
            merged.append(_joined(waiting))
            waiting = []
        waiting.append(piece)
        if not _is_bare(layout, piece):
            merged.append(_joined(waiting))
            waiting = []
    return merged + ([_joined(waiting)] if waiting else [])


def _join_heading_runs(text: str, marked: list[Heading], pieces: list[_Piece]) -> list[_Piece]:
    """The pieces with each run of pieces that hold only Markdown headings joined to the piece
    after it, which keeps its number and heading: a "### Afdeling 1.2.1" above "### Artikel
    1.4" heads the article although its number does not (a last run stays as it is)."""
    joined: list[_Piece] = []
    waiting: _Piece | None = None
    for piece in pieces:
        if waiting is not None:
            piece = replace(piece, start=waiting.start)
        if only_headings(text, marked, piece.start, piece.end):
            waiting = piece
            continue
        joined.append(piece)
        waiting = None
    return joined + ([waiting] if waiting else [])


def _is_bare(layout: Layout, piece: _Piece) -> bool:
    """Whether a piece is a heading without a body of its own: after its number and heading
    only page furniture, unnumbered sub-headings ("Definitions") or a lead-in to what follows
    ("In deze overeenkomst wordt verstaan onder:")."""
    opening = piece.opening
    if not (opening.label or opening.heading):
        return False
    text = layout.text
    # The words of the number, its keyword ("Artikel", not "§") and the heading are no body.
    title = len(_WORD.findall(f"{opening.label} {opening.heading}"))
    title += opening.kind == "article" and text[opening.anchor].isalnum()
    title += opening.kind == MARKDOWN and bool(opening.label)  # "Artikel E10"
    body, last = 0, ""
    for line in range(layout.line_at(opening.anchor), layout.line_at(piece.end - 1) + 1):
        if line in layout.furniture:
            continue
        begin, stop = max(opening.anchor, layout.starts[line]), min(piece.end, layout.ends[line])
        words = len(_WORD.findall(text, begin, stop))
        if not words:
            continue
        content = text[begin:stop]
        if title >= words or (not title and opening.kind != MARKDOWN and _sub_heading(content)):
            title = max(0, title - words)
            continue
        body, title, last = body + words - title, 0, content.rstrip()[-1:]
        if body > LEAD_IN_WORDS or opening.kind == MARKDOWN:
            return False  # Markdown marks its headings: any other text is a body
    return not body or last == ":"


def _sub_heading(line: str) -> bool:
    """Whether a line reads as an unnumbered heading; one that ends in a full stop only when it
    cannot be a sentence ("Definitions.", not "Leverancier draagt zorg voor de uitvoering.")."""
    return looks_like_heading(line, strict=line.rstrip().endswith("."))


def _heads(head: Candidate, following: Candidate) -> bool:
    """Whether a bare heading heads the clause opened by `following`: a number heads its
    sub-clauses ("26" of "26.1", "23.0" of "23.1", "ARTICLE V" of "5.1") and unnumbered clauses;
    an annex, part or chapter title or an unnumbered heading heads anything but the next annex,
    part or chapter (an annex heads its parts and chapters, a part its chapters)."""
    if following.kind == "divider":
        return head.kind == "divider" and _part_level(head) < _part_level(following)
    if head.key is None or following.key is None:
        return True
    parent = head.key
    while len(parent) > 1 and parent[-1] == 0:
        parent = parent[:-1]
    return len(following.key) > len(parent) and following.key[: len(parent)] == parent


def _part_level(divider: Candidate) -> int:
    """0 for an annex ("Bijlage 2", "Schedule A"), 1 for a part, 2 for a chapter."""
    return _PART_LEVELS.get(divider.label.split()[0], 0)


def _joined(run: list[_Piece]) -> _Piece:
    """One piece from bare headings and the clause they head (the last piece). It is named by
    the outermost numbered heading (the article over its first paragraph, so that its other
    sub-clauses find the article's heading), else by the clause itself; without a heading of
    its own it takes the nearest one above it (an annex title). A Markdown heading with a
    number the segmenter does not read ("Artikel E10") counts as numbered."""
    named = next(
        (index for index, piece in enumerate(run[:-1]) if _numbered(piece.opening)),
        len(run) - 1,
    )
    heading = next((piece.heading for piece in run[named::-1] if piece.heading), "")
    return replace(run[named], start=run[0].start, end=run[-1].end, heading=heading)


def _numbered(opening: Candidate) -> bool:
    """Whether an opening names the clauses it heads by its number."""
    return opening.key is not None or (opening.kind == MARKDOWN and bool(opening.label))


def _clauses(layout: Layout, pieces: list[_Piece], limit: int) -> list[Clause]:
    """Clauses from pieces, cutting pieces longer than `limit` into parts."""
    clauses: list[Clause] = []
    for piece in pieces:
        cuts = split_points(layout.text, piece.start, piece.end, limit)
        for start, end in zip([piece.start, *cuts], [*cuts, piece.end], strict=True):
            clauses.append(
                Clause(
                    number=piece.number,
                    heading=piece.heading,
                    text=layout.text[start:end],
                    page=layout.page_at(_first_visible(layout.text, start, end)),
                    position=len(clauses),
                    start=start,
                    end=end,
                )
            )
    return clauses


def _first_visible(text: str, start: int, end: int) -> int:
    """Offset of the first non-space character in text[start:end] (or `start` if none)."""
    stripped = text[start:end].lstrip()
    return end - len(stripped) if stripped else start


def _unhead_definitions(clauses: list[Clause]) -> list[Clause]:
    """The clauses with the term a definition opens with no longer taken for its heading.

    "1.6. Broncode: het geheel van programma-instructies ..." and '1.1 "Affiliate" means ...'
    define a word; they are not clauses about source code or affiliates. With the term as its
    heading a definition outranked the article that regulates the thing ("escrow" found the
    definition of Escrow before article 47 Escrow) and was typed as that clause. Without it the
    definition takes its article's heading ("Begrippen", "Definitions") as context.
    """
    articles: dict[str, str] = {}
    result = []
    for clause in clauses:
        number = _outline_number(clause.number)
        parent, article = number, ""
        while "." in parent and not article:
            parent = parent.rsplit(".", 1)[0]
            article = articles.get(parent, "")
        if clause.heading and _defines(clause, article):
            clause = replace(clause, heading="")
        elif number and clause.heading:
            articles[number] = clause.heading
        result.append(clause)
    return result


# A definitions article's heading, in Dutch or English: it opens with the word ("Definities",
# "Definitions and Interpretation", "Article 1 - Defined Terms") or one or two words go before
# the plural ("Aanvullende begripsbepalingen", "Certain Definitions"). Whole words only:
# "Definitieve oplevering", "Definitive Agreement", "Governing Law and Interpretation" and
# "met inbegrip van" are no definitions.
_DEFINITIONS_HEADING = re.compile(
    r"^\W*(?:(?:artikel|article|section|clause|hoofdstuk|chapter)\s+[\w.]+\W+)?"
    r"(?:(?:definitions?|definities|begrippen|begripsbepalingen|begripsomschrijvingen"
    r"|defined\s+terms|interpretation|woordenlijst|glossary)\b"
    r"|(?:\w+\s+){1,2}(?:definitions|definities|begrippen|begripsbepalingen)\b)",
    re.IGNORECASE,
)
# What follows a defined term: a colon, or a verb that defines.
_DEFINING = re.compile(
    r"""[\s"'”’]*(?::|(?:shall\s+)?(?:means?|have\s+the\s+meanings?|has\s+the\s+meanings?|"""
    r"""refers?\s+to|betekent|betekenen)\b)""",
    re.IGNORECASE,
)


def _defines(clause: Clause, article_heading: str) -> bool:
    """Whether a clause opens with the term it defines, its heading: after its number only the
    term (quoted or not), then a defining verb, or a colon followed by a lower-case word or
    inside a definitions article ("Objectcode: Vertaling van de Broncode ...")."""
    if in_definitions(clause.heading):
        return False  # "1. Definitions: the following terms ..." heads the definitions
    head = clause.text[: len(clause.number) + len(clause.heading) + 40]
    at = head.find(clause.heading)
    if at < 0 or not all(map(_numbering_word, _WORD.findall(head[:at]))):
        return False
    defining = _DEFINING.match(head, at + len(clause.heading))
    if not defining:
        return False
    if not defining.group().endswith(":"):
        return True
    following = clause.text[at + len(clause.heading) + len(defining.group()) :].lstrip()
    return following[:1].islower() or in_definitions(article_heading)


def _numbering_word(word: str) -> bool:
    """Whether a word before a clause's heading belongs to its number ("Artikel", "1", "iv")."""
    lower = word.lower()
    return word.isdigit() or len(word) == 1 or set(lower) <= set("ivxlc") or lower in _KEYWORDS


_KEYWORDS = frozenset({"artikel", "article", "art", "section", "sectie", "clause", "lid"})


class Headed(Protocol):
    """Anything with a clause number and heading (a Clause, a stored clause row)."""

    number: str
    heading: str


def context_headings(clauses: Sequence[Headed]) -> list[str]:
    """Each clause's heading, or for an unheaded sub-clause ("4.4") its article's ("Looptijd").

    Contracts head the article and number the paragraphs under it: indexing 4.4 with the
    heading of article 4 lets "looptijd verlengen" find the paragraph that says how. The article
    may be numbered "4.0" or "ARTICLE IV".
    """
    headings: dict[str, str] = {}
    result = []
    for clause in clauses:
        number = _outline_number(clause.number)
        heading = clause.heading
        if number and heading:
            headings[number] = heading
        elif number and not heading:
            parent = number
            while "." in parent and not heading:
                parent = parent.rsplit(".", 1)[0]
                heading = headings.get(parent, "")
            if heading:
                headings[number] = heading
        result.append(heading)
    return result


def in_definitions(heading: str) -> bool:
    """Whether a clause with this heading (its context heading, see `context_headings`) sits
    among the definitions: "Begrippen", "Definitions", "Defined Terms and Interpretation".
    A definition says what a word means, not what was agreed; search ranks it lower."""
    return bool(_DEFINITIONS_HEADING.match(heading))


def _outline_number(number: str) -> str:
    """A clause number as its sub-clauses extend it: "4.0" and "IV" are "4" (of "4.1")."""
    number = number.rstrip(".")
    if number and set(number) <= set("IVXLC"):
        value = roman_value(number)
        return str(value) if value else number
    while number.endswith(".0"):
        number = number[:-2]
    return number

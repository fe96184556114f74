"""Split contract text into numbered clauses with heading, page and position.

Clauses are recognised at line starts ("Artikel 12 – Aansprakelijkheid", "12.3 Titel",
"ARTICLE V", "5. Termination.", "Bijlage 2", "Schedule A") and, for text whose paragraphs were
flattened into long lines, after a run of spaces or a sentence end. Amounts, dates, page numbers,
running headers, table-of-contents entries and cross-references are kept out by the patterns
(ingest.clauses_patterns), the page layout (ingest.clauses_layout) and by keeping only the
longest plausibly increasing numbering (ingest.clauses_chain). Unnumbered headings
("Begripsbepalingen") open clauses only in documents with fewer than three numbered ones.

The clauses tile the text: each character belongs to exactly one clause. Text before the first
clause is a preamble (number and heading ""). A clause longer than `max_clause_chars` is cut at
paragraph (else line, else sentence) boundaries into near-equal parts that keep its number and
heading, so no part is longer than `max_clause_chars`. Blank text has no clauses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ingest.clauses_chain import select
from ingest.clauses_layout import Layout, split_points
from ingest.clauses_markdown import heading_view
from ingest.clauses_scan import HARD, Candidate, numbered_candidates, plain_candidates

__all__ = ["Clause", "segment"]

# Below this many numbered clauses a document counts as unnumbered, and headings alone
# ("Looptijd", "Governing Law") open clauses.
MIN_NUMBERED = 3


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
    """A clause before cutting to size: where it runs and what it is called."""

    start: int
    end: int
    number: str
    heading: str


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
    pieces = _pieces(view, _openings(layout))
    clauses = _clauses(layout, pieces, max_clause_chars)
    if markdown:
        clauses = [replace(clause, text=text[clause.start : clause.end]) for clause in clauses]
    return clauses


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
        _Piece(start, end, opening.label, opening.heading)
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


class Headed(Protocol):
    """Anything with a clause number and heading (a Clause, a stored clause row)."""

    number: str
    heading: str


def context_headings(clauses: Sequence[Headed]) -> list[str]:
    """Each clause's heading, or for an unheaded sub-clause ("4.4") its article's ("Looptijd").

    Contracts head the article and number the paragraphs under it: indexing 4.4 with the
    heading of article 4 lets "looptijd verlengen" find the paragraph that says how.
    """
    headings: dict[str, str] = {}
    result = []
    for clause in clauses:
        number = clause.number.rstrip(".")
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

"""Lines, pages, running headers and paragraph boundaries of extracted document text."""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass

__all__ = ["Layout", "is_toc_entry", "split_points"]

# A line that is only a page number: "3", "- 3 -", "Page 3 of 12", "Pagina 3 van 12", "3/12".
_PAGE_NUMBER = re.compile(
    r"(?i)^(?:-\s*\d{1,4}\s*-|\[?\d{1,4}\]?|(?:page|pagina|blz\.?|p\.)\s*\d{1,4}"
    r"(?:\s*(?:of|van|/)\s*\d{1,4})?|\d{1,4}\s*(?:of|van|/)\s*\d{1,4})$"
)
# A table-of-contents entry: a dotted leader and a page number (or a tab and a page number at
# the end of the line), not preceded by a finished sentence.
_TOC_LEADER = re.compile(
    r"(?:\.{4,}|…{2,}|(?:\. ){3,}|_{4,}|·{3,})[ \t]*\d{1,4}(?!\S)|\t[ \t]*\d{1,4}[ \t\r]*$"
)
_SENTENCE = re.compile(r"[^\W\d_]{2}[.!?]\s")
# Lines that may open a clause ("12.3 ...", "Artikel ..."): never furniture by their shape.
_STARTS_NUMBERED = re.compile(r"^[\W_]*(?:\d|(?:art|sec|bijl|sch|exh|ann|app|hoofd|chap)\w*\s)")
# Places to cut an over-long clause, best first: blank line or page break, line break,
# a run of spaces (paragraph ends in text flattened to one line), sentence end, any space.
_BOUNDARIES = (
    re.compile(r"\n[ \t\r]*[\n\f]\s*|\f\s*"),
    re.compile(r"\n\s*"),
    re.compile(r"[ \t]{3,}"),
    re.compile(r"[.;:!?][\"')\]”]*\s+"),
    re.compile(r"\s+"),
)
# A line seen this often (or this often but for its numbers) is a running header or footer.
REPEATS = 3


@dataclass(frozen=True)
class Layout:
    """Line and page geometry of a text, with the lines that are page furniture."""

    text: str
    starts: list[int]
    ends: list[int]
    breaks: list[int]
    furniture: frozenset[int]

    @classmethod
    def of(cls, text: str) -> Layout:
        """Measure `text`: lines end at "\\n" or "\\f" (without a "\\r" before it), pages at
        "\\f"."""
        separators = [match.start() for match in re.finditer(r"[\n\f]", text)]
        starts = [0] + [offset + 1 for offset in separators]
        ends = [
            offset - 1 if offset > start and text[offset - 1] == "\r" else offset
            for start, offset in zip(starts, [*separators, len(text)], strict=True)
        ]
        breaks = [offset for offset in separators if text[offset] == "\f"]
        lines = [text[start:end].strip() for start, end in zip(starts, ends, strict=True)]
        return cls(text, starts, ends, breaks, _furniture(lines))

    def line_at(self, offset: int) -> int:
        """Index of the line holding `offset`."""
        return bisect_right(self.starts, offset) - 1

    def line(self, index: int) -> str:
        """Text of line `index` without its separator."""
        return self.text[self.starts[index] : self.ends[index]]

    def page_at(self, offset: int) -> int:
        """1-based page of `offset`: one more than the form feeds before it."""
        return bisect_left(self.breaks, offset) + 1

    def is_content(self, index: int) -> bool:
        """Whether line `index` holds text that is not page furniture."""
        return index not in self.furniture and bool(self.line(index).strip())

    def next_content(self, index: int, *, within: int = 4, repeats: bool = False) -> int | None:
        """Index of the first content line after `index`, looking at most `within` lines on;
        with `repeats`, a repeated line counts as content (it may be a heading used twice)."""
        for following in range(index + 1, min(index + 1 + within, len(self.starts))):
            line = self.line(following).strip()
            if self.is_content(following) or (repeats and line and not _PAGE_NUMBER.match(line)):
                return following
        return None

    def previous_content(self, index: int, *, within: int = 4) -> int | None:
        """Index of the last content line before `index`, or None after a blank or page start."""
        for previous in range(index - 1, max(index - 1 - within, -1), -1):
            if self.is_content(previous):
                return previous
            if previous not in self.furniture:
                return None
        return None


def is_toc_entry(text: str) -> bool:
    """Whether a heading (and what follows it on its line) runs into a dotted leader and a page
    number, as in a table of contents."""
    leader = _TOC_LEADER.search(text)
    return leader is not None and not _SENTENCE.search(text, 0, leader.start())


def _furniture(lines: list[str]) -> frozenset[int]:
    """Lines that are page numbers or repeat as running headers or footers."""
    exact = Counter(line for line in lines if 3 <= len(line) <= 120)
    shapes = Counter(_shape(line) for line in lines)
    found = set()
    for index, line in enumerate(lines):
        if not line:
            continue
        repeated = exact[line] >= REPEATS or (_shape(line) and shapes[_shape(line)] >= REPEATS)
        if _PAGE_NUMBER.match(line) or repeated:
            found.add(index)
    return frozenset(found)


def _shape(line: str) -> str:
    """A line with its numbers blanked, for running footers such as "Contract X, page 3";
    empty for short lines and numbered lines, which may be clause headings."""
    if len(line) > 120 or len(line.split()) < 3 or _STARTS_NUMBERED.match(line.lower()):
        return ""
    return re.sub(r"\d+", "#", line.lower())


def split_points(text: str, start: int, end: int, limit: int) -> list[int]:
    """Offsets that cut text[start:end] into near-equal parts of at most `limit` characters."""
    cuts = []
    position = start
    while end - position > limit:
        parts = math.ceil((end - position) / limit)
        target = position + (end - position) // parts
        cut = _best_cut(text, position + max(1, limit // 3), position + limit, target)
        cuts.append(cut)
        position = cut
    return cuts


def _best_cut(text: str, low: int, high: int, target: int) -> int:
    """The end of the best boundary in text[low:high] nearest to `target`; `target` if none."""
    for boundary in _BOUNDARIES:
        ends = [match.end() for match in boundary.finditer(text, low, high)]
        if ends:
            return min(ends, key=lambda offset: abs(offset - target))
    return target

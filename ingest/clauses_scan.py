"""Find the places in a text that could open a clause: numbers, keywords and bare headings."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.clauses_layout import Layout, is_toc_entry
from ingest.clauses_patterns import (
    DIVIDER_LABELS,
    KEYWORD,
    NUMBER,
    clean_heading,
    cut_heading,
    looks_like_heading,
    numeric_key,
    roman_value,
)

__all__ = ["HARD", "INLINE", "SOFT", "Candidate", "numbered_candidates", "plain_candidates"]

# How a candidate sits in its line: at the line start, after a run of spaces (paragraphs
# flattened into one line), or right after a sentence end within running text.
HARD, SOFT, INLINE = 2, 1, 0
# Characters looked at around a number: more than any indentation before it, and (four
# times) more than any heading after it; keeps the scan linear on very long lines.
WINDOW = 100
_HARD_PREFIX = re.compile(r"[ \t\xa0>#*]*")
_SEGMENT_END = re.compile(r"[ \xa0]{2,}|\t")
_ADDRESS_END = re.compile(r"\S*[./@]\S*[^\W_]$")
_GLUE_OK = " \t\xa0\r\n\f\"“'‘"


@dataclass(frozen=True)
class Candidate:
    """A possible clause start and what it would be called."""

    start: int
    anchor: int
    label: str
    kind: str
    key: tuple[int, ...] | None
    heading: str
    strength: int
    weak: bool
    head_end: int


def numbered_candidates(layout: Layout) -> list[Candidate]:
    """Keyword ("Artikel 12", "Schedule A") and number ("12.3", "5.") candidates, in order."""
    found: dict[int, Candidate] = {}
    keywords = list(KEYWORD.finditer(layout.text))
    for match in keywords:
        candidate = _keyword_candidate(layout, match)
        if candidate:
            found[candidate.anchor] = candidate
    taken = {match.start("id") for match in keywords}
    for match in NUMBER.finditer(layout.text):
        if match.start() in taken or match.start() in found:
            continue
        candidate = _number_candidate(layout, match)
        if candidate:
            found[candidate.anchor] = candidate
    return [found[anchor] for anchor in sorted(found)]


def _strength(layout: Layout, offset: int) -> int | None:
    """How `offset` sits in its line, or None when it is inside running text."""
    start = layout.starts[layout.line_at(offset)]
    prefix = layout.text[max(start, offset - WINDOW) : offset]
    if offset - start <= WINDOW and _HARD_PREFIX.fullmatch(prefix):
        return HARD
    if prefix.endswith(("  ", "\t", "\xa0 ", " \xa0")):
        return SOFT
    if len(prefix) < 2 or prefix[-1] != " ":
        return None
    if prefix[-2] in '.:;)]"”':
        return INLINE
    # After a word in capitals: a heading or running header ("CONFIDENTIAL 6.6 Taxes.").
    word = prefix.split()[-1] if prefix.strip() else ""
    if len(word) > 1 and word.isalpha() and word.isupper() and not KEYWORD.fullmatch(word + " 1"):
        return INLINE
    return None


def _rest(layout: Layout, offset: int, strength: int) -> tuple[str, bool, int]:
    """Text after a number up to the end of its line or paragraph run, whether that closes the
    heading (the next line does not continue it in lower case), and where it ends."""
    line = layout.line_at(offset)
    end = min(layout.ends[line], offset + 4 * WINDOW)
    rest = layout.text[offset:end]
    lead = len(rest) - len(rest.lstrip(" \t\xa0.:-–—"))
    cut = _SEGMENT_END.search(layout.text, offset + lead, end)
    if cut:
        return layout.text[offset : cut.start()], True, cut.start()
    if end < layout.ends[line]:
        return rest, False, end
    following = layout.next_content(line, within=2)
    if following is None or strength != HARD or _opens_line(layout.line(following)):
        return rest, True, end
    wrapped = _wrapped(layout, rest, following)
    return (wrapped, True, layout.ends[following]) if wrapped else (rest, False, end)


def _wrapped(layout: Layout, rest: str, following: int) -> str:
    """`rest` joined to the next line when that reads as the tail of a heading broken over two
    lines ("Artikel 8. Kwaliteitsnormen, \nnormen en standaarden"); "" otherwise."""
    tail = layout.line(following).strip()
    after = layout.next_content(following, within=2)
    if (
        len(tail) > 80
        or tail[-1:] in ".,;:"
        or not (after is None or _opens_line(layout.line(after)))
    ):
        return ""
    rest = rest.rstrip()
    return rest[:-1] + tail if rest.endswith("-") else f"{rest} {tail}"


def _opens_line(line: str) -> bool:
    """Whether a line starts afresh (capital, bracket, clause number) rather than carrying on
    the sentence of the line before (lower case, an amount such as "1.250.000")."""
    line = line.lstrip()
    number = NUMBER.match(line)
    if number:
        return numeric_key(number["id"]) is not None
    return not line[:1].islower() and not line[:1].isdigit()


def _heading(
    layout: Layout, offset: int, strength: int, *, keyword: bool = False
) -> tuple[str, bool, int] | None:
    """(heading, found, end of heading) for a number ending at `offset`, or None when the text
    after the number continues a sentence."""
    # After a keyword ("Artikel 7.") the rest of the line is a heading even in sentence case;
    # a number alone on its line takes its heading from the next line.
    rest, closes, end = _rest(layout, offset, strength)
    cut = cut_heading(rest, line_ends=closes, keyword=keyword)
    if cut is None:
        return None
    if rest.strip(" \t\xa0.:-–—"):
        return cut[0], cut[1], end if cut[1] else offset
    following = layout.next_content(layout.line_at(offset), within=3, repeats=True)
    if following is None:
        return None
    line = layout.line(following).strip()
    if looks_like_heading(line) and not NUMBER.match(line) and not KEYWORD.match(line):
        return clean_heading(line), True, layout.ends[following]
    if line[:1].islower():
        return None
    return "", False, end


def _glued_ok(layout: Layout, end: int, *, arabic: bool) -> bool:
    """Whether the character after a number allows a clause start: a space, a quote, a
    separator, or (for arabic numbers) a capital glued on by PDF extraction."""
    if end >= len(layout.text):
        return True
    char = layout.text[end]
    return char in _GLUE_OK or char in ":-–—" or (arabic and char.isupper())


def _keyword_candidate(layout: Layout, match: re.Match[str]) -> Candidate | None:
    """Candidate for "Artikel 12", "ARTICLE V", "Bijlage 2", "Schedule A" and the like."""
    strength = _strength(layout, match.start())
    identifier = match["id"]
    arabic = identifier[0].isdigit()
    if strength is None or not _glued_ok(layout, match.end(), arabic=arabic):
        return None
    word = match["word"].lower()
    if word in DIVIDER_LABELS:
        return _divider(layout, match, strength)
    key = numeric_key(identifier) if arabic else _roman_key(identifier)
    heading = _heading(layout, match.end(), strength, keyword=True)
    if key is None or heading is None or (strength == INLINE and not heading[1]):
        return None
    return Candidate(
        start=_clause_start(layout, match.start(), strength),
        anchor=match.start(),
        label=identifier,
        kind="article",
        key=key,
        heading=heading[0],
        strength=strength,
        weak=False,
        head_end=heading[2],
    )


def _roman_key(identifier: str) -> tuple[int, ...] | None:
    """Key of a Roman article number; single letters other than numerals are not numbers."""
    if set(identifier) - set("IVXLC"):
        return None
    value = roman_value(identifier)
    return (value,) if value else None


def _divider(layout: Layout, match: re.Match[str], strength: int) -> Candidate | None:
    """Candidate for an annex or chapter heading, which must stand as a heading line."""
    heading = _heading(layout, match.end(), strength, keyword=True)
    rest = layout.text[match.end() : heading[2]] if heading else ""
    if strength == INLINE or heading is None or (rest.strip() and not heading[1]):
        return None
    label = f"{DIVIDER_LABELS[match['word'].lower()]} {match['id']}"
    return Candidate(
        start=_clause_start(layout, match.start(), strength),
        anchor=match.start(),
        label=label,
        kind="divider",
        key=None,
        heading=heading[0],
        strength=strength,
        weak=False,
        head_end=heading[2],
    )


def _number_candidate(layout: Layout, match: re.Match[str]) -> Candidate | None:
    """Candidate for "12.3", "12.3 Titel", "5. Termination." and "1.1. Acceptatie: ..."."""
    strength = _strength(layout, match.start())
    key = numeric_key(match["id"])
    if strength is None or key is None or not _glued_ok(layout, match.end(), arabic=True):
        return None
    bare = len(key) == 1 and not match["dot"]
    if bare and (strength != HARD or layout.text[match.end() : match.end() + 1] not in " \t"):
        return None
    heading = _heading(layout, match.end(), strength)
    if heading is None or (bare and not heading[1]):
        return None
    return Candidate(
        start=_clause_start(layout, match.start(), strength),
        anchor=match.start(),
        label=match["id"],
        kind="number",
        key=key,
        heading=heading[0],
        strength=strength,
        weak=len(key) == 1 and not heading[1],
        head_end=heading[2],
    )


def _clause_start(layout: Layout, anchor: int, strength: int) -> int:
    """A clause at a line start takes the whole line (its indentation); others begin at the
    number, leaving the spaces before it to the previous clause."""
    return layout.starts[layout.line_at(anchor)] if strength == HARD else anchor


def plain_candidates(layout: Layout) -> list[Candidate]:
    """Unnumbered headings ("Begripsbepalingen"): a short capitalised line after a finished
    sentence or a blank line, followed by a line of body text."""
    found = []
    for index in range(len(layout.starts)):
        if _is_plain_heading(layout, index):
            line = layout.line(index)
            anchor = layout.starts[index] + len(line) - len(line.lstrip())
            heading = clean_heading(line)
            found.append(
                Candidate(
                    start=layout.starts[index],
                    anchor=anchor,
                    label="",
                    kind="plain",
                    key=None,
                    heading=heading,
                    strength=HARD,
                    weak=False,
                    head_end=layout.ends[index],
                )
            )
    return found


def _is_plain_heading(layout: Layout, index: int) -> bool:
    """Whether line `index` is an unnumbered heading."""
    if not layout.is_content(index):
        return False
    line = layout.line(index).strip().strip("#*_ ")
    if not line or line[-1] in ".,;:!?" or len(line.split()) > 10 or is_toc_entry(line):
        return False
    if not line[0].isupper() or not looks_like_heading(line):
        return False
    previous = layout.previous_content(index)
    if previous is not None and not _finished(layout.line(previous)):
        return False
    following = layout.next_content(index, within=3)
    if following is None:
        return False
    body = layout.line(following).strip()
    if not (body[:1].isupper() or body[:1] in "\"'“(["):
        return False
    return len(body) >= 60 or body[-1:] in ".;:" or not looks_like_heading(body)


def _finished(line: str) -> bool:
    """Whether a line ends a sentence (or with a web address or file name, as DOCX lines may)."""
    line = line.rstrip()
    return line[-1:] in '.:;!?)"”' or bool(_ADDRESS_END.search(line))

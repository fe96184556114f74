"""Markdown headings as the clause segmenter can see them, at the same offsets.

To a reader "## Artikel 5 Aansprakelijkheid" is a heading, but its hash marks hide the number
from the segmenter, which looks for numbers at line starts; and legal texts converted to
Markdown often give the number and the title two headings of their own ("### 19", a blank line,
"####Aansprakelijkheid"). `heading_view` gives the segmenter a copy of the text of exactly the
same length in which each ATX heading ("#" to "######" at a line start, with or without the
space CommonMark wants) that starts with a clause number has lost its marks and emphasis,
padded with spaces at its end, and a heading that is only a number is joined with the title
heading right after it. Other headings keep their marks: a subtitle such as "bij de Regeling
..." would otherwise read as the continuation of the heading above it. Every offset into the
view is an offset into the text, and the clauses' text is cut from the text itself.

A heading is also a boundary the segmenter must respect whether or not it is numbered: a
chapter title between articles ("### V", "####Tekortschieten in de nakoming, ontbinding"), a
"## Hoofdstuk 3" the numbering does not follow, a plain title ("### Definities").
`heading_openings` makes every heading that no clause opening holds an opening of its own, so
it heads the clause below it instead of ending the clause above; `only_headings` tells a piece
that holds nothing but headings, which the segmenter joins to the clause it heads.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from ingest.clauses_patterns import clean_heading
from ingest.clauses_scan import HARD, Candidate

# The kind of an opening made from a Markdown heading that the segmenter did not take itself.
MARKDOWN = "markdown"

# An ATX heading line: up to three spaces, one to six marks, the content, optional closing
# marks. "##Besluit" (no space) is common in converted legal texts, so the space is optional.
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+|(?=[^#\s])|$)(?P<content>[^\n]*?)[ \t#]*$", re.M)
# A heading that is only a clause number: "19", "4.2", "IV", "Artikel 7", "Bijlage 2".
_BARE_NUMBER = re.compile(
    r"(?:(?:artikel|article|bijlage|annex|hoofdstuk|chapter|afdeling|paragraaf|section)\s+)?"
    r"(?:\d+(?:\.\d+)*[a-z]?|[IVXLC]+)\.?",
    re.I,
)
# A heading that starts with a clause number ("Artikel 5 Aansprakelijkheid", "4.2 Termijn").
_NUMBERED = re.compile(_BARE_NUMBER.pattern + r"(?=\s|$)", re.I)
# A number heading that names an article, whose title may start in lower case.
_ARTICLE = re.compile(r"(?:artikel|article)\s", re.I)
# An article heading, by the time it reaches `heading_openings` one whose number the segmenter
# did not take ("Artikel E3 Duur", or "Artikel 6 ..." of a second series of articles).
_ARTICLE_HEADING = re.compile(
    r"(?:artikel|article)\s+(?P<id>[A-Z]{0,2}\d{1,3}(?:\.\d{1,3})*[a-z]?)\b[\s.:–-]*(?P<title>.*)",
    re.I,
)
# Emphasis around a whole heading: *x*, **x**, _x_, __x__.
_EMPHASIS = re.compile(r"^(?P<mark>\*{1,3}|_{1,3})(?P<inner>\S(?:.*\S)?)(?P=mark)$")
# What may stand between a number heading and its title heading: blank lines, no page break.
_GAP = re.compile(r"\n[ \t]*(?:\n[ \t]*)*")


@dataclass(frozen=True)
class Heading:
    """A Markdown heading (a number heading joined with its title heading counts as one): where
    it runs in the text, what it says without marks and emphasis, whether it opens with a
    clause number, and whether it is a subtitle continuing the heading right above it
    ("####bij de Regeling ..." under "### Bijlage 1")."""

    start: int
    end: int
    content: str
    numbered: bool
    subtitle: bool = False


def headings(text: str) -> list[Heading]:
    """The ATX headings of `text` in order, each number heading joined with its title."""
    found: list[Heading] = []
    matches = list(_HEADING.finditer(text))
    index = 0
    while index < len(matches):
        heading = matches[index]
        content = _plain(heading)
        following = matches[index + 1] if index + 1 < len(matches) else None
        if following is not None and _joins(text, heading, following):
            title = _plain(following)
            if title[:1].islower() and len(title[:1].upper()) == 1:
                title = title[:1].upper() + title[1:]  # the segmenter reads titles capitalised
            found.append(Heading(heading.start(), following.end(), f"{content} {title}", True))
            index += 2
            continue
        subtitle = (
            bool(found)
            and content[:1].islower()
            and _GAP.fullmatch(text, found[-1].end, heading.start()) is not None
        )
        numbered = _NUMBERED.match(content) is not None
        found.append(Heading(heading.start(), heading.end(), content, numbered, subtitle))
        index += 1
    return found


# What `readable` takes out of Markdown for people to read: a line that is only an HTML tag
# (converted laws open with "<meta http-equiv=...>"), emphasis marks around words, the address
# of a link (its text stays), a heading's marks and a backslash before a marked character.
_TAG_LINE = re.compile(r"^[ \t]*<[^<>\n]*>[ \t]*(?:\n|$)", re.M)
_WORD_EMPHASIS = re.compile(r"(?<![\w*_\\])(\*{1,3}|_{1,3})(?=\S)([^\n]*?\S)\1(?![\w*_])")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_HEADING_MARKS = re.compile(r"^ {0,3}#{1,6}[ \t]*", re.M)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>])")


def readable(text: str) -> str:
    """Markdown text as a person reads it: without its marks (headings, emphasis, links, lone
    HTML tags), the words and line breaks as they were."""
    text = _TAG_LINE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _WORD_EMPHASIS.sub(r"\2", text)
    text = _HEADING_MARKS.sub("", text)
    return _ESCAPE.sub(r"\1", text)


def heading_view(text: str) -> str:
    """The text with its numbered Markdown headings made plain, at unchanged offsets (same
    length)."""
    view = list(text)
    for heading in headings(text):
        if heading.numbered:
            _put(view, heading.start, heading.end, heading.content)
    return "".join(view)


def heading_openings(openings: list[Candidate], marked: list[Heading]) -> list[Candidate]:
    """The openings with every Markdown heading that is in none of them ("### V" with
    "####Tekortschieten in de nakoming, ontbinding", "### Definities") as an opening of its
    own: a heading is a boundary, so it never ends the clause above it; bare, it joins the
    clause it heads. A subtitle stays with the heading above it."""
    starts = [opening.start for opening in openings]
    added = [
        _opening(heading)
        for heading in marked
        if heading.content and not heading.subtitle and not _inside(openings, starts, heading)
    ]
    return sorted([*openings, *added], key=lambda opening: opening.start)


def _inside(openings: list[Candidate], starts: list[int], heading: Heading) -> bool:
    """Whether a heading is part of an opening's number and heading (the openings in order)."""
    index = bisect_right(starts, heading.start) - 1
    if index < 0:
        return False
    opening = openings[index]
    return heading.start < max(opening.head_end, opening.anchor + 1)


def _opening(heading: Heading) -> Candidate:
    """An opening for a heading; "Artikel E3 Duur" is numbered "E3" and headed "Duur"."""
    article = _ARTICLE_HEADING.fullmatch(heading.content)
    return Candidate(
        start=heading.start,
        anchor=heading.start,
        label=article["id"] if article else "",
        kind=MARKDOWN,
        key=None,
        heading=clean_heading(article["title"] if article else heading.content),
        strength=HARD,
        weak=False,
        head_end=heading.end,
    )


def only_headings(text: str, marked: list[Heading], start: int, end: int) -> bool:
    """Whether everything in text[start:end] but white space belongs to Markdown headings."""
    cursor = start
    first = bisect_right(marked, cursor, key=lambda heading: heading.end)
    for heading in marked[first:]:
        if heading.start >= end:
            break
        if text[cursor : heading.start].strip():
            return False
        cursor = heading.end
    return cursor > start and not text[cursor:end].strip()


def _plain(heading: re.Match[str]) -> str:
    """A heading's content without the emphasis around it ("*Artikel E2 Object*")."""
    return _EMPHASIS.sub(r"\g<inner>", heading["content"].strip())


def _joins(text: str, heading: re.Match[str], following: re.Match[str]) -> bool:
    """Whether `heading` is a bare number whose title is the `following` heading. A title
    starts with a capital, except under an article number ("### Artikel 19" then
    "####beveiligingsprocedures en huisregels"): "Bijlage 1" then "bij de Regeling ..." is a
    number and a subtitle."""
    number, title = _plain(heading), _plain(following)
    return (
        _BARE_NUMBER.fullmatch(number) is not None
        and (title[:1].isupper() or (title[:1].isalpha() and _ARTICLE.match(number) is not None))
        and _BARE_NUMBER.fullmatch(title) is None
        and _GAP.fullmatch(text, heading.end(), following.start()) is not None
    )


def _put(view: list[str], start: int, end: int, line: str) -> None:
    """Write `line` over view[start:end], padded with spaces to the same length."""
    view[start:end] = line.ljust(end - start)[: end - start]

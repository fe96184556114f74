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
"""

from __future__ import annotations

import re

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
# Emphasis around a whole heading: *x*, **x**, _x_, __x__.
_EMPHASIS = re.compile(r"^(?P<mark>\*{1,3}|_{1,3})(?P<inner>\S(?:.*\S)?)(?P=mark)$")
# What may stand between a number heading and its title heading: blank lines, no page break.
_GAP = re.compile(r"\n[ \t]*(?:\n[ \t]*)*")


def heading_view(text: str) -> str:
    """The text with its Markdown headings made plain, at unchanged offsets (same length)."""
    view = list(text)
    headings = list(_HEADING.finditer(text))
    joined: set[int] = set()
    for index, heading in enumerate(headings):
        if index in joined:
            continue
        content = _plain(heading)
        following = headings[index + 1] if index + 1 < len(headings) else None
        if following is not None and _joins(text, heading, following):
            _put(view, heading.start(), following.end(), f"{content} {_plain(following)}")
            joined.add(index + 1)
        elif _NUMBERED.match(content):
            _put(view, heading.start(), heading.end(), content)
    return "".join(view)


def _plain(heading: re.Match[str]) -> str:
    """A heading's content without the emphasis around it ("*Artikel E2 Object*")."""
    return _EMPHASIS.sub(r"\g<inner>", heading["content"].strip())


def _joins(text: str, heading: re.Match[str], following: re.Match[str]) -> bool:
    """Whether `heading` is a bare number whose title is the `following` heading (a title
    starts with a capital: "Bijlage 1" then "bij de Regeling ..." is a number and a subtitle)."""
    title = _plain(following)
    return (
        _BARE_NUMBER.fullmatch(_plain(heading)) is not None
        and title[:1].isupper()
        and _BARE_NUMBER.fullmatch(title) is None
        and _GAP.fullmatch(text, heading.end(), following.start()) is not None
    )


def _put(view: list[str], start: int, end: int, line: str) -> None:
    """Write `line` over view[start:end], padded with spaces to the same length."""
    view[start:end] = line.ljust(end - start)[: end - start]

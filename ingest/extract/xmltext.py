"""Plain text from the XML of office documents, in document order, within a character budget."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from .model import Unreadable

# Never fetch, never expand entities, no DTDs, no huge-tree mode: the file is untrusted.
SAFE_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)
MAX_REPEATED_SPACES = 100


@dataclass(frozen=True)
class Vocabulary:
    """Which elements of a format carry text and structure, as lxml '{namespace}name' tags."""

    paragraphs: frozenset[str]
    marks: dict[str, str]  # element -> text it stands for (tab, line break, ...)
    cells: frozenset[str]
    rows: frozenset[str]
    skipped: frozenset[str]  # subtrees whose text is not content (deleted text, properties)
    texts: frozenset[str] | None = None  # elements holding text; None: all mixed content
    spaces: str = ""  # element for a run of spaces (ODF text:s), count in attribute "c"
    space_count: str = ""


class _Sink:
    """Collects text pieces until a character budget is spent."""

    def __init__(self, room: int) -> None:
        self.pieces: list[str] = []
        self.room = room
        self.truncated = False

    def add(self, piece: str) -> None:
        """Append a piece, cut at the budget."""
        if len(piece) > self.room:
            piece = piece[: self.room]
            self.truncated = True
        self.pieces.append(piece)
        self.room -= len(piece)


def parse(data: bytes) -> etree._Element:
    """Parse XML with the safe parser; MemoryError when libxml2 runs out of memory."""
    try:
        return etree.fromstring(data, SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        if out_of_memory(exc):
            raise MemoryError from None
        raise


def out_of_memory(exc: etree.XMLSyntaxError) -> bool:
    """Whether libxml2 failed for lack of memory rather than for bad XML."""
    return any(entry.type_name == "ERR_NO_MEMORY" for entry in exc.error_log)


def syntax_failure(exc: etree.XMLSyntaxError, label: str) -> Exception:
    """The exception to raise for a parse failure: MemoryError, or Unreadable naming label."""
    if out_of_memory(exc):
        return MemoryError()
    return Unreadable(f"the {label} has malformed XML ({exc})")


def element_text(
    root: etree._Element,
    words: Vocabulary,
    room: int,
    label: Callable[[etree._Element], str] | None = None,
) -> tuple[str, bool]:
    """Return the text under root and whether it was cut at room characters.

    Paragraphs end in a newline (a space inside a table cell), cells in a tab, rows in a
    newline, so tables read as tab-separated lines. `label` gives the text shown before a
    paragraph that the XML does not hold (Word's automatic list numbers).
    """
    sink = _Sink(room)
    state = {"paragraphs": 0, "cells": 0}
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        if sink.truncated:
            break
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if event == "start" and tag in words.skipped:
            walker.skip_subtree()  # The end event still comes, and with it the tail.
        elif event == "start":
            _start(element, tag, words, state, sink)
            if label is not None and tag in words.paragraphs:
                prefix = label(element)
                if prefix:
                    sink.add(prefix + " ")
        else:
            _end(element, tag, words, state, sink)
    return "".join(sink.pieces), sink.truncated


def _start(
    element: etree._Element, tag: str, words: Vocabulary, state: dict[str, int], sink: _Sink
) -> None:
    """Handle an opening tag: count nesting, emit its own text and marks."""
    if tag in words.paragraphs:
        state["paragraphs"] += 1
    elif tag in words.cells:
        state["cells"] += 1
    if not state["paragraphs"]:
        return
    if tag in words.marks:
        sink.add(words.marks[tag])
    elif tag == words.spaces:
        sink.add(" " * _count(element.get(words.space_count)))
    if element.text and (words.texts is None or tag in words.texts):
        sink.add(element.text)


def _end(
    element: etree._Element, tag: str, words: Vocabulary, state: dict[str, int], sink: _Sink
) -> None:
    """Handle a closing tag: end paragraphs, cells and rows, emit mixed-content tails."""
    if tag in words.paragraphs:
        state["paragraphs"] -= 1
        sink.add(" " if state["cells"] else "\n")
    elif tag in words.cells:
        state["cells"] -= 1
        sink.add("\t")
    elif tag in words.rows:
        sink.add("\n")
    if state["paragraphs"] and words.texts is None and element.tail:
        sink.add(element.tail)


def _count(value: str | None) -> int:
    """The repeat count of a space element, bounded; 1 when absent or malformed."""
    try:
        return min(max(int(value or 1), 1), MAX_REPEATED_SPACES)
    except ValueError:
        return 1

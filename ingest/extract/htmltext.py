"""Readable text from an HTML e-mail body: tags dropped, scripts and styles skipped."""

from __future__ import annotations

from html.parser import HTMLParser

# Elements whose content is never text to read.
HIDDEN = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "object"})
# Elements that start a new line, so words of adjacent blocks do not run together.
BLOCKS = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol"}
    | {"blockquote", "pre", "hr", "section", "article", "header", "footer", "dd", "dt"}
)
CELLS = frozenset({"td", "th"})
VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr"})


class _TextParser(HTMLParser):
    """Collects character data outside hidden elements, up to a character budget."""

    def __init__(self, room: int) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.room = room
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Enter hidden elements and break lines before blocks."""
        if tag in HIDDEN and tag not in VOID:
            self.hidden += 1
        elif tag in BLOCKS:
            self._add("\n")
        elif tag in CELLS:
            self._add("\t")

    def handle_endtag(self, tag: str) -> None:
        """Leave hidden elements and break lines after blocks."""
        if tag in HIDDEN:
            self.hidden = max(self.hidden - 1, 0)
        elif tag in BLOCKS:
            self._add("\n")

    def handle_data(self, data: str) -> None:
        """Keep visible text, with runs of whitespace made single spaces."""
        if not self.hidden and data:
            # Keep one space where the data had edge whitespace: "a <b>b</b>" is two words.
            lead = " " if data[0].isspace() else ""
            trail = " " if data[-1].isspace() else ""
            self._add(lead + " ".join(data.split()) + trail)

    def _add(self, piece: str) -> None:
        """Append within the budget."""
        if self.room > 0:
            piece = piece[: self.room]
            self.pieces.append(piece)
            self.room -= len(piece)


def html_to_text(html: str, room: int) -> str:
    """Return the visible text of an HTML document, at most room characters; never markup."""
    parser = _TextParser(room)
    # Feed in slices so the budget can stop a huge document early.
    for start in range(0, len(html), 64 * 1024):
        if parser.room <= 0:
            break
        parser.feed(html[start : start + 64 * 1024])
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.pieces).split("\n"))
    return "\n".join(line for line in lines if line)

"""The automatic numbers Word shows before list paragraphs ("Artikel 12.", "12.3.", "b)").

Word does not store these numbers in the text: a paragraph refers to a numbering definition
(numbering.xml) directly or through its style (styles.xml), and Word counts as it lays the
document out. Contracts drafted from templates (GIBIT, ARVODI) number every article this way,
so without this the clause segmenter would see no article numbers at all. python-docx does not
render list numbers, hence this small counter over the same XML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .xmltext import parse

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
VAL = W + "val"
LEVELS = 9
# Never follow a basedOn chain further than this (a cyclic chain is malformed, not fatal).
MAX_STYLE_DEPTH = 16
ROMAN = [
    (1000, "m"),
    (900, "cm"),
    (500, "d"),
    (400, "cd"),
    (100, "c"),
    (90, "xc"),
    (50, "l"),
    (40, "xl"),
    (10, "x"),
    (9, "ix"),
    (5, "v"),
    (4, "iv"),
    (1, "i"),
]


@dataclass(frozen=True)
class Level:
    """One level of a list definition: its start value, number format and label pattern."""

    start: int = 1
    fmt: str = "decimal"
    text: str = ""
    legal: bool = False  # isLgl: show every level's number as decimal


@dataclass
class _List:
    """A list definition (abstractNum) with its running counters."""

    levels: dict[int, Level]
    counters: list[int | None] = field(default_factory=lambda: [None] * LEVELS)


class WordNumbering:
    """Counts list paragraphs in document order and returns the label of each."""

    def __init__(self, numbering_xml: bytes | None, styles_xml: bytes | None) -> None:
        self._lists: dict[str, _List] = {}
        self._nums: dict[str, tuple[str, dict[int, int]]] = {}  # numId -> (abstract, starts)
        self._started: set[str] = set()
        self._styles: dict[str, tuple[str | None, str | None, str | None]] = {}
        if numbering_xml:
            self._read_numbering(parse(numbering_xml))
        if styles_xml:
            self._read_styles(parse(styles_xml))

    def label(self, paragraph: etree._Element) -> str:
        """The number Word would show before this paragraph ("" for none or a bullet)."""
        num_id, ilvl = self._reference(paragraph)
        if not num_id or num_id == "0" or num_id not in self._nums:
            return ""
        abstract_id, overrides = self._nums[num_id]
        numbered = self._lists.get(abstract_id)
        if numbered is None:
            return ""
        if num_id not in self._started:
            self._started.add(num_id)
            for level_number, start in overrides.items():
                numbered.counters[level_number] = start - 1
        level = min(max(ilvl, 0), LEVELS - 1)
        definition = numbered.levels.get(level, Level())
        counters = numbered.counters
        current = counters[level]
        counters[level] = definition.start if current is None else current + 1
        for deeper in range(level + 1, LEVELS):
            counters[deeper] = None
        if definition.fmt in ("bullet", "none") or not definition.text:
            return ""
        return self._render(numbered, definition)

    def _render(self, numbered: _List, definition: Level) -> str:
        text = definition.text
        for level_number in range(LEVELS - 1, -1, -1):
            placeholder = f"%{level_number + 1}"
            if placeholder not in text:
                continue
            level = numbered.levels.get(level_number, Level())
            value = numbered.counters[level_number]
            value = level.start if value is None else value
            fmt = "decimal" if definition.legal else level.fmt
            text = text.replace(placeholder, format_number(value, fmt))
        return text.strip()

    def _reference(self, paragraph: etree._Element) -> tuple[str | None, int]:
        """numId and level of a paragraph: its own numPr, else its style's (through basedOn)."""
        properties = paragraph.find(W + "pPr")
        num_id: str | None = None
        ilvl: str | None = None
        style: str | None = None
        if properties is not None:
            num = properties.find(W + "numPr")
            if num is not None:
                num_id, ilvl = _val(num.find(W + "numId")), _val(num.find(W + "ilvl"))
            style = _val(properties.find(W + "pStyle"))
        if num_id is None and style:
            num_id, style_level = self._style_numbering(style)
            ilvl = ilvl if ilvl is not None else style_level
        return num_id, _int(ilvl, 0)

    def _style_numbering(self, style: str) -> tuple[str | None, str | None]:
        num_id: str | None = None
        ilvl: str | None = None
        for _ in range(MAX_STYLE_DEPTH):
            entry = self._styles.get(style)
            if entry is None:
                break
            style_num, style_level, based_on = entry
            num_id = num_id if num_id is not None else style_num
            ilvl = ilvl if ilvl is not None else style_level
            if num_id is not None or not based_on:
                break
            style = based_on
        return num_id, ilvl

    def _read_numbering(self, root: etree._Element) -> None:
        for abstract in root.iter(W + "abstractNum"):
            levels = {}
            for lvl in abstract.iter(W + "lvl"):
                levels[_int(lvl.get(W + "ilvl"), 0)] = Level(
                    start=_int(_val(lvl.find(W + "start")), 1),
                    fmt=_val(lvl.find(W + "numFmt")) or "decimal",
                    text=_val(lvl.find(W + "lvlText")) or "",
                    legal=lvl.find(W + "isLgl") is not None,
                )
            self._lists[abstract.get(W + "abstractNumId") or ""] = _List(levels)
        for num in root.iter(W + "num"):
            overrides = {}
            for override in num.iter(W + "lvlOverride"):
                start = override.find(W + "startOverride")
                if start is not None:
                    overrides[_int(override.get(W + "ilvl"), 0)] = _int(_val(start), 1)
            abstract_id = _val(num.find(W + "abstractNumId")) or ""
            self._nums[num.get(W + "numId") or ""] = (abstract_id, overrides)

    def _read_styles(self, root: etree._Element) -> None:
        for style in root.iter(W + "style"):
            num = style.find(f"{W}pPr/{W}numPr")
            num_id = ilvl = None
            if num is not None:
                num_id, ilvl = _val(num.find(W + "numId")), _val(num.find(W + "ilvl"))
            based_on = _val(style.find(W + "basedOn"))
            self._styles[style.get(W + "styleId") or ""] = (num_id, ilvl, based_on)


def format_number(value: int, fmt: str) -> str:
    """A counter value in one of Word's number formats (unknown formats as decimal)."""
    if fmt in ("lowerLetter", "upperLetter") and value > 0:
        # Word repeats the letter past z: aa, bb, ...
        letter = chr(ord("a") + (value - 1) % 26) * ((value - 1) // 26 + 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman") and 0 < value < 4000:
        roman = _roman(value)
        return roman.upper() if fmt == "upperRoman" else roman
    if fmt == "decimalZero" and 0 <= value < 10:
        return f"0{value}"
    return str(value)


def _roman(value: int) -> str:
    digits = []
    for amount, symbol in ROMAN:
        count, value = divmod(value, amount)
        digits.append(symbol * count)
    return "".join(digits)


def _val(element: etree._Element | None) -> str | None:
    return None if element is None else element.get(VAL)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default

"""Word's automatic list numbers, counted the way Word shows them."""

from __future__ import annotations

import pytest
from lxml import etree

from ingest.extract.wordnumbering import WordNumbering, format_number

NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
NUMBERING = f"""<w:numbering {NS}>
  <w:abstractNum w:abstractNumId="10">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>
      <w:lvlText w:val="Artikel %1."/></w:lvl>
    <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/>
      <w:lvlText w:val="%1.%2"/></w:lvl>
    <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/>
      <w:lvlText w:val="%3)"/></w:lvl>
  </w:abstractNum>
  <w:abstractNum w:abstractNumId="20">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/>
      <w:lvlText w:val="\uf0b7"/></w:lvl>
  </w:abstractNum>
  <w:abstractNum w:abstractNumId="30">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="upperRoman"/>
      <w:lvlText w:val="%1."/></w:lvl>
  </w:abstractNum>
  <w:num w:numId="1"><w:abstractNumId w:val="10"/></w:num>
  <w:num w:numId="2"><w:abstractNumId w:val="20"/></w:num>
  <w:num w:numId="3"><w:abstractNumId w:val="30"/>
    <w:lvlOverride w:ilvl="0"><w:startOverride w:val="4"/></w:lvlOverride></w:num>
</w:numbering>"""
STYLES = f"""<w:styles {NS}>
  <w:style w:type="paragraph" w:styleId="Article1"><w:pPr><w:numPr>
    <w:numId w:val="1"/></w:numPr></w:pPr></w:style>
  <w:style w:type="paragraph" w:styleId="Article2"><w:pPr><w:numPr>
    <w:ilvl w:val="1"/><w:numId w:val="1"/></w:numPr></w:pPr></w:style>
  <w:style w:type="paragraph" w:styleId="MyArticle2"><w:basedOn w:val="Article2"/></w:style>
  <w:style w:type="paragraph" w:styleId="Loop"><w:basedOn w:val="Loop"/></w:style>
</w:styles>"""


def paragraph(style: str | None = None, num: str | None = None, level: int | None = None):
    properties = ""
    if style:
        properties += f'<w:pStyle w:val="{style}"/>'
    if num is not None:
        ilvl = f'<w:ilvl w:val="{level}"/>' if level is not None else ""
        properties += f'<w:numPr>{ilvl}<w:numId w:val="{num}"/></w:numPr>'
    return etree.fromstring(f"<w:p {NS}><w:pPr>{properties}</w:pPr></w:p>")


def labels(*paragraphs: etree._Element) -> list[str]:
    numbering = WordNumbering(NUMBERING.encode(), STYLES.encode())
    return [numbering.label(p) for p in paragraphs]


def test_styles_number_articles_and_nested_levels_restart() -> None:
    assert labels(
        paragraph("Article1"),
        paragraph("Article2"),
        paragraph("MyArticle2"),  # through basedOn
        paragraph(num="1", level=2),
        paragraph(num="1", level=2),
        paragraph("Article1"),
        paragraph("Article2"),
        paragraph(num="1", level=2),
    ) == ["Artikel 1.", "1.1", "1.2", "a)", "b)", "Artikel 2.", "2.1", "a)"]


def test_bullets_plain_paragraphs_and_numbering_switched_off_have_no_label() -> None:
    assert labels(
        paragraph(num="2"),
        paragraph(),
        paragraph("Article1", num="0"),  # numId 0 removes the style's numbering
        paragraph("Loop"),  # a cyclic basedOn chain is not followed for ever
        paragraph(num="99"),  # an unknown list
    ) == ["", "", "", "", ""]


def test_start_override_and_roman_numbers() -> None:
    assert labels(paragraph(num="3"), paragraph(num="3")) == ["IV.", "V."]


def test_missing_definitions_give_no_labels() -> None:
    assert WordNumbering(None, None).label(paragraph("Article1")) == ""


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (3, "decimal", "3"),
        (3, "lowerLetter", "c"),
        (27, "lowerLetter", "aa"),
        (2, "upperLetter", "B"),
        (14, "lowerRoman", "xiv"),
        (1999, "upperRoman", "MCMXCIX"),
        (7, "decimalZero", "07"),
        (5, "ordinalText", "5"),
    ],
)
def test_number_formats(value: int, fmt: str, expected: str) -> None:
    assert format_number(value, fmt) == expected

"""Cleaning text that people and files hand us: control and bidi-override characters out.

A vertical tab in a supplier name broke every XLSX export (openpyxl refuses it), and a
right-to-left override makes "exe.pdf" read as "fdp.exe". Text is cleaned where it comes in
(forms, register import, e-mail metadata) so that everything downstream can trust it.
"""

from __future__ import annotations

import re
import unicodedata

# Bidirectional embeddings, overrides and isolates, and the marks that steer them (also the
# Arabic letter mark). Spreadsheet cells use the same sets (dossier/spreadsheets.py).
BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# Lone surrogates and the two non-characters XML forbids.
NONCHARACTERS = "\ud800-\udfff\ufffe\uffff"
# C0 and C1 controls and DEL; a single line keeps none of them.
_LINE_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI}{NONCHARACTERS}]")
# Multi-line text keeps tab and line feed.
_TEXT_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI}{NONCHARACTERS}]")
# What ends a line: CR, LF, vertical tab and form feed (Word's line and page breaks), NEL and
# the Unicode line and paragraph separators.
_LINE_BREAKS = re.compile("\r\n|[\r\v\f\x85\u2028\u2029]")


def clean_line(value: str | None) -> str:
    """One line of text (a title, a name): NFC, no controls or bidi overrides, trimmed.

    Line breaks and tabs become spaces, so words they separated stay apart.
    """
    value = unicodedata.normalize("NFC", value or "")
    value = re.sub("[\t\r\n\v\f\x85\u2028\u2029]+", " ", value)
    return _LINE_UNSAFE.sub("", value).strip()


def clean_text(value: str | None) -> str:
    """Multi-line text (a description, a note): NFC, LF line ends, tabs kept, other controls
    and bidi overrides removed, trailing white space trimmed."""
    value = unicodedata.normalize("NFC", value or "")
    value = _LINE_BREAKS.sub("\n", value)
    return _TEXT_UNSAFE.sub("", value).rstrip()


def has_nul(value: str | None) -> bool:
    """True when `value` holds a NUL byte, which PostgreSQL cannot store in text."""
    return "\x00" in (value or "")

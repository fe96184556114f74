"""Cleaning text that people and files hand us: control and bidi-override characters out.

A vertical tab in a supplier name broke every XLSX export (openpyxl refuses it), and a
right-to-left override makes "exe.pdf" read as "fdp.exe". Text is cleaned where it comes in
(forms, register import, e-mail metadata) so that everything downstream can trust it.
"""

from __future__ import annotations

import re
import unicodedata

# Bidirectional embeddings, overrides and isolates, and the marks that steer them.
_BIDI = "\u200e\u200f\u202a-\u202e\u2066-\u2069"
# C0 and C1 controls and DEL; a single line keeps none of them.
_LINE_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
# Multi-line text keeps tab and line feed.
_TEXT_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")


def clean_line(value: str | None) -> str:
    """One line of text (a title, a name): NFC, no controls or bidi overrides, trimmed.

    Line breaks and tabs become spaces, so words they separated stay apart.
    """
    value = unicodedata.normalize("NFC", value or "")
    value = re.sub(r"[\t\r\n\v\f]+", " ", value)
    return _LINE_UNSAFE.sub("", value).strip()


def clean_text(value: str | None) -> str:
    """Multi-line text (a description, a note): NFC, LF line ends, tabs kept, other controls
    and bidi overrides removed, trailing white space trimmed."""
    value = unicodedata.normalize("NFC", value or "")
    # Word writes a manual line break as a vertical tab (and a page break as a form feed).
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\v", "\n").replace("\f", "\n")
    return _TEXT_UNSAFE.sub("", value).rstrip()


def has_nul(value: str | None) -> bool:
    """True when `value` holds a NUL byte, which PostgreSQL cannot store in text."""
    return "\x00" in (value or "")

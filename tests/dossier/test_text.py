"""Cleaning control and bidi-override characters from incoming text."""

from __future__ import annotations

import pytest

from dossier.text import clean_line, clean_text, has_nul


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Leverancier\x0bB.V.", "Leverancier B.V."),
        ("  Acme\tB.V.\r\n ", "Acme B.V."),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("a\x00b\x1fc\x7fd\x85e", "abcd e"),  # NEL ends a line: a space in one line
        ("Cafe\u0301", "Café"),
        (None, ""),
    ],
)
def test_clean_line(raw: str | None, clean: str) -> None:
    assert clean_line(raw) == clean


def test_clean_text_keeps_lines_and_tabs() -> None:
    assert clean_text("one\r\ntwo\rthree\n\tfour\x0b\u2066 \n") == "one\ntwo\nthree\n\tfour"


def test_has_nul() -> None:
    assert has_nul("ti\x00tle")
    assert not has_nul("title")
    assert not has_nul(None)


def test_clean_text_keeps_a_word_line_break_as_a_line() -> None:
    assert clean_text("Leverancier\x0bB.V.\x0cpagina 2") == "Leverancier\nB.V.\npagina 2"


def test_unicode_line_separators_and_the_arabic_letter_mark() -> None:
    assert clean_line("Acme\u2028B.V.\u061c") == "Acme B.V."
    assert clean_text("een\u2029twee\x85drie") == "een\ntwee\ndrie"

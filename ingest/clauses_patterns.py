"""Patterns and text tests that recognise clause numbers, keywords and headings."""

from __future__ import annotations

import re

__all__ = [
    "DIVIDER_LABELS",
    "KEYWORD",
    "NUMBER",
    "cut_heading",
    "looks_like_heading",
    "numeric_key",
    "roman_value",
]

# Keywords whose number continues the clause numbering ("Artikel 12" is clause 12).
ARTICLE_WORDS = ("artikel", "article", "art.", "section", "sectie", "clause", "paragraaf")
# Keywords that open a new part of the document; numbering may restart after them.
DIVIDER_LABELS = {
    "bijlage": "Bijlage",
    "schedule": "Schedule",
    "exhibit": "Exhibit",
    "annex": "Annex",
    "appendix": "Appendix",
    "attachment": "Attachment",
    "addendum": "Addendum",
    "hoofdstuk": "Hoofdstuk",
    "chapter": "Chapter",
    "part": "Part",
    "deel": "Deel",
}


def _alternatives(words: tuple[str, ...]) -> str:
    """Regex alternatives for each word in Capitalised and UPPER form (never lower case)."""
    forms = {form for word in words for form in (word.capitalize(), word.upper())}
    return "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))


KEYWORD = re.compile(
    r"(?<!\w)(?P<word>" + _alternatives(ARTICLE_WORDS + tuple(DIVIDER_LABELS)) + r"|§)"
    r"(?![^\W\d_])[ \t\xa0]*"
    r"(?P<id>\d{1,3}(?:\.\d{1,3}){0,4}|[IVXLC]{1,7}|[A-Z](?:-?\d{1,2})?)"
    r"(?P<dot>\.?)"
)
# A clause number such as "12", "12.3" or "7.2.1."; not part of an amount, date or path.
NUMBER = re.compile(r"(?<![\w.,/$€£-])(?P<id>\d{1,3}(?:\.\d{1,3}){0,5})(?P<dot>[.)]?)")


def _word_set(words: str) -> frozenset[str]:
    """The words of a space-separated list."""
    return frozenset(words.split())


_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
# Lower-case finite verbs: a "heading" that contains one is really a sentence.
_VERBS = _word_set(
    "shall will may must is are was were has have agrees means includes "
    "zal zullen wordt worden kan kunnen mag mogen moet moeten heeft hebben dient zijn "
    "bedraagt geldt gaat eindigt levert verplicht"
)
_SMALL_WORDS = _word_set(
    "a an and or of the to in on for by with at from as de het een en of van voor met op in "
    "aan bij door tot te om over"
)
# A sentence end: a full stop after a word of two or more letters (not "U.S." or "e.g.").
_SENTENCE_END = re.compile(r"(?<=[^\W_]{2})[.](?=\s|$)|(?<=[)\]\"”])[.](?=\s|$)")
# Words that open a sentence: in "Term This Agreement shall ..." the heading ends before "This".
_STARTERS = _word_set(
    "The This These Each Either Neither Unless Subject Except Notwithstanding In If All Any "
    "No Upon During For Within Without As At On To When Where With Both Such Nothing "
    "De Het Een Indien Partijen Tenzij Onverminderd Behoudens Bij Na Voor Alle Iedere"
)
# Words that point at another clause: "Sections 7.1" is a reference, not a heading.
_REFERENCES = _word_set(
    "section article artikel artikelen clause paragraph paragraaf lid schedule exhibit annex "
    "bijlage appendix"
)
_TRAILING = " \t\xa0.:;-–—#*_"


def roman_value(numeral: str) -> int | None:
    """Value of an upper-case Roman numeral up to C, or None when it is not a canonical one."""
    total = 0
    for index, char in enumerate(numeral):
        value = _ROMAN[char]
        following = _ROMAN[numeral[index + 1]] if index + 1 < len(numeral) else 0
        total += -value if value < following else value
    return total if 0 < total <= 100 and _to_roman(total) == numeral else None


def _to_roman(value: int) -> str:
    """Canonical Roman numeral of 1..100."""
    parts = []
    for amount, symbol in ((100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX")):
        count, value = divmod(value, amount)
        parts.append(symbol * count)
    for amount, symbol in ((5, "V"), (4, "IV"), (1, "I")):
        count, value = divmod(value, amount)
        parts.append(symbol * count)
    return "".join(parts)


def numeric_key(identifier: str) -> tuple[int, ...] | None:
    """Sort key of a "12.3"-style number; None for amounts and dates ("1.250", "31.12.2025")."""
    parts = identifier.split(".")
    if len(parts[0]) > 3 or any(len(part) > 2 for part in parts[1:]):
        return None
    key = tuple(int(part) for part in parts)
    if key[0] == 0 or key[0] > 300:
        return None
    return key


def _is_capitals(word: str) -> bool:
    """Whether a word has at least two letters, all upper case ("TERM", "WARRANTIES;")."""
    letters = [char for char in word if char.isalpha()]
    return len(letters) > 1 and all(char.isupper() for char in letters)


def clean_heading(heading: str) -> str:
    """Heading without surrounding markup and punctuation, at most 300 characters."""
    heading = re.sub(r"\s+", " ", heading).strip(_TRAILING).lstrip(")]")
    return heading[:300].rstrip()


def looks_like_heading(line: str, *, strict: bool = False, loose: bool = False) -> bool:
    """Whether a short line reads as a heading: capitalised, no verb, and in Title Case or
    capitals, or short: at most six words, two when `strict` (text that could be a whole
    sentence), twelve when `loose` (the rest of an "Artikel 7." line)."""
    if line.rstrip()[-1:] in (",", ";"):
        return False
    line = line.strip(_TRAILING)
    words = line.split()
    if not 1 <= len(words) <= 12 or len(line) > 120:
        return False
    letters = [char for char in line if char.isalpha()]
    if len(letters) < 2 or not letters[0].isupper():
        return False
    if any(word.lower() in _VERBS for word in words if word.islower() or word.isupper()):
        return False
    if all(word in _STARTERS or word.lower() in _SMALL_WORDS for word in words):
        return False
    short = 2 if strict else 12 if loose else 6
    if all(char.isupper() for char in letters) or len(words) <= short:
        return True
    significant = [word for word in words if word.lower() not in _SMALL_WORDS]
    capitals = sum(1 for word in significant if word[:1].isupper())
    return capitals >= 0.75 * len(significant)


def cut_heading(rest: str, *, line_ends: bool, keyword: bool = False) -> tuple[str, bool] | None:
    """Split the text after a clause number into (heading, found), or None when it continues a
    sentence (lower case, a digit, a bracket) rather than opening a clause."""
    stripped = rest.lstrip(" \t\xa0.:-–—)")
    if not stripped:
        return "", False
    first = stripped[0]
    if not (first.isupper() or first in "\"'“‘«[*_#"):
        return None
    if first in '"“':
        term = re.match(r"[\"“]([^\"”]{1,80})[\"”]", stripped)
        return (clean_heading(term[1]), True) if term else ("", False)
    words = stripped.split(maxsplit=14)
    capitals = _capitals_heading(words)
    if capitals:
        return capitals, True
    end = _SENTENCE_END.search(stripped)
    whole = end is not None and not stripped[end.end() :].strip()
    if end and looks_like_heading(stripped[: end.start()], strict=whole):
        return clean_heading(stripped[: end.start()]), True
    colon = stripped.find(":")
    if colon > 0 and len(stripped[:colon].split()) <= 5 and looks_like_heading(stripped[:colon]):
        return clean_heading(stripped[:colon]), True
    if end is None and line_ends and looks_like_heading(stripped, loose=keyword):
        return clean_heading(stripped), True
    run_in = _run_in_heading(words)
    return run_in, bool(run_in)


def _capitals_heading(words: list[str]) -> str:
    """A heading in capitals run into its body ("TERM This Agreement", "DEFINITIONS a.",
    "INSURANCE 8.1"); "" when the capitals are a name that starts a sentence ("ETON shall")."""
    count = next((index for index, word in enumerate(words) if not _is_capitals(word)), 0)
    if count == 0:
        return ""
    following = words[count]
    opens_body = following in _STARTERS or following[0].isdigit() or following[0] in '("“'
    lower = following[:1].islower() and following.lower().strip(".,;:") not in _VERBS
    if count < 2 and not (opens_body or lower):
        return ""
    head = " ".join(words[:count])
    return clean_heading(head) if looks_like_heading(head) else ""


def _run_in_heading(words: list[str]) -> str:
    """A heading run into its body without punctuation, as in flattened text: "Term This
    Agreement ...", "Deposit 4.1 Party B ..."; "" when the text is a sentence."""
    if words[0] in _STARTERS:
        return ""
    for count, word in enumerate(words[1:13], start=1):
        if word in _STARTERS or word[0].isdigit() or word[0] == "(":
            head = words[:count]
            if head[-1].lower().rstrip("s") in _REFERENCES or not looks_like_heading(
                " ".join(head)
            ):
                return ""
            return clean_heading(" ".join(head))
        if not word[:1].isupper() and word.lower() not in _SMALL_WORDS:
            return ""
    return ""

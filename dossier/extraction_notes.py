"""The extraction detail of a version, and automatic version comments, in the reader's language.

ingest/extract knows nothing of Flask: it records why a result is partial or failed as short
English notes joined by "; ". Its fixed notes are matched here and shown through the catalog;
the variable parts (numbers, names, a library's own message) are kept as recorded, and a note
nobody listed here is shown as it is. tests/dossier/web/test_extraction_notes.py holds this
table to the notes ingest/extract can write.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

_ANY = r"(?P<{}>.+?)"
_NUMBER = r"(?P<{}>\d+)"
_NOUNS = r"(?P<{}>\d+) {}s?"


def _pattern(template: str) -> re.Pattern[str]:
    """`{name}` is any text, `{name:n}` a number, `{name:page}` "1 page" or "3 pages"."""
    parts = re.split(r"\{(\w+)(?::(\w+))?\}", template)
    regex = ""
    for index in range(0, len(parts), 3):
        regex += re.escape(parts[index])
        if index + 1 < len(parts):
            name, kind = parts[index + 1], parts[index + 2]
            if kind is None:
                regex += _ANY.format(name)
            elif kind == "n":
                regex += _NUMBER.format(name)
            else:
                regex += _NOUNS.format(name, re.escape(kind))
    return re.compile(regex + r"(?=; |$)")


# (English note as ingest/extract writes it, its catalog text with the same placeholders).
_NOTES: list[tuple[str, Any]] = [
    ("ocr", _l("text read by OCR")),
    ("text truncated", _l("text truncated")),
    (
        "only the first {read:n} of {count:n} pages were read",
        _l("only the first %(read)s of %(count)s pages were read"),
    ),
    (
        "stopped after {read:n} of {count:n} pages at the time limit",
        _l("stopped after %(read)s of %(count)s pages at the time limit"),
    ),
    (
        "{failed:n} of {count:page} could not be read",
        _l("%(failed)s of %(count)s pages could not be read"),
    ),
    (
        "OCR read only the first {read:n} of {count:n} pages without text",
        _l("OCR read only the first %(read)s of %(count)s pages without text"),
    ),
    (
        "OCR stopped after {read:n} of {count:n} pages at the time limit",
        _l("OCR stopped after %(read)s of %(count)s pages at the time limit"),
    ),
    ("OCR failed on {count:page}", _l("OCR failed on pages: %(count)s")),
    ("OCR found no text", _l("OCR found no text")),
    ("OCR stopped: {reason}", _l("OCR stopped: %(reason)s")),
    ("OCR failed: {reason}", _l("OCR failed: %(reason)s")),
    (
        "OCR is not installed (tesseract with the nld and eng languages)",
        _l("OCR is not installed (tesseract with the nld and eng languages)"),
    ),
    ("pdftoppm (poppler-utils) is not installed", _l("pdftoppm (poppler-utils) is not installed")),
    ("tesseract is not installed", _l("tesseract is not installed")),
    ("pdftoppm is not installed", _l("pdftoppm is not installed")),
    ("pdftoppm wrote no image", _l("pdftoppm wrote no image")),
    ("no time was left", _l("no time was left")),
    ("{program} took longer than {seconds:n} s", _l("%(program)s took longer than %(seconds)s s")),
    ("{program} could not run ({error})", _l("%(program)s could not run (%(error)s)")),
    ("{program} failed (exit {code}) {said}", _l("%(program)s failed (exit %(code)s) %(said)s")),
    (
        "the PDF has no text layer; OCR was not requested",
        _l("the PDF has no text layer; OCR was not requested"),
    ),
    (
        "an image has no text layer; OCR was not requested",
        _l("an image has no text layer; OCR was not requested"),
    ),
    (
        "the image is {width:n} x {height:n} pixels, too large to read",
        _l("the image is %(width)s x %(height)s pixels, too large to read"),
    ),
    ("the PDF is encrypted and needs a password", _l("the PDF is encrypted and needs a password")),
    ("the PDF has no pages", _l("the PDF has no pages")),
    (
        "no page could be read (the PDF has {count:page})",
        _l("no page could be read (the PDF has %(count)s pages)"),
    ),
    ("every page exceeds the parser's limits", _l("every page exceeds the parser's limits")),
    ("the PDF could not be decrypted", _l("the PDF could not be decrypted")),
    ("the PDF exceeds a parser limit ({error})", _l("the PDF exceeds a parser limit (%(error)s)")),
    (
        "the PDF structure is unreadable ({error})",
        _l("the PDF structure is unreadable (%(error)s)"),
    ),
    (
        "the page tree exceeds a parser limit ({error})",
        _l("the page tree exceeds a parser limit (%(error)s)"),
    ),
    ("the page tree is unreadable ({error})", _l("the page tree is unreadable (%(error)s)")),
    (
        "only the first {count:n} MIME parts were read",
        _l("only the first %(count)s MIME parts were read"),
    ),
    (
        "MIME parts nested deeper than {depth:n} levels were skipped",
        _l("MIME parts nested deeper than %(depth)s levels were skipped"),
    ),
    (
        "MIME parts with oversized headers were skipped",
        _l("MIME parts with oversized headers were skipped"),
    ),
    ("stopped at the time limit", _l("stopped at the time limit")),
    ("the message headers exceed {size:n} KiB", _l("the message headers exceed %(size)s KiB")),
    ("the message headers are too big: {error}", _l("the message headers are too big: %(error)s")),
    (
        "{count:attachment} skipped beyond the first {limit:n}",
        _l("attachments skipped beyond the first %(limit)s: %(count)s"),
    ),
    ("{count:attachment} over {size} skipped", _l("attachments over %(size)s skipped: %(count)s")),
    ("{count:attachment} could not be saved", _l("attachments that could not be saved: %(count)s")),
    (
        "the Outlook message is unreadable ({error})",
        _l("the Outlook message is unreadable (%(error)s)"),
    ),
    (
        "the Word document is unreadable ({error})",
        _l("the Word document is unreadable (%(error)s)"),
    ),
    (
        "the Word document has malformed XML ({error})",
        _l("the Word document has malformed XML (%(error)s)"),
    ),
    (
        "the OpenDocument text has malformed XML ({error})",
        _l("the OpenDocument text has malformed XML (%(error)s)"),
    ),
    ("the {label} has malformed XML ({error})", _l("the %(label)s has malformed XML (%(error)s)")),
    (
        "the OpenDocument text is unreadable ({error})",
        _l("the OpenDocument text is unreadable (%(error)s)"),
    ),
    ("the OpenDocument file has no {name}", _l("the OpenDocument file has no %(name)s")),
    ("{name} would expand to {size:n} MB", _l("%(name)s would expand to %(size)s MB")),
    ("{name} expands to more than {size:n} MB", _l("%(name)s expands to more than %(size)s MB")),
    (
        "only {read:n} of {count:n} sheets were read",
        _l("only %(read)s of %(count)s sheets were read"),
    ),
    ("sheet {name} was read only in part", _l("sheet %(name)s was read only in part")),
    ("the workbook is unreadable ({error})", _l("the workbook is unreadable (%(error)s)")),
    (
        "there is no text extraction for {kind} files",
        _l("there is no text extraction for %(kind)s files"),
    ),
    ("needs more than {size:n} MB of memory", _l("needs more than %(size)s MB of memory")),
    ("the content is nested too deeply", _l("the content is nested too deeply")),
    ("the file does not exist", _l("the file does not exist")),
    ("took longer than {seconds} s", _l("took longer than %(seconds)s s")),
    ("used more than {seconds:n} s of CPU time", _l("used more than %(seconds)s s of CPU time")),
    (
        "was killed (signal 9) at the CPU or memory limit",
        _l("was killed (signal 9) at the CPU or memory limit"),
    ),
    ("the parser failed (exit code {code})", _l("the parser failed (exit code %(code)s)")),
    (
        "the parser crashed (signal {number}, {name})",
        _l("the parser crashed (signal %(number)s, %(name)s)"),
    ),
    ("the parser returned an oversized result", _l("the parser returned an oversized result")),
    ("the parser wrote no result", _l("the parser wrote no result")),
    (
        "the parser returned a malformed result ({error})",
        _l("the parser returned a malformed result (%(error)s)"),
    ),
    ("the parser returned a malformed result", _l("the parser returned a malformed result")),
    ("the {kind} parser failed: {error}", _l("the %(kind)s parser failed: %(error)s")),
    ("the parser failed: {error}", _l("the parser failed: %(error)s")),
]
NOTES = [(_pattern(english), text) for english, text in _NOTES]
# Placeholders whose value can itself be a note (an OCR tool's failure inside "OCR failed: ...").
_NESTED = frozenset({"reason"})

# The comment dossier/indexing.py gives a version filed from an e-mail attachment.
_ATTACHMENT_COMMENT = re.compile(r"attachment of (?P<title>.+)", re.S)


def note_text(detail: str) -> str:
    """`detail` with every known note in the current language; unknown ones as recorded."""
    shown, rest = [], detail
    while rest:
        text, rest = _first_note(rest)
        shown.append(text)
    return "; ".join(shown)


def _first_note(detail: str) -> tuple[str, str]:
    """The leading note of `detail` as shown, and what follows its "; " separator."""
    for pattern, text in NOTES:
        match = pattern.match(detail)
        if match is not None:
            values = {k: note_text(v) if k in _NESTED else v for k, v in match.groupdict().items()}
            return str(text) % values if values else str(text), detail[match.end() + 2 :]
    head, _sep, tail = detail.partition("; ")
    return head, tail


def known(note: str) -> bool:
    """Whether `note` as a whole is one this table translates."""
    return any((m := p.match(note)) is not None and m.end() == len(note) for p, _ in NOTES)


def comment_text(comment: str) -> str:
    """A version's comment; the automatic one of an e-mail attachment in the current language."""
    match = _ATTACHMENT_COMMENT.fullmatch(comment or "")
    if match is None:
        return comment
    return gettext("Attachment of %(title)s", title=match["title"])

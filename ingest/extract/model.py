"""The data that extraction returns, the limits it runs under and the builder parsers fill."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ingest.clauses import Clause

# Characters no extracted text should carry: C0 and C1 controls except tab and newline. Form
# feed is reserved as the page separator of Extraction.text, so it is removed from page text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_END = re.compile(r"\r\n?|[\v\f\u2028\u2029]")
_SPACES = re.compile(r"\s+")
_BLANK_RUN = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+\n")
_SPACE_BEFORE_TAB = re.compile(r" +\t")

METADATA_MAX_CHARS = 500
FILENAME_MAX_CHARS = 1000
DETAIL_MAX_CHARS = 300
# JSON escapes can make a character of the result cost up to six bytes.
RESULT_BYTES_PER_CHAR = 6


class Status(StrEnum):
    """The outcome of one extraction, as recorded with the document version."""

    OK = "ok"
    PARTIAL = "partial"
    NO_TEXT_LAYER = "no_text_layer"
    ENCRYPTED = "encrypted"
    TIMED_OUT = "timed_out"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    OCR_UNAVAILABLE = "ocr_unavailable"


@dataclass(frozen=True)
class Attachment:
    """An attachment of an e-mail, saved by the extractor as a file of its own."""

    filename: str  # as named in the message (untrusted; the caller cleans it)
    path: str  # a file the child wrote inside attachments_dir
    size: int


@dataclass(frozen=True)
class Extraction:
    """The text of a document per page, its metadata and its attachments, with a status."""

    status: Status
    detail: str  # short English reason for anything but ok ("" for ok)
    pages: list[str]
    page_count: int | None
    attachments: list[Attachment]
    metadata: dict[str, str]
    # The text's clauses when the caller asked the worker to segment it (None: not asked, or
    # segmentation failed there and is the caller's to do).
    clauses: list[Clause] | None = None

    @property
    def text(self) -> str:
        """All pages joined with a form feed between them."""
        return "\f".join(self.pages)


@dataclass(frozen=True)
class Limits:
    """Resources one extraction may use; beyond them it stops with a status saying why."""

    wall_seconds: float = 60.0
    cpu_seconds: int = 60
    memory_bytes: int = 1024 * 1024 * 1024
    max_text_chars: int = 20_000_000
    max_pages: int = 5000
    max_attachments: int = 100
    max_attachment_bytes: int = 50 * 1024 * 1024

    @property
    def memory_mb(self) -> int:
        """The memory limit in whole MiB, for messages."""
        return self.memory_bytes // (1024 * 1024)


class Unreadable(Exception):
    """The content cannot be read; the message is the English detail to record."""


class TooLarge(Exception):
    """The content exceeds a limit of the parser; the message is the English detail."""


@dataclass(frozen=True)
class Job:
    """One extraction as the parsers see it: the file, the limits and a soft deadline."""

    path: Path
    kind: str
    limits: Limits
    attachments_dir: Path | None
    ocr: bool
    scratch: Path  # a private folder for temporary files such as rendered pages
    deadline: float  # time.monotonic() value; parsers stop early after it with what they have

    def time_left(self) -> float:
        """Seconds until the soft deadline (negative once it has passed)."""
        return self.deadline - time.monotonic()


def soft_deadline(limits: Limits) -> float:
    """When parsers should stop early, leaving time to hand back a partial result."""
    margin = max(1.0, limits.wall_seconds * 0.1)
    return time.monotonic() + max(limits.wall_seconds - margin, limits.wall_seconds / 2)


@dataclass
class Draft:
    """What a parser has found so far, kept within the text budget; becomes an Extraction."""

    limits: Limits
    pages: list[str] = field(default_factory=list)
    page_count: int | None = None
    attachments: list[Attachment] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    used_chars: int = 0

    @property
    def room(self) -> int:
        """How many more characters of text fit within max_text_chars."""
        return max(self.limits.max_text_chars - self.used_chars, 0)

    def add_page(self, text: str) -> bool:
        """Add one page of text, truncating at the budget; return whether more text fits."""
        text = clean_text(text)
        if len(text) > self.room:
            text = text[: self.room]
            self.note("text truncated")
        self.pages.append(text)
        self.used_chars += len(text)
        return self.room > 0

    def note(self, problem: str) -> None:
        """Record why the result is partial (once per distinct reason)."""
        if problem not in self.problems:
            self.problems.append(problem)

    def set_metadata(self, key: str, value: Any) -> None:
        """Store a metadata value as bounded single-line text, skipping empty ones."""
        text = clean_line(value, METADATA_MAX_CHARS)
        if text:
            self.metadata[key] = text

    def finish(self, status: Status | None = None, detail: str = "") -> Extraction:
        """Build the Extraction; without a status, PARTIAL if problems were noted, else OK.

        The detail lists the given detail first, then every problem noted.
        """
        if status is None:
            status = Status.PARTIAL if self.problems else Status.OK
        detail = "; ".join(filter(None, [detail, *self.problems]))
        return Extraction(
            status=status,
            detail=clean_line(detail, DETAIL_MAX_CHARS),
            pages=list(self.pages),
            page_count=self.page_count,
            attachments=list(self.attachments),
            metadata=dict(self.metadata),
        )


def failure(status: Status, detail: str) -> Extraction:
    """An extraction that produced nothing, with the reason."""
    return Extraction(status, clean_line(detail, DETAIL_MAX_CHARS), [], None, [], {})


def plural(count: int, noun: str) -> str:
    """Count and noun for a message: "1 page", "3 pages"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def size_text(size: int) -> str:
    """A byte count for a message: whole MB when it is one, else bytes."""
    megabyte = 1024 * 1024
    return f"{size // megabyte} MB" if size % megabyte == 0 else f"{size} bytes"


def valid_unicode(text: str) -> str:
    """Replace lone surrogates, which some decoders produce and UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def clean_text(text: str) -> str:
    """Normalise extracted text: valid Unicode, \\n line ends, no control characters."""
    text = _CONTROL.sub("", _LINE_END.sub("\n", valid_unicode(text)))
    text = _TRAILING.sub("\n", _SPACE_BEFORE_TAB.sub("\t", text))
    return _BLANK_RUN.sub("\n\n", text).strip("\n")


def clean_line(value: Any, limit: int) -> str:
    """Make a value one line of valid text, whitespace collapsed, at most limit characters."""
    text = _SPACES.sub(" ", _CONTROL.sub(" ", valid_unicode(str(value)))).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_plain(extraction: Extraction) -> dict[str, Any]:
    """Turn an Extraction into JSON-ready data for the trip from child to parent."""
    return {
        "status": str(extraction.status),
        "detail": extraction.detail,
        "pages": extraction.pages,
        "page_count": extraction.page_count,
        "attachments": [[a.filename, a.path, a.size] for a in extraction.attachments],
        "metadata": extraction.metadata,
        "clauses": None
        if extraction.clauses is None
        else [
            [c.number, c.heading, c.page, c.position, c.start, c.end] for c in extraction.clauses
        ],
    }


def from_plain(data: Any) -> Extraction:
    """Rebuild an Extraction from child data, checking every type; ValueError if malformed."""
    if not isinstance(data, dict):
        raise ValueError("the result is not an object")
    pages = data.get("pages")
    metadata = data.get("metadata")
    count = data.get("page_count")
    if not (isinstance(pages, list) and all(isinstance(p, str) for p in pages)):
        raise ValueError("pages is not a list of strings")
    if not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise ValueError("metadata is not a mapping of strings")
    if not (count is None or (isinstance(count, int) and count >= 0)):
        raise ValueError("page_count is not a count")
    clauses = data.get("clauses")
    return Extraction(
        status=Status(data.get("status")),
        detail=str(data.get("detail", "")),
        pages=pages,
        page_count=count,
        attachments=[_attachment(item) for item in data.get("attachments", [])],
        metadata={str(k): v for k, v in metadata.items()},
        clauses=None if clauses is None else _clauses(clauses, "\f".join(pages)),
    )


def _clauses(items: Any, text: str) -> list[Clause]:
    """Rebuild clauses sent as [number, heading, page, position, start, end] over text."""
    if not isinstance(items, list):
        raise ValueError("clauses is not a list")
    clauses = []
    for item in items:
        if not (isinstance(item, list) and len(item) == 6):
            raise ValueError("a clause is not a list of six fields")
        number, heading, page, position, start, end = item
        if not (isinstance(number, str) and isinstance(heading, str)):
            raise ValueError("a clause number or heading is not text")
        if not all(type(value) is int for value in (page, position, start, end)):
            raise ValueError("a clause page, position or offset is not a whole number")
        if not 0 <= start <= end <= len(text):
            raise ValueError("a clause lies outside the text")
        clauses.append(Clause(number, heading, text[start:end], page, position, start, end))
    return clauses


def _attachment(item: Any) -> Attachment:
    """Rebuild one attachment triple, checking its types."""
    if not (isinstance(item, list) and len(item) == 3):
        raise ValueError("an attachment is not a triple")
    filename, path, size = item
    if not (isinstance(filename, str) and isinstance(path, str) and isinstance(size, int)):
        raise ValueError("an attachment has fields of the wrong type")
    return Attachment(filename, path, size)

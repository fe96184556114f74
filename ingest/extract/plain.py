"""Text of plain-text files: UTF-8 (with or without BOM), else Windows-1252."""

from __future__ import annotations

import codecs

from .model import Draft, Extraction, Job

# Bytes per character of UTF-8 at most; reading this much covers max_text_chars.
MAX_BYTES_PER_CHAR = 4


def parse_txt(job: Job) -> Extraction:
    """Decode the file, reading no more than the text budget can hold."""
    limit = job.limits.max_text_chars * MAX_BYTES_PER_CHAR
    with open(job.path, "rb") as file:
        data = file.read(limit + 1)
    complete = len(data) <= limit
    data = data[:limit]
    draft = Draft(job.limits)
    draft.add_page(decode(data, complete=complete))
    if not complete:
        draft.note("text truncated")
    return draft.finish()


def decode(data: bytes, *, complete: bool) -> str:
    """UTF-8 (BOM aware) if valid, else Windows-1252 with undefined bytes replaced."""
    try:
        # A file cut at the byte limit may end inside a UTF-8 sequence; that is no reason to
        # fall back to Windows-1252.
        return codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=complete)
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")

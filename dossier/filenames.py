"""Cleaning user-supplied file names for display and download headers (never for paths)."""

from __future__ import annotations

import re
import unicodedata

_MAX_LENGTH = 200
# Control characters, and the bidirectional overrides that make "exe.pdf" read as "fdp.exe".
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_filename(name: str | None, fallback: str = "document") -> str:
    """The last path segment of `name`, without control or direction characters, at most 200."""
    name = unicodedata.normalize("NFC", name or "")
    name = _UNSAFE.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    if not name:
        return fallback
    if len(name) > _MAX_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and len(ext) <= 10:
            name = stem[: _MAX_LENGTH - len(ext) - 1] + "." + ext
        else:
            name = name[:_MAX_LENGTH]
    return name


def extension(name: str) -> str:
    """The lower-case extension of a cleaned name, with its dot, or ''."""
    stem, dot, ext = name.rpartition(".")
    return "." + ext.lower() if dot and stem else ""

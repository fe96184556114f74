"""Line-by-line comparison of the extracted text of two versions of one document."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

# Texts are compared by line; beyond this many lines per side the comparison is cut off,
# so a huge extraction cannot make one page request slow.
MAX_LINES = 20_000


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified comparison: `kind` is "same", "added", "removed" or "gap"."""

    kind: str
    text: str
    old_number: int | None = None
    new_number: int | None = None


@dataclass(frozen=True)
class Comparison:
    lines: list[DiffLine]
    added: int
    removed: int
    truncated: bool


def _lines(text: str | None) -> list[str]:
    return (text or "").splitlines()


def compare_texts(old: str | None, new: str | None, context: int = 3) -> Comparison:
    """The changes from `old` to `new` with `context` unchanged lines around each change."""
    a, b = _lines(old), _lines(new)
    truncated = len(a) > MAX_LINES or len(b) > MAX_LINES
    a, b = a[:MAX_LINES], b[:MAX_LINES]
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    lines: list[DiffLine] = []
    added = removed = 0
    for group in matcher.get_grouped_opcodes(context):
        if lines:
            lines.append(DiffLine("gap", ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(
                    DiffLine("same", a[i], i + 1, j1 + (i - i1) + 1) for i in range(i1, i2)
                )
                continue
            if tag in ("replace", "delete"):
                lines.extend(DiffLine("removed", a[i], old_number=i + 1) for i in range(i1, i2))
                removed += i2 - i1
            if tag in ("replace", "insert"):
                lines.extend(DiffLine("added", b[j], new_number=j + 1) for j in range(j1, j2))
                added += j2 - j1
    return Comparison(lines, added, removed, truncated)

"""Line-by-line comparison of the extracted text of two versions of one document.

The diff is Myers' O((N+M)·D) algorithm after trimming the common beginning and end, with a
budget on its steps: texts that need more work than the budget are reported as too different to
compare line by line, so no pair of versions can keep a server thread busy for long (difflib's
matcher took 91 s on two 2 KB texts of repeated lines). The result for a pair of texts is kept in
a small per-process cache, and a pair being compared is compared by one thread at a time.
"""

from __future__ import annotations

import hashlib
import threading
from array import array
from collections import OrderedDict
from dataclasses import dataclass

# Texts are compared by line; beyond this many lines per side the comparison is cut off,
# so a huge extraction cannot make one page request slow.
MAX_LINES = 20_000
# Steps of the diff search (one per diagonal tried and per matching line followed) before the
# texts count as too different: at most about a second, and a frontier history of at most
# about 1,400 edits (8 MB). Two 1,000-line texts differing in every other line take 800,000.
MAX_WORK = 1_000_000
CACHE_SIZE = 32

Opcode = tuple[str, int, int, int, int]


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
    too_different: bool = False  # the diff gave up within its budget; `lines` is empty


class TooDifferent(Exception):
    """The diff search needed more than its budget."""


def _lines(text: str | None) -> list[str]:
    return (text or "").splitlines()


_cache: OrderedDict[tuple[bytes, bytes, int], Comparison] = OrderedDict()
_pending: dict[tuple[bytes, bytes, int], threading.Lock] = {}
_cache_lock = threading.Lock()


def _digest(text: str | None) -> bytes:
    return hashlib.blake2b((text or "").encode("utf-8", "surrogatepass"), digest_size=16).digest()


def compare_texts(old: str | None, new: str | None, context: int = 3) -> Comparison:
    """The changes from `old` to `new` with `context` unchanged lines around each change.

    Computed once per pair of texts in this process: a repeated request (or one arriving while
    the same pair is being compared) gets the same result object.
    """
    key = (_digest(old), _digest(new), context)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        pending = _pending.setdefault(key, threading.Lock())
    with pending:
        with _cache_lock:
            if key in _cache:
                return _cache[key]
        try:
            result = _compare(old, new, context)
        finally:  # an error leaves no lock behind for the pair
            with _cache_lock:
                _pending.pop(key, None)
        with _cache_lock:
            _cache[key] = result
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return result


def _compare(old: str | None, new: str | None, context: int, budget: int = MAX_WORK) -> Comparison:
    a, b = _lines(old), _lines(new)
    truncated = len(a) > MAX_LINES or len(b) > MAX_LINES
    a, b = a[:MAX_LINES], b[:MAX_LINES]
    try:
        opcodes = line_opcodes(a, b, budget)
    except TooDifferent:
        return Comparison([], 0, 0, truncated, too_different=True)
    lines: list[DiffLine] = []
    added = removed = 0
    for group in _grouped(opcodes, context):
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


def line_opcodes(a: list[str], b: list[str], budget: int = MAX_WORK) -> list[Opcode]:
    """difflib-style opcodes turning `a` into `b`; raises TooDifferent beyond `budget` steps."""
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    ids: dict[str, int] = {}
    middle_a = [ids.setdefault(line, len(ids)) for line in a[head : len(a) - tail]]
    middle_b = [ids.setdefault(line, len(ids)) for line in b[head : len(b) - tail]]
    blocks = [(0, 0, head)] if head else []
    blocks += [(i + head, j + head, n) for i, j, n in _myers_blocks(middle_a, middle_b, budget)]
    if tail:
        blocks.append((len(a) - tail, len(b) - tail, tail))
    return _opcodes(blocks, len(a), len(b))


def _myers_blocks(a: list[int], b: list[int], budget: int) -> list[tuple[int, int, int]]:
    """Matching blocks (i, j, size) of a shortest edit script, by Myers' greedy search."""
    n, m = len(a), len(b)
    if not n or not m:
        return []
    offset = n + m + 1
    frontier = [0] * (2 * offset + 1)
    trace: list[array[int]] = []  # per d: the furthest x on diagonals -d..d after step d
    work = 0
    for d in range(n + m + 1):
        for k in range(-d, d + 1, 2):
            if k == -d or (k != d and frontier[offset + k - 1] < frontier[offset + k + 1]):
                x = frontier[offset + k + 1]
            else:
                x = frontier[offset + k - 1] + 1
            y = x - k
            start = x
            while x < n and y < m and a[x] == b[y]:
                x, y = x + 1, y + 1
            frontier[offset + k] = x
            work += 1 + x - start
        trace.append(array("i", frontier[offset - d : offset + d + 1]))
        if work > budget:
            raise TooDifferent
        if frontier[offset + n - m] >= n and abs(n - m) <= d:
            return _backtrack(trace, a, b)
    raise AssertionError("unreachable: d = n + m always reaches the end")


def _backtrack(trace: list[array[int]], a: list[int], b: list[int]) -> list[tuple[int, int, int]]:
    """Walk the trace back from the end and collect the diagonal runs as matching blocks."""
    x, y = len(a), len(b)
    blocks: list[tuple[int, int, int]] = []
    for d in range(len(trace) - 1, -1, -1):
        k = x - y
        if d == 0:
            prev_x = prev_y = 0
        else:
            before = trace[d - 1]  # diagonals -(d-1)..d-1, diagonal k at index k + d - 1
            down = k == -d or (k != d and before[k - 1 + d - 1] < before[k + 1 + d - 1])
            prev_k = k + 1 if down else k - 1
            prev_x = before[prev_k + d - 1]
            prev_y = prev_x - prev_k
            prev_x, prev_y = (prev_x, prev_y + 1) if down else (prev_x + 1, prev_y)
        if x > prev_x:
            blocks.append((prev_x, prev_y, x - prev_x))
        if d:
            x, y = (prev_x, prev_y - 1) if down else (prev_x - 1, prev_y)
    blocks.reverse()
    return blocks


def _opcodes(blocks: list[tuple[int, int, int]], n: int, m: int) -> list[Opcode]:
    """Opcodes from matching blocks in order, as difflib's SequenceMatcher.get_opcodes gives."""
    codes: list[Opcode] = []
    i = j = 0
    for bi, bj, size in [*blocks, (n, m, 0)]:
        tag = "replace" if i < bi and j < bj else "delete" if i < bi else "insert"
        if i < bi or j < bj:
            codes.append((tag, i, bi, j, bj))
        if size:
            if codes and codes[-1][0] == "equal":
                _, i1, _, j1, _ = codes.pop()
                codes.append(("equal", i1, bi + size, j1, bj + size))
            else:
                codes.append(("equal", bi, bi + size, bj, bj + size))
        i, j = bi + size, bj + size
    return codes


def _grouped(codes: list[Opcode], context: int) -> list[list[Opcode]]:
    """Changes with up to `context` equal lines around them, as difflib groups opcodes."""
    if not codes or all(tag == "equal" for tag, *_ in codes):
        return []
    codes = list(codes)
    tag, i1, i2, j1, j2 = codes[0]
    if tag == "equal":
        codes[0] = tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2
    tag, i1, i2, j1, j2 = codes[-1]
    if tag == "equal":
        codes[-1] = tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups

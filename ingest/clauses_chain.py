"""Choose the candidates that really open clauses: no table-of-contents entries, no list items,
and the longest plausibly increasing numbering, which leaves cross-references out."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator

from ingest.clauses_layout import Layout, is_toc_entry
from ingest.clauses_scan import HARD, INLINE, Candidate

__all__ = ["select"]

# Largest step between consecutive numbers at one level (a missed clause or two is fine).
GAP = 3
# The same within running text, where a number is more often a reference than a clause.
STRICT_GAP = 2
# A chain that begins other than at 1 (or 1.1) needs more members to be believed.
START_PENALTY = 1.5
# Numbering that starts again at 1 without an annex heading: a second part, or a list.
RESTART_PENALTY = 2.5
# Fewer non-space characters than this between two headings: no body, as in a contents list.
BARE_BODY = 30
# Characters after a number searched for a table-of-contents leader.
TOC_LINE = 250
_PAGE_REFERENCE = re.compile(r"\s\d{1,4}$")


def select(layout: Layout, candidates: list[Candidate]) -> list[Candidate]:
    """The numbered and divider candidates that open clauses, in text order."""
    candidates = _drop_list_items(_drop_contents(layout, candidates))
    dividers = [candidate for candidate in candidates if candidate.kind == "divider"]
    numbered = [candidate for candidate in candidates if candidate.key is not None]
    chain = _longest_chain(numbered, [divider.start for divider in dividers])
    return sorted(chain + dividers, key=lambda candidate: candidate.anchor)


def _drop_contents(layout: Layout, candidates: list[Candidate]) -> list[Candidate]:
    """Candidates without table-of-contents entries: leader lines, and runs of three or more
    headings without body text whose numbers come back later in the text."""
    kept = [candidate for candidate in candidates if not _on_toc_line(layout, candidate)]
    bare = [_body(layout, kept, index) < BARE_BODY for index in range(len(kept))]
    last = {candidate.label: index for index, candidate in enumerate(kept)}
    dropped: set[int] = set()
    for first, stop in _runs(bare, 3):
        repeated = sum(1 for candidate in kept[first:stop] if last[candidate.label] >= stop)
        if 2 * repeated >= stop - first:
            dropped.update(range(first, stop))
    for index, candidate in enumerate(kept):
        if _PAGE_REFERENCE.search(candidate.heading) and last[candidate.label] > index:
            dropped.add(index)
    return [candidate for index, candidate in enumerate(kept) if index not in dropped]


def _on_toc_line(layout: Layout, candidate: Candidate) -> bool:
    """Whether the candidate's heading runs into a leader and a page number."""
    end = min(layout.ends[layout.line_at(candidate.anchor)], candidate.anchor + TOC_LINE)
    return is_toc_entry(layout.text[candidate.anchor : end])


def _body(layout: Layout, candidates: list[Candidate], index: int) -> int:
    """Non-space characters between a candidate's heading and the next candidate."""
    end = candidates[index + 1].start if index + 1 < len(candidates) else len(layout.text)
    body = layout.text[candidates[index].head_end : end]
    return len(body) - sum(body.count(space) for space in " \t\n\r\f\xa0")


def _runs(flags: list[bool], length: int) -> Iterator[tuple[int, int]]:
    """(first, stop) of each run of at least `length` true flags."""
    first = None
    for index, flag in enumerate([*flags, False]):
        if flag and first is None:
            first = index
        elif not flag and first is not None:
            if index - first >= length:
                yield first, index
            first = None


def _drop_list_items(candidates: list[Candidate]) -> list[Candidate]:
    """Without "1." items in parts (between annex or chapter headings) whose top level is
    carried by keyword articles ("Artikel 3", "ARTICLE III"): there, "1." opens a list item."""
    parts: list[list[Candidate]] = [[]]
    for candidate in candidates:
        if candidate.kind == "divider":
            parts.append([])
        parts[-1].append(candidate)
    return [candidate for part in parts for candidate in _without_list_items(part)]


def _without_list_items(part: list[Candidate]) -> list[Candidate]:
    """`part` without "1." items when at least three rising keyword articles are in it."""
    articles = [c.key[0] for c in part if c.kind == "article" and c.strength == HARD and c.key]
    rising = sum(1 for before, after in zip(articles, articles[1:], strict=False) if after > before)
    if len(articles) < 3 or rising < 2:
        return part
    return [c for c in part if not (c.kind == "number" and c.key and len(c.key) == 1)]


def _first_like(key: tuple[int, ...]) -> bool:
    """Whether a number can open a numbering: 1, 1.1, 1.0."""
    return all(part <= 1 for part in key)


def _predecessors(key: tuple[int, ...], strict: bool) -> Iterator[tuple[bool, tuple[int, ...]]]:
    """(exact, key) of numbers that may come right before `key`: exact for a parent ("12"
    before "12.1"), else a prefix whose whole subtree may ("12.*" before "13" or "13.1")."""
    gap = STRICT_GAP if strict else GAP
    for level in range(len(key)):
        if all(part <= 1 for part in key[level + 1 :]):
            for step in range(1, gap + 1):
                if key[level] - step >= (1 if level == 0 else 0):
                    yield False, key[:level] + (key[level] - step,)
    for level in range(1, len(key)):
        first_child = 1 if strict else 2
        if key[level] <= first_child and all(part <= 1 for part in key[level + 1 :]):
            yield True, key[:level]


def _entry_cost(candidate: Candidate, *, restart: bool) -> float | None:
    """Cost of opening a chain (or a new part of one) at `candidate`; None when it may not."""
    key = candidate.key or ()
    if candidate.weak and (restart or key != (1,)):
        return None
    if candidate.strength == INLINE and (candidate.weak or not _first_like(key)):
        return None
    if not restart:
        return 0.0 if _first_like(key) else START_PENALTY
    return RESTART_PENALTY if _first_like(key) and candidate.heading else None


def _longest_chain(numbered: list[Candidate], divider_starts: list[int]) -> list[Candidate]:
    """The highest-scoring sequence in which each number plausibly follows the previous one,
    found by dynamic programming over the candidates in text order."""
    chains = _Chains()
    for candidate in numbered:
        chains.add(candidate, bisect_right(divider_starts, candidate.start))
    chosen: list[Candidate] = []
    # A chain worth nothing (one clause numbered 12, say) is more likely noise than structure.
    index = chains.overall if chains.overall >= 0 and chains.scores[chains.overall] > 0 else -1
    while index >= 0:
        chosen.append(numbered[index])
        index = chains.back[index]
    return chosen[::-1]


class _Chains:
    """Best chain score ending at each candidate, with back links and lookup by number."""

    def __init__(self) -> None:
        self.scores: list[float] = []
        self.back: list[int] = []
        self.by_number: dict[tuple[bool, tuple[int, ...]], int] = {}
        self.overall = -1
        self.region_best: dict[int, int] = {}

    def add(self, candidate: Candidate, region: int) -> None:
        """Score `candidate` as the end of the best chain that can reach it."""
        self.region_best.setdefault(region, self.overall)
        options = list(self._openings(candidate, self.region_best[region] if region else -1))
        options += [
            (self.scores[self.by_number[number]], self.by_number[number])
            for number in _predecessors(candidate.key or (), candidate.strength == INLINE)
            if number in self.by_number
        ]
        index = len(self.scores)
        score, previous = max(options) if options else (float("-inf"), -1)
        self.scores.append(score + 1.0)
        self.back.append(previous)
        if not options:
            return
        key = candidate.key or ()
        for number in [(True, key)] + [(False, key[:level]) for level in range(1, len(key) + 1)]:
            best = self.by_number.get(number)
            if best is None or self.scores[index] >= self.scores[best]:
                self.by_number[number] = index
        if self.overall < 0 or self.scores[index] >= self.scores[self.overall]:
            self.overall = index

    def _openings(self, candidate: Candidate, region_start: int) -> Iterator[tuple[float, int]]:
        """(score before, predecessor) for opening a chain at `candidate`: from nothing, after
        the best chain before its annex or chapter, or after the best chain so far."""
        fresh = _entry_cost(candidate, restart=False)
        if fresh is not None:
            yield -fresh, -1
            if region_start >= 0:
                yield self.scores[region_start] - fresh, region_start
        restart = _entry_cost(candidate, restart=True)
        if restart is not None and self.overall >= 0:
            yield self.scores[self.overall] - restart, self.overall

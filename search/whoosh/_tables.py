"""Per-segment arrays of the unit attributes that filters, facets and grouping read for every match.

Permission filtering and facet counting touch every matched unit, so reading Whoosh column values
one at a time (a struct unpack each) would dominate a search. A segment never changes once
written (deletions are kept aside and applied per search), so its columns are loaded once into
numpy arrays and cached by segment id until the segment disappears. Searches filter, count and
rank whole arrays of matches at once (see index_match and index_rank).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from whoosh.reading import IndexReader

from search.whoosh._columns import length_codes, numeric_array, reference_array

__all__ = [
    "CODE_COLUMNS",
    "FLAG_CLAUSE",
    "FLAG_CURRENT",
    "FLAG_DEFINITION",
    "NUMBER_COLUMNS",
    "SegmentTable",
    "TableCache",
    "load_table",
]

# Attribute name -> Whoosh column field; numbers are ints, codes index a list of strings.
NUMBER_COLUMNS = {
    "document": "c_document",
    "dossier": "c_dossier",
    "version": "c_version",
    "date": "c_date",
    "flags": "c_flags",
}
CODE_COLUMNS = {
    "kind": "c_kind",
    "status": "c_status",
    "supplier": "c_supplier",
    "reference": "c_reference",
    "types": "c_types",
}
# Text fields whose per-unit lengths BM25 needs.
SCORED_FIELDS = ("body", "meta", "heading", "ident", "number")
# The ranges and unit mask of this many permission sets (users searching again) are kept per
# segment; a mask costs one byte per unit.
RECENT_PERMISSION_SETS = 8
FLAG_CURRENT = 1
FLAG_CLAUSE = 2
FLAG_DEFINITION = 4  # Unit.definition


@dataclass(frozen=True)
class SegmentTable:
    """Column values of every unit (live or deleted) of one segment, indexed by segment docnum.

    ``runs`` maps each dossier to the docnum ranges [start, end) its units occupy: the units of
    one document are always consecutive, so there are at most as many runs as documents.
    ``lengths`` holds Whoosh's one-byte length code of each scored field per unit.
    """

    numbers: dict[str, np.ndarray]
    codes: dict[str, np.ndarray]
    labels: dict[str, list[str]]
    runs: dict[int, list[tuple[int, int]]]
    lengths: dict[str, np.ndarray]
    recent: dict[frozenset[int], Allowed] = field(default_factory=dict)
    # Searches in several threads share a table.
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @property
    def size(self) -> int:
        """Units in the segment, live or deleted."""
        return len(self.numbers["dossier"])

    def code_set(self, attribute: str, values: frozenset[str]) -> list[int]:
        """The codes in this segment of a set of string values."""
        return [code for code, label in enumerate(self.labels[attribute]) if label in values]

    def type_codes(self, chosen: frozenset[str]) -> np.ndarray:
        """Per code of the types column, how many of the chosen clause types its set holds."""
        return np.array(
            [len(chosen.intersection(label.split())) for label in self.labels["types"]],
            dtype=np.int64,
        )

    def allowed(self, dossiers: frozenset[int]) -> Allowed:
        """The units of the given dossiers, as ranges and as a mask (recent sets cached)."""
        with self.lock:
            found = self.recent.get(dossiers)
            if found is None:
                found = self.recent[dossiers] = _allowed(self._merged_runs(dossiers), self.size)
                if len(self.recent) > RECENT_PERMISSION_SETS:
                    del self.recent[next(iter(self.recent))]
        return found

    def _merged_runs(self, dossiers: frozenset[int]) -> list[tuple[int, int]]:
        """Sorted, merged docnum ranges of the units of the given dossiers."""
        if len(dossiers) < len(self.runs):
            chosen = [run for d in dossiers for run in self.runs.get(d, ())]
        else:
            chosen = [run for d, runs in self.runs.items() if d in dossiers for run in runs]
        chosen.sort()
        merged: list[tuple[int, int]] = []
        for start, end in chosen:
            if merged and merged[-1][1] == start:
                merged[-1] = (merged[-1][0], end)
            else:
                merged.append((start, end))
        return merged


@dataclass(frozen=True)
class Allowed:
    """The units of some dossiers in one segment: sorted, merged [start, end) ranges of docnums
    as two arrays, and the same as a read-only boolean mask over the segment."""

    starts: np.ndarray
    ends: np.ndarray
    mask: np.ndarray


def _allowed(runs: list[tuple[int, int]], size: int) -> Allowed:
    """The Allowed of some sorted, merged ranges in a segment of `size` units."""
    bounds = np.array(runs, dtype=np.int64).reshape(-1, 2)
    starts, ends = bounds[:, 0].copy(), bounds[:, 1].copy()
    edges = np.zeros(size + 1, dtype=np.int32)
    np.add.at(edges, starts, 1)
    np.add.at(edges, ends, -1)
    mask = np.cumsum(edges[:-1]) > 0
    # Shared by every search with the same permissions: nobody may change it in place.
    mask.flags.writeable = False
    return Allowed(starts, ends, mask)


def load_table(reader: IndexReader) -> SegmentTable:
    """Read every column of one segment reader into arrays."""
    count = reader.doc_count_all()
    numbers = {
        name: np.asarray(numeric_array(reader.column_reader(column, translate=False), count))
        for name, column in NUMBER_COLUMNS.items()
    }
    codes: dict[str, np.ndarray] = {}
    labels: dict[str, list[str]] = {}
    for name, column in CODE_COLUMNS.items():
        found, labels[name] = reference_array(reader.column_reader(column, translate=False), count)
        codes[name] = np.asarray(found, dtype=np.int64)
    lengths = {
        name: np.frombuffer(bytes(length_codes(reader, name)), dtype=np.uint8)
        for name in SCORED_FIELDS
    }
    return SegmentTable(numbers, codes, labels, _runs(numbers["dossier"].tolist()), lengths)


def _runs(dossiers: Any) -> dict[int, list[tuple[int, int]]]:
    """Each dossier's maximal ranges of consecutive docnums."""
    runs: dict[int, list[tuple[int, int]]] = {}
    start = 0
    for end, (before, after) in enumerate(zip(dossiers, dossiers[1:], strict=False), 1):
        if before != after:
            runs.setdefault(before, []).append((start, end))
            start = end
    if len(dossiers):
        runs.setdefault(dossiers[-1], []).append((start, len(dossiers)))
    return runs


class TableCache:
    """Segment tables shared by all searchers of one index, keyed by segment id."""

    def __init__(self) -> None:
        self._tables: dict[str, SegmentTable] = {}
        self._lock = threading.Lock()

    def table(self, key: str, reader: IndexReader) -> SegmentTable:
        """The table of a segment, loaded on first use."""
        with self._lock:
            found = self._tables.get(key)
        if found is None:
            found = load_table(reader)
            with self._lock:
                self._tables[key] = found
        return found

    def keep_only(self, keys: set[str]) -> None:
        """Forget tables of segments that are no longer part of the index."""
        with self._lock:
            for key in set(self._tables) - keys:
                del self._tables[key]

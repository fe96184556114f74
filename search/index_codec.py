"""The Whoosh codec and segment type used for every segment this package writes.

Changes to Whoosh's W3 codec, all about cost rather than format (the files are W3 files):

- no per-posting field-length statistics while flushing (see UnitCodec), and a leaner flush
  loop (see _FieldWriter);
- segment files are read through memory-mapped views instead of copies (see index_mmap);
- skipping in a posting list jumps to the right block through a per-term index of block
  boundaries, and bisects inside a block. Whoosh walks block headers (a pickle each) one by one
  and steps through a block one id at a time, which made phrase checks on "of" or "the" and
  matching inside the permitted docnum ranges walk the whole posting list.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import accumulate
from typing import Any
from weakref import WeakKeyDictionary

from whoosh.codec.base import OutOfOrderError
from whoosh.codec.whoosh3 import (
    W3Codec,
    W3FieldWriter,
    W3LeafMatcher,
    W3PostingsWriter,
    W3Segment,
)
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import Storage
from whoosh.filedb.structfile import StructFile
from whoosh.formats import Format
from whoosh.matching import Matcher, ReadTooFar
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import IndexReader, TermInfo
from whoosh.system import _INT_SIZE

from search.index_mmap import MappedStorage

__all__ = ["UnitCodec", "UnitSegment", "collect"]


class UnitCodec(W3Codec):
    """Whoosh's W3 codec without per-posting field-length statistics.

    Whoosh looks up the field length of every posting while flushing a segment, only to record
    each block's shortest and longest document for the top-N collector's skipping; that lookup
    cost about an eighth of indexing time. Without it the recorded minimum is 0, which keeps a
    score bound valid (a bound for the shortest possible unit), merely looser.
    """

    length_stats = False

    def new_segment(self, storage: Storage, indexname: str) -> UnitSegment:
        return UnitSegment(self, indexname)

    def field_writer(self, storage: Storage, segment: W3Segment) -> W3FieldWriter:
        return _FieldWriter(self, storage, segment)

    def postings_writer(self, dbfile: StructFile, byteids: bool = False) -> W3PostingsWriter:
        return _PostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def postings_reader(
        self,
        dbfile: StructFile,
        terminfo: TermInfo,
        format_: Format,
        term: tuple[str, bytes] | None = None,
        scorer: Any = None,
    ) -> Matcher:
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return _SkippingMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


class _FieldWriter(W3FieldWriter):
    """Whoosh's field writer with a leaner loop over the sorted postings of a new segment.

    Flushing a segment (Whoosh's add_postings, a Python loop over every posting) took longer
    than analysing the text; this loop makes one call per posting instead of four and skips the
    length lookups (there are no length statistics) and the spelling postings (none are made).
    """

    def add_postings(self, schema: Any, lengths: Any, items: Any) -> None:
        last_field: str | None = None
        last_term: bytes | None = None
        add: Any = None
        for field, term, docnum, weight, value in items:
            if field != last_field:
                if last_term is not None:
                    self.finish_term()
                if last_field is not None:
                    self.finish_field()
                self.start_field(field, schema[field])
                add = self._postwriter.add_posting
                last_field, last_term = field, None
            if term != last_term:
                if last_term is not None:
                    if term < last_term:
                        raise OutOfOrderError(f"{field}: {last_term!r} before {term!r}")
                    self.finish_term()
                self.start_term(term)
                last_term = term
            add(docnum, weight, value or b"")
        if last_term is not None:
            self.finish_term()
        if last_field is not None:
            self.finish_field()

    def add_term_postings(self, docnums: Any, weights: Any, values: list[bytes]) -> None:
        """All postings of the current term at once, a block at a time (see index_writer)."""
        writer = self._postwriter
        limit = writer._blocklimit
        for start in range(0, len(docnums), limit):
            if start:
                writer._write_block()
            block_weights = weights[start : start + limit]
            writer._ids = docnums[start : start + limit]
            writer._weights = block_weights
            writer._values = values[start : start + limit] if values else []
            writer._maxweight = max(block_weights)


class _PostingsWriter(W3PostingsWriter):
    """Whoosh's postings writer without per-posting type assertions and length statistics."""

    def add_posting(
        self, id_: int, weight: float, vbytes: bytes, length: int | None = None
    ) -> None:
        if len(self._ids) >= self._blocklimit:
            self._write_block()
        self._ids.append(id_)
        self._weights.append(weight)
        if weight > self._maxweight:
            self._maxweight = weight
        if vbytes:
            self._values.append(vbytes)


# Block boundaries per postings file and term start offset; rebuilt with each new searcher.
_BLOCKS: WeakKeyDictionary[StructFile, dict[int, tuple[list[int], list[int]]]] = WeakKeyDictionary()


class _SkippingMatcher(W3LeafMatcher):
    """W3 postings whose skip_to jumps straight to the block holding the target."""

    def collect(self, runs: list[tuple[int, int]]) -> dict[int, float]:
        """Docnum -> weight (term frequency) of the postings inside sorted [start, end) ranges.

        Whole slices of each decoded block are taken at once instead of stepping id by id.
        """
        found: dict[int, float] = {}
        for start, end in runs:
            if not self.is_active():
                break
            self.skip_to(start)
            while self.is_active():
                if self._ids is None:
                    self._read_ids()
                if self._weights is None:
                    self._read_weights()
                first, ids = self._i, self._ids
                stop = bisect_left(ids, end, first)
                found.update(zip(ids[first:stop], self._weights[first:stop], strict=True))
                if stop < self._blocklength:
                    self._i = stop
                    break
                self._i = self._blocklength - 1
                self.next()
        return found

    def _read_ids(self) -> None:
        # Whoosh undoes the delta coding with a Python generator; accumulate does it in C.
        if self._data is None:
            self._read_data()
        ids = self._data[0]
        self._ids = ids if self._byteids else tuple(accumulate(ids))

    def skip_to(self, targetid: int) -> None:
        if not self.is_active():
            raise ReadTooFar
        if targetid <= self.id():
            return
        if targetid > self._maxid:
            maxids, offsets = self._blocks()
            block = bisect_left(maxids, targetid)
            if block == len(maxids):
                self._atend = True
                return
            self._goto(offsets[block])
        if self._ids is None:
            self._read_ids()
        self._i = bisect_left(self._ids, targetid, self._i)

    def _blocks(self) -> tuple[list[int], list[int]]:
        """(last id, offset) of every block of this term, read once per postings file."""
        known = _BLOCKS.setdefault(self._postfile, {})
        found = known.get(self._baseoffset)
        if found is None:
            found = known[self._baseoffset] = _scan_blocks(self._postfile, self._baseoffset)
        return found


def collect(
    reader: IndexReader, field: str, term: str, runs: list[tuple[int, int]]
) -> dict[int, float]:
    """Docnum -> term frequency of one term's live postings inside the given docnum ranges."""
    if (field, term) not in reader:
        return {}
    matcher = reader.postings(field, term)
    deleted: frozenset[int] = frozenset()
    if isinstance(matcher, FilterMatcher):
        matcher, deleted = matcher.child, reader.deleted_docs_set
    if isinstance(matcher, _SkippingMatcher):
        found = matcher.collect(runs)
    else:
        found = _step_collect(matcher, runs)
    for docnum in deleted.intersection(found):
        del found[docnum]
    return found


def _step_collect(matcher: Matcher, runs: list[tuple[int, int]]) -> dict[int, float]:
    """collect() for postings that are not ours (inlined single postings, older segments)."""
    found: dict[int, float] = {}
    for start, end in runs:
        if not matcher.is_active():
            break
        if matcher.id() < start:
            matcher.skip_to(start)
        while matcher.is_active() and matcher.id() < end:
            found[matcher.id()] = matcher.weight()
            matcher.next()
    return found


def _scan_blocks(postfile: StructFile, position: int) -> tuple[list[int], list[int]]:
    """Walk the block headers of one posting list: each block's last id and its offset."""
    maxids: list[int] = []
    offsets: list[int] = []
    while True:
        postfile.seek(position)
        length = postfile.read_int()
        maxids.append(postfile.read_pickle()[1])
        offsets.append(position)
        position += _INT_SIZE + abs(length)
        if length < 0:
            return maxids, offsets


class UnitSegment(W3Segment):
    """A W3 segment whose compound file is read through views of one memory map."""

    def open_compound_file(self, storage: Storage) -> CompoundStorage:
        dbfile = storage.open_file(self.make_filename(self.COMPOUND_EXT))
        return MappedStorage(dbfile, use_mmap=True)

"""The Whoosh codec and segment type used for every segment this package writes.

Changes to Whoosh's W3 codec, all about cost (the files are W3 files except for the layout of
a block of postings):

- a block of postings keeps docnums, weights and values apart, as arrays rather than one
  compressed pickle, so matching reads docnums without unpickling positions (see _BLOCK);
- no per-posting field-length statistics while flushing (see UnitCodec), and a leaner flush
  loop (see _FieldWriter);
- segment files are read through memory-mapped views instead of copies (see index_mmap);
- skipping in a posting list jumps to the right block through a per-term index of block
  boundaries, and bisects inside a block. Whoosh walks block headers (a pickle each) one by one
  and steps through a block one id at a time, which made phrase checks on "of" or "the" and
  matching inside the permitted docnum ranges walk the whole posting list.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from bisect import bisect_left
from itertools import accumulate
from typing import Any
from weakref import WeakKeyDictionary

from whoosh.codec.base import OutOfOrderError
from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
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

# A block of postings: its length (negative for a term's last block, as in W3; the length
# counts what follows it), the number of postings, the last docnum, the highest weight and
# flags; then the docnums as uint32, the weights as float32 unless all are 1, and, when the
# format has values, each value's end offset as uint32 followed by the values, compressed.
# Whoosh pickles and compresses the three together, so reading the docnums of a block (all a
# match needs) unpickled the positions too; here docnums and weights are read as arrays.
_BLOCK = struct.Struct("<iHIfB")
_WEIGHTS, _VALUES = 1, 2
_VALUE_COMPRESSION = 1
_BIG_ENDIAN = sys.byteorder == "big"
_ONES = [1.0] * 128


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
    """Whoosh's postings writer without per-posting type assertions and length statistics,
    writing blocks in the layout _SkippingMatcher reads (see _BLOCK)."""

    def _write_block(self, last: bool = False) -> None:
        if self._byteids:  # term vectors (none in our schema) keep Whoosh's layout
            super()._write_block(last)
            return
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        ids = array("I", self._ids)
        weights = self._weights
        flags = 0
        parts = [_little(ids)]
        if weights.count(1.0) != len(weights):
            flags |= _WEIGHTS
            parts.append(_little(array("f", weights)))
        if self._values:
            flags |= _VALUES
            values = self._values
            parts.append(_little(array("I", accumulate(map(len, values)))))
            parts.append(zlib.compress(b"".join(values), _VALUE_COMPRESSION))
        data = b"".join(parts)
        length = _BLOCK.size - _INT_SIZE + len(data)
        header = _BLOCK.pack(-length if last else length, len(ids), ids[-1], self._maxweight, flags)
        self._postfile.write(header)
        self._postfile.write(data)
        self._blockcount += 1
        self._new_block()

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

    def _goto(self, position: int) -> None:
        self._data = self._ids = self._weights = self._values = None
        self._i = 0
        length, count, maxid, maxweight, flags = _BLOCK.unpack(
            self._postfile.get(position, _BLOCK.size)
        )
        self._lastblock = length < 0
        self._nextoffset = position + _INT_SIZE + abs(length)
        self._dataoffset = position + _BLOCK.size
        self._blocklength, self._maxid, self._maxweight, self._flags = (
            count,
            maxid,
            maxweight,
            flags,
        )
        self._minlength = self._maxlength = 0

    def _read_ids(self) -> None:
        self._ids = _array("I", self._postfile.get(self._dataoffset, 4 * self._blocklength))

    def _read_weights(self) -> None:
        count = self._blocklength
        if self._flags & _WEIGHTS:
            self._weights = _array("f", self._postfile.get(self._dataoffset + 4 * count, 4 * count))
        else:
            self._weights = (
                array("f", _ONES[:count]) if count <= len(_ONES) else array("f", [1.0]) * count
            )

    def _read_values(self) -> None:
        count = self._blocklength
        if not self._flags & _VALUES:
            self._values = (None,) * count
            return
        start = self._dataoffset + (8 if self._flags & _WEIGHTS else 4) * count
        ends = _array("I", self._postfile.get(start, 4 * count))
        start += 4 * count
        data = zlib.decompress(self._postfile.get(start, self._nextoffset - start))
        self._values = _Values(data, ends)

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
        length, _, maxid, _, _ = _BLOCK.unpack(postfile.get(position, _BLOCK.size))
        maxids.append(maxid)
        offsets.append(position)
        position += _INT_SIZE + abs(length)
        if length < 0:
            return maxids, offsets


class _Values:
    """The values of a block, cut out of its decompressed bytes only when asked for.

    A phrase check wants the positions of a few units in each block of a common word.
    """

    __slots__ = ("_data", "_ends")

    def __init__(self, data: bytes, ends: array[int]) -> None:
        self._data, self._ends = data, ends

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, i: int) -> bytes:
        ends = self._ends
        return self._data[ends[i - 1] if i else 0 : ends[i]]


def _little(numbers: array[Any]) -> bytes:
    """An array's bytes in little-endian order."""
    if _BIG_ENDIAN:
        numbers = array(numbers.typecode, numbers)
        numbers.byteswap()
    return numbers.tobytes()


def _array(typecode: str, data: bytes) -> array[Any]:
    """An array from little-endian bytes."""
    numbers = array(typecode)
    numbers.frombytes(data)
    if _BIG_ENDIAN:
        numbers.byteswap()
    return numbers


class UnitSegment(W3Segment):
    """A W3 segment whose compound file is read through views of one memory map."""

    def open_compound_file(self, storage: Storage) -> CompoundStorage:
        dbfile = storage.open_file(self.make_filename(self.COMPOUND_EXT))
        return MappedStorage(dbfile, use_mmap=True)

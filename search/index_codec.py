"""The Whoosh codec and segment type used for every segment this package writes.

Three changes to Whoosh's W3 codec, all about cost rather than format (the files are W3 files):

- no per-posting field-length statistics while flushing (see UnitCodec);
- segment files are read through memory-mapped views instead of copies: Whoosh's compound
  storage wraps each memory-mapped part of a segment in ``BytesIO(memoryview)``, which copies
  it, so every searcher held the whole index in memory (240 MB for 1,000 documents). Reading
  without mmap avoids the copy but turned each block skip into seek+read system calls;
- skipping in a posting list jumps to the right block through a per-term index of block
  boundaries, and bisects inside a block. Whoosh walks block headers (a pickle each) one by one
  and steps through a block one id at a time, which made phrase checks on "of" or "the" and
  matching inside the permitted docnum ranges walk the whole posting list.
"""

from __future__ import annotations

import mmap
import os
import struct
import sys
from array import array
from bisect import bisect_left
from itertools import accumulate
from typing import Any
from weakref import WeakKeyDictionary

from whoosh import columns
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3LeafMatcher, W3Segment, _lenfield
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import Storage
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.formats import Format
from whoosh.matching import Matcher, ReadTooFar
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import IndexReader, TermInfo
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length

__all__ = [
    "BYTE_LENGTHS",
    "UnitCodec",
    "UnitSegment",
    "collect",
    "length_codes",
    "numeric_array",
    "reference_array",
]

# Whoosh stores field lengths as one byte; BM25 sees the length that byte decodes to.
BYTE_LENGTHS = [byte_to_length(code) for code in range(256)]


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


def length_codes(reader: IndexReader, field: str) -> Any:
    """Whoosh's one-byte length code of a field for every unit of a segment (see BYTE_LENGTHS)."""
    column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    count = reader.doc_count_all()
    if column is None:
        return bytes(count)
    return numeric_array(column, count)


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
        return _ViewStorage(dbfile, use_mmap=True)


class _ViewStorage(CompoundStorage):
    """Compound storage that hands out views of its memory map rather than copies."""

    def open_file(self, name: str, *args: Any, **kwargs: Any) -> BufferFile:
        if self._source is None:
            return super().open_file(name, *args, **kwargs)
        offset, length = self.range(name)
        return _ViewFile(self._source, offset, length, name)


class _ViewFile(BufferFile):
    """Whoosh's BufferFile over part of a memory map, without copying it into a BytesIO."""

    def __init__(self, source: mmap.mmap, offset: int, length: int, name: str) -> None:
        self._buf = memoryview(source)[offset : offset + length]
        self._name = name
        self.file = _MapReader(source, offset, length)
        self.onclose = None
        self.is_real = False
        self.is_closed = False


class _MapReader:
    """A read-only file object over [offset, offset + length) of a memory map."""

    def __init__(self, source: mmap.mmap, offset: int, length: int) -> None:
        self._source = source
        self._start = offset
        self._end = offset + length
        self._pos = offset
        self.closed = False

    def read(self, size: int | None = -1) -> bytes:
        stop = self._end if size is None or size < 0 else min(self._end, self._pos + size)
        data = self._source[self._pos : stop]
        self._pos = max(self._pos, stop)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        newline = self._source.find(b"\n", self._pos, self._end)
        stop = self._end if newline < 0 else newline + 1
        if size is not None and size >= 0:
            stop = min(stop, self._pos + size)
        return self.read(stop - self._pos)

    def seek(self, position: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: self._start, os.SEEK_CUR: self._pos, os.SEEK_END: self._end}[whence]
        self._pos = min(max(self._start, base + position), self._end)
        return self._pos - self._start

    def tell(self) -> int:
        return self._pos - self._start

    def close(self) -> None:
        self.closed = True


def numeric_array(column: Any, count: int) -> Any:
    """A numeric column as an array, read in one go when its layout is the known one."""
    if isinstance(column, columns.NumericColumn.Reader):
        typecode = column._typecode
        if array(typecode).itemsize == struct.calcsize(typecode):
            stored = min(column._count, count)
            values = array(typecode)
            values.frombytes(column._dbfile.get(column._basepos, stored * column._fixedlen))
            if sys.byteorder == "little" and values.itemsize > 1:
                values.byteswap()
            values.extend([column._default] * (count - stored))
            return values
    if isinstance(column, columns.EmptyColumnReader):
        return [column._default] * count
    return list(column)


def reference_array(column: Any, count: int) -> tuple[Any, list[str]]:
    """A reference column as (array of codes, list of labels)."""
    if isinstance(column, columns.RefBytesColumn.Reader):
        refs = array(column._typecode)
        refs.frombytes(column._dbfile.get(column._basepos, count * column._itemsize))
        if sys.byteorder == "little" and refs.itemsize > 1:
            refs.byteswap()
        return refs, [value.decode("utf-8") for value in column._uniques]
    values = [bytes(v).decode("utf-8") for v in column]
    labels = list(dict.fromkeys([""] + values))
    index = {label: code for code, label in enumerate(labels)}
    return [index[v] for v in values], labels

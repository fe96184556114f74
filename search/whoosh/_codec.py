"""The Whoosh codec and segment type used for every segment this package writes.

Changes to Whoosh's W3 codec, all about cost (the files are W3 files except for the layout of
a block of postings):

- a block of postings keeps docnums, weights and values apart, as arrays rather than one
  compressed pickle, so matching reads docnums without unpickling positions (see _BLOCK);
- positions that fit in 16 bits are stored bare, uncompressed and without a per-posting
  header, so phrase checks read them without inflating a block (see _BLOCK);
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
from contextlib import suppress
from itertools import accumulate
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
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
from whoosh.reading import IndexReader, TermInfo, TermNotFound
from whoosh.system import _INT_SIZE, pack_uint

from search.whoosh._format import PackedPositions, unpack_positions
from search.whoosh._mmap import MappedStorage

__all__ = ["UnitCodec", "UnitSegment", "holds", "postings", "positions"]

# A block of postings: its length (negative for a term's last block, as in W3; the length
# counts what follows it), the number of postings, the last docnum, the highest weight and
# flags; then the docnums as uint32, the weights as float32 unless all are 1, and, when the
# format has values, each value's end offset as uint32 followed by the values. Whoosh pickles
# and compresses the three together, so reading the docnums of a block (all a match needs)
# unpickled the positions too; here docnums and weights are read as arrays.
#
# Values of the packed-positions format whose positions are all 16-bit (every unit shorter than
# 65,536 words) are stored bare (flag _BARE): each posting's positions as uint16, without the
# value's count and typecode (the count is the length), uncompressed. Any other values are
# stored whole and compressed with zlib, as every block was before _BARE existed. Phrase and
# proximity checks read the positions of thousands of blocks per search; inflating them was
# over a quarter of a search's time at 100,000 documents, and most postings hold one or two
# positions, so the bare form (2 bytes a position) is barely larger than the compressed one
# (a 5-byte header and 2 bytes a position, compressed).
_BLOCK = struct.Struct("<iHIfB")
_WEIGHTS, _VALUES, _BARE = 1, 2, 4
_VALUE_COMPRESSION = 1
_BIG_ENDIAN = sys.byteorder == "big"
_ONES = [1.0] * 128
_NO_IDS = np.zeros(0, dtype=np.int64)
_NO_WEIGHTS = np.zeros(0, dtype=np.float64)
# The typecode byte after the count in a packed posting value (see index_format), and the
# size of that header.
_UINT16 = ord("H")
_PACKED_HEADER = _INT_SIZE + 1


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
            bare = _bare(values) if isinstance(self._format, PackedPositions) else None
            if bare is not None:
                flags |= _BARE
                values = bare
            parts.append(_little(array("I", accumulate(map(len, values)))))
            joined = b"".join(values)
            parts.append(joined if bare is not None else zlib.compress(joined, _VALUE_COMPRESSION))
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


def _bare(values: list[bytes]) -> list[bytes] | None:
    """The uint16 positions of packed values without their headers; None unless every value
    holds uint16 positions."""
    if any(value[_INT_SIZE] != _UINT16 for value in values):
        return None
    return [value[_PACKED_HEADER:] for value in values]


class _Blocks:
    """The block headers of one term's posting list: last id, offset, count and flags of each
    block, as lists (for skip_to) and as arrays (for choosing blocks in bulk)."""

    __slots__ = ("counts", "ends", "firsts", "flags", "lasts", "maxids", "offsets")

    def __init__(
        self,
        maxids: list[int],
        offsets: list[int],
        counts: list[int],
        flags: list[int],
        ends: list[int],
    ) -> None:
        self.maxids, self.offsets, self.counts, self.flags = maxids, offsets, counts, flags
        self.ends = ends
        self.lasts = np.array(maxids, dtype=np.int64)
        # The lowest id a block can hold: one past the previous block's last.
        self.firsts = np.concatenate(([0], self.lasts[:-1] + 1))


# Block headers per postings file and term start offset; rebuilt with each new searcher.
_BLOCKS: WeakKeyDictionary[StructFile, dict[int, _Blocks]] = WeakKeyDictionary()


class _SkippingMatcher(W3LeafMatcher):
    """W3 postings whose skip_to jumps straight to the block holding the target, and which
    hand out whole blocks as numpy arrays."""

    def arrays(self, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Docnums and weights of every block that overlaps one of the sorted [start, end)
        ranges; the caller drops the postings outside them (with a mask over the segment)."""
        blocks = self._blocks()
        following = np.searchsorted(ends, blocks.firsts, side="right")
        overlaps = following < len(ends)
        overlaps[overlaps] = starts[following[overlaps]] <= blocks.lasts[overlaps]
        get, offsets, counts, flags = (
            self._postfile.get,
            blocks.offsets,
            blocks.counts,
            blocks.flags,
        )
        ids, weights = [], []
        for block in np.flatnonzero(overlaps).tolist():
            position, count = offsets[block] + _BLOCK.size, counts[block]
            ids.append(np.frombuffer(get(position, 4 * count), dtype="<u4"))
            if flags[block] & _WEIGHTS:
                weights.append(np.frombuffer(get(position + 4 * count, 4 * count), dtype="<f4"))
            else:
                weights.append(np.ones(count, dtype=np.float32))
        if not ids:
            return _NO_IDS, _NO_WEIGHTS
        return (
            np.concatenate(ids).astype(np.int64),
            np.concatenate(weights).astype(np.float64),
        )

    def positions_of(self, docnums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(docnum, position) of every occurrence of the term in the given sorted units, in
        order; a format without positions gives position 0 once per unit.

        Only the blocks that may hold a wanted unit are read; their docnums, value ends and
        values are joined and decoded together, bare blocks apart from compressed ones.
        """
        blocks = self._blocks()
        which = np.searchsorted(blocks.lasts, docnums, side="left")
        chosen = np.unique(which[which < len(blocks.lasts)]).tolist()
        if not self.supports("positions"):
            ids = self._ids_of(chosen)
            ids = ids[_wanted(docnums, ids)]
            return ids, np.zeros(len(ids), dtype=np.int64)
        # A block without values has no positions to offer (our formats always write some).
        flags = blocks.flags
        bare = [block for block in chosen if flags[block] & _BARE]
        packed = [block for block in chosen if flags[block] & _VALUES and not flags[block] & _BARE]
        if not packed:
            return self._bare_positions(docnums, bare)
        found = [self._bare_positions(docnums, bare), self._packed_positions(docnums, packed)]
        ids = np.concatenate([part[0] for part in found])
        order = np.argsort(ids, kind="stable")
        return ids[order], np.concatenate([part[1] for part in found])[order]

    def _ids_of(self, chosen: list[int]) -> np.ndarray:
        """The docnums of some blocks."""
        blocks = self._blocks()
        get, offsets, counts = self._postfile.get, blocks.offsets, blocks.counts
        parts = [get(offsets[block] + _BLOCK.size, 4 * counts[block]) for block in chosen]
        return np.frombuffer(b"".join(parts), dtype="<u4").astype(np.int64)

    def _values_of(
        self, docnums: np.ndarray, chosen: list[int], inflate: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, bytes]:
        """The wanted units' docnums among some blocks' postings, and for those postings the
        begin and end of each value in the blocks' values joined (inflated first if asked)."""
        blocks = self._blocks()
        get, offsets, counts, flags = (
            self._postfile.get,
            blocks.offsets,
            blocks.counts,
            blocks.flags,
        )
        id_parts, end_parts, value_parts = [], [], []
        for block in chosen:
            position, count = offsets[block] + _BLOCK.size, counts[block]
            id_parts.append(get(position, 4 * count))
            start = position + (8 if flags[block] & _WEIGHTS else 4) * count
            end_parts.append(get(start, 4 * count))
            start += 4 * count
            value = get(start, blocks.ends[block] - start)
            value_parts.append(zlib.decompress(value) if inflate else value)
        ids = np.frombuffer(b"".join(id_parts), dtype="<u4").astype(np.int64)
        wanted = _wanted(docnums, ids)
        # Value ends restart at each block; the values of the blocks are joined in order, so
        # shifting each block's ends by the bytes before it gives ends in the joined values.
        sizes = np.array([len(part) for part in value_parts], dtype=np.int64)
        shifts = np.repeat(np.cumsum(sizes) - sizes, [counts[block] for block in chosen])
        ends = np.frombuffer(b"".join(end_parts), dtype="<u4").astype(np.int64) + shifts
        begins = np.concatenate(([0], ends[:-1]))
        return ids[wanted], begins[wanted], ends[wanted], b"".join(value_parts)

    def _bare_positions(
        self, docnums: np.ndarray, chosen: list[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions in the wanted units from bare blocks (see _BLOCK)."""
        if not chosen:
            return _NO_IDS, _NO_IDS
        ids, begins, ends, data = self._values_of(docnums, chosen, inflate=False)
        # Bare values are uint16 positions: byte offsets halve into position offsets.
        begins //= 2
        lengths = ends // 2 - begins
        if not len(lengths):
            return _NO_IDS, _NO_IDS
        positions = np.frombuffer(data, dtype="<u2")
        gather = np.arange(int(lengths.sum())) + np.repeat(
            begins - (np.cumsum(lengths) - lengths), lengths
        )
        return np.repeat(ids, lengths), positions[gather].astype(np.int64)

    def _packed_positions(
        self, docnums: np.ndarray, chosen: list[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions in the wanted units from blocks of compressed packed values."""
        ids, begins, ends, data = self._values_of(docnums, chosen, inflate=True)
        return _decode(ids, np.frombuffer(data, dtype=np.uint8), begins, ends)

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
        data = self._postfile.get(start, self._nextoffset - start)
        if self._flags & _BARE:
            self._values = _BareValues(data, ends)
        else:
            self._values = _Values(zlib.decompress(data), ends)

    def skip_to(self, targetid: int) -> None:
        if not self.is_active():
            raise ReadTooFar
        if targetid <= self.id():
            return
        if targetid > self._maxid:
            blocks = self._blocks()
            block = bisect_left(blocks.maxids, targetid)
            if block == len(blocks.maxids):
                self._atend = True
                return
            self._goto(blocks.offsets[block])
        if self._ids is None:
            self._read_ids()
        self._i = bisect_left(self._ids, targetid, self._i)

    def _blocks(self) -> _Blocks:
        """The block headers of this term, read once per postings file."""
        known = _BLOCKS.setdefault(self._postfile, {})
        found = known.get(self._baseoffset)
        if found is None:
            found = known[self._baseoffset] = _scan_blocks(self._postfile, self._baseoffset)
        return found


def postings(
    reader: IndexReader, field: str, term: str, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Docnums (ascending) and term frequencies of a term's postings in one segment, at least
    those inside the sorted [start, end) ranges. Deleted units are not removed here: the caller
    masks the result with the units it may see, which leaves the deleted ones out."""
    matcher = _matcher(reader, field, term)
    if matcher is None:
        return _NO_IDS, _NO_WEIGHTS
    if isinstance(matcher, _SkippingMatcher):
        return matcher.arrays(starts, ends)
    # Postings that are not ours: an inlined single posting, an older segment.
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


def positions(
    reader: IndexReader, field: str, term: str, docnums: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(docnum, position) of each occurrence of a term in the given sorted units of a segment
    (position 0 once per unit for a field without positions)."""
    matcher = _matcher(reader, field, term) if len(docnums) else None
    if matcher is None:
        return _NO_IDS, _NO_IDS
    if isinstance(matcher, _SkippingMatcher):
        return matcher.positions_of(docnums)
    has_positions = matcher.supports("positions")
    wanted = set(docnums.tolist())
    units, places = [], []
    while matcher.is_active():
        if matcher.id() in wanted:
            found = matcher.value_as("positions") if has_positions else [0]
            units += [matcher.id()] * len(found)
            places += found
        matcher.next()
    return np.array(units, dtype=np.int64), np.array(places, dtype=np.int64)


# The term infos of the terms queries have looked up, per segment's terms file (a segment
# never changes, so neither do they; None for a term the segment lacks). Queries look up the
# same words over and over (a concept's expansions, the stems of each field), and a lookup in
# Whoosh's hash table costs an md5 and a few reads each time.
_TERM_INFOS: WeakKeyDictionary[Any, dict[tuple[str, str], TermInfo | None]] = WeakKeyDictionary()
_MAX_TERM_INFOS = 50_000


def _term_info(reader: IndexReader, field: str, term: str) -> TermInfo | None:
    """A segment reader's term info of a term, or None when the segment lacks it."""
    terms = reader._terms  # type: ignore[attr-defined]
    known = _TERM_INFOS.get(terms)
    if known is None or len(known) > _MAX_TERM_INFOS:
        known = _TERM_INFOS[terms] = {}
    key = (field, term)
    if key in known:
        return known[key]
    found = None
    if field in reader.schema:
        with suppress(TermNotFound):
            found = terms.term_info(field, reader._text_to_bytes(field, term))
    known[key] = found
    return found


def holds(reader: IndexReader, field: str, term: str) -> bool:
    """Whether a reader (of one segment or several) holds a term in a field."""
    if hasattr(reader, "readers"):  # a MultiReader
        return any(holds(sub, field, term) for sub in reader.readers)
    if not hasattr(reader, "_terms"):  # an empty index
        return (field, term) in reader
    return _term_info(reader, field, term) is not None


def _matcher(reader: IndexReader, field: str, term: str) -> Matcher | None:
    """A term's postings in one segment, deleted units included (callers mask them out), or
    None when the segment does not hold the term."""
    if not hasattr(reader, "_terms"):  # not a segment's reader
        if (field, term) not in reader:
            return None
        matcher = reader.postings(field, term)
        return matcher.child if isinstance(matcher, FilterMatcher) else matcher
    info = _term_info(reader, field, term)
    if info is None:
        return None
    # Whoosh's reader.postings wraps the postings of a segment with deletions in a
    # FilterMatcher that steps over the deleted units one by one as soon as it is made: after
    # a large replacement that is most of the postings, for every term looked up.
    text = reader._text_to_bytes(field, term)
    return reader._codec.postings_reader(  # type: ignore[attr-defined]
        reader._terms._postfile,  # type: ignore[attr-defined]
        info,
        reader.schema[field].format,
        term=(field, text),
    )


def _decode(
    ids: np.ndarray, data: np.ndarray, begins: np.ndarray, finishes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(docnum, position) pairs from packed posting values (see index_format) at the given
    spans of the data: in bulk when every value holds uint16 positions, else one by one."""
    if not len(ids):
        return _NO_IDS, _NO_IDS
    if not np.all(data[begins + _INT_SIZE] == _UINT16):
        return _decode_each(ids, data, begins, finishes)
    # Each value is a 5-byte header and uint16 positions: gather the position bytes of all
    # values into one buffer and read it as uint16.
    lengths = finishes - begins - (_INT_SIZE + 1)
    shifts = np.repeat(begins + _INT_SIZE + 1 - (np.cumsum(lengths) - lengths), lengths)
    packed = data[np.arange(int(lengths.sum())) + shifts]
    return np.repeat(ids, lengths // 2), packed.view("<u2").astype(np.int64)


def _decode_each(
    ids: np.ndarray, data: np.ndarray, begins: np.ndarray, finishes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of some packed values one by one (a block holding uint32 positions)."""
    units, places = [], []
    raw = data.tobytes()
    for docnum, begin, finish in zip(ids.tolist(), begins.tolist(), finishes.tolist(), strict=True):
        found = unpack_positions(raw[begin:finish]).tolist()
        units += [docnum] * len(found)
        places += found
    return np.array(units, dtype=np.int64), np.array(places, dtype=np.int64)


def _scan_blocks(postfile: StructFile, position: int) -> _Blocks:
    """Walk the block headers of one posting list."""
    maxids: list[int] = []
    offsets: list[int] = []
    counts: list[int] = []
    flags: list[int] = []
    ends: list[int] = []
    while True:
        length, count, maxid, _, flag = _BLOCK.unpack(postfile.get(position, _BLOCK.size))
        maxids.append(maxid)
        offsets.append(position)
        counts.append(count)
        flags.append(flag)
        position += _INT_SIZE + abs(length)
        ends.append(position)
        if length < 0:
            return _Blocks(maxids, offsets, counts, flags, ends)


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


class _BareValues(_Values):
    """The values of a bare block (see _BLOCK) as packed values, header restored."""

    __slots__ = ()

    def __getitem__(self, i: int) -> bytes:
        positions = super().__getitem__(i)
        return pack_uint(len(positions) // 2) + b"H" + positions


def _wanted(docnums: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Which of the ids are among the sorted docnums."""
    if not len(ids):
        return np.zeros(0, dtype=bool)
    at = np.minimum(np.searchsorted(docnums, ids), len(docnums) - 1)
    return docnums[at] == ids


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

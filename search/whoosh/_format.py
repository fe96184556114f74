"""A posting format that stores positions as a packed array instead of a pickle.

Whoosh's Positions format pickles a list of position deltas for every posting; with about 90
postings per unit that pickling was a large part of indexing time. This format keeps the
decoders' meaning (frequency, positions) but writes the positions as one array of 16- or 32-bit
integers, so encoding and decoding run in C.
"""

from __future__ import annotations

import sys
from array import array
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from whoosh.formats import Positions
from whoosh.system import _INT_SIZE, pack_uint, unpack_uint

from search.analysis import WordTokenizer, occurrences

__all__ = ["PackedPositions", "pack_into", "unpack_positions"]

_BIG_ENDIAN = sys.byteorder == "big"
# Headers (count and typecode) of the common short 16-bit postings, made once.
_HEADERS_H = [pack_uint(count) + b"H" for count in range(256)]


def _pack(positions: list[int]) -> bytes:
    """Occurrence count, then the ascending positions as uint16 (uint32 if the last is larger)."""
    packed = bytearray()
    pack_into(packed, positions)
    return bytes(packed)


def pack_into(buffer: bytearray, positions: list[int]) -> None:
    """Append a packed posting value (see _pack) to a buffer."""
    count = len(positions)
    if positions[-1] < 65536:
        buffer += _HEADERS_H[count] if count < len(_HEADERS_H) else pack_uint(count) + b"H"
        packed = array("H", positions)
    else:
        buffer += pack_uint(count) + b"I"
        packed = array("I", positions)
    if _BIG_ENDIAN:
        packed.byteswap()
    buffer += packed


def unpack_positions(value: bytes) -> array[int]:
    """The numbers of a packed posting value."""
    typecode = chr(value[_INT_SIZE])
    numbers = array(typecode)
    numbers.frombytes(value[_INT_SIZE + 1 :])
    if _BIG_ENDIAN:
        numbers.byteswap()
    return numbers


def _analysed(
    value: str, analyzer: Callable[..., Any], kwargs: dict[str, Any]
) -> dict[str, list[int]]:
    """Term -> positions, straight from our own analysis when the analyzer is ours."""
    if isinstance(analyzer, WordTokenizer):
        return occurrences(value, analyzer.detect)
    found: defaultdict[str, list[int]] = defaultdict(list)
    kwargs.update(positions=True)
    for token in analyzer(value, **kwargs):
        found[token.text].append(token.pos)
    return found


class PackedPositions(Positions):
    """Positions (for phrase queries) of each term occurrence, packed."""

    def word_values(
        self, value: str, analyzer: Callable[..., Any], **kwargs: Any
    ) -> list[tuple[str, int, float, bytes]]:
        boost = self.field_boost
        return [
            (text, len(positions), len(positions) * boost, _pack(positions))
            for text, positions in _analysed(value, analyzer, kwargs).items()
        ]

    def encode(self, positions: list[int]) -> bytes:  # type: ignore[override]
        return _pack(list(positions))

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return unpack_positions(valuestring).tolist()

    def decode_frequency(self, valuestring: bytes) -> int:
        return unpack_uint(valuestring[:_INT_SIZE])[0]

    def combine(self, vs: list[bytes]) -> bytes:
        return self.encode(sorted({p for v in vs for p in self.decode_positions(v)}))

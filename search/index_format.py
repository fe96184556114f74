"""Posting formats that store positions and character offsets as packed arrays instead of pickles.

Whoosh's Positions and Characters formats pickle a list of delta tuples for every posting; with
about 150 postings per unit that pickling was a third of indexing time. These formats keep the
same decoders' meaning (frequency, positions, characters) but write the raw numbers as one
array of 16- or 32-bit integers, so encoding and decoding run in C.
"""

from __future__ import annotations

import sys
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from whoosh.formats import Characters, Positions
from whoosh.system import _INT_SIZE, pack_uint, unpack_uint

from search.analysis import WordTokenizer, occurrences

__all__ = ["PackedCharacters", "PackedPositions"]

_BIG_ENDIAN = sys.byteorder == "big"


def _pack(count: int, numbers: list[int]) -> bytes:
    """Occurrence count, then the numbers as little-endian uint16 (or uint32 if any is larger)."""
    typecode = "H" if max(numbers) < 65536 else "I"
    packed = array(typecode, numbers)
    if _BIG_ENDIAN:
        packed.byteswap()
    return pack_uint(count) + typecode.encode("ascii") + packed.tobytes()


def _unpack(value: bytes) -> array[int]:
    """The numbers of a packed posting value."""
    typecode = chr(value[_INT_SIZE])
    numbers = array(typecode)
    numbers.frombytes(value[_INT_SIZE + 1 :])
    if _BIG_ENDIAN:
        numbers.byteswap()
    return numbers


def _analysed(
    value: str, analyzer: Callable[..., Any], chars: bool, kwargs: dict[str, Any]
) -> dict[str, list[int]]:
    """Term -> flat occurrences, straight from our own analysis when the analyzer is ours."""
    if isinstance(analyzer, WordTokenizer):
        return occurrences(value, analyzer.detect, chars)
    found: defaultdict[str, list[int]] = defaultdict(list)
    kwargs.update(positions=True, chars=chars)
    for token in analyzer(value, **kwargs):
        found[token.text] += (token.pos, token.startchar, token.endchar) if chars else (token.pos,)
    return found


class PackedPositions(Positions):
    """Positions (for phrase queries) of each term occurrence, packed."""

    def word_values(
        self, value: str, analyzer: Callable[..., Any], **kwargs: Any
    ) -> Iterator[tuple[str, int, float, bytes]]:
        for text, numbers in _analysed(value, analyzer, False, kwargs).items():
            yield text, len(numbers), float(len(numbers)) * self.field_boost, self.encode(numbers)

    def encode(self, positions: list[int]) -> bytes:  # type: ignore[override]
        return _pack(len(positions), list(positions))

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return _unpack(valuestring).tolist()

    def decode_frequency(self, valuestring: bytes) -> int:
        return unpack_uint(valuestring[:_INT_SIZE])[0]

    def combine(self, vs: list[bytes]) -> bytes:
        return self.encode(sorted({p for v in vs for p in self.decode_positions(v)}))


class PackedCharacters(Characters):
    """Positions and (start, end) character offsets of each term occurrence, packed."""

    def word_values(
        self, value: str, analyzer: Callable[..., Any], **kwargs: Any
    ) -> Iterator[tuple[str, int, float, bytes]]:
        for text, numbers in _analysed(value, analyzer, True, kwargs).items():
            count = len(numbers) // 3
            yield text, count, float(count) * self.field_boost, _pack(count, numbers)

    def encode(self, poslist: list[tuple[int, int, int]]) -> bytes:
        return _pack(len(poslist), [n for triple in poslist for n in triple])

    def decode_characters(self, valuestring: bytes) -> list[tuple[int, int, int]]:
        numbers = _unpack(valuestring)
        return list(zip(numbers[0::3], numbers[1::3], numbers[2::3], strict=True))

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return _unpack(valuestring)[0::3].tolist()

    def decode_frequency(self, valuestring: bytes) -> int:
        return unpack_uint(valuestring[:_INT_SIZE])[0]

    def combine(self, vs: list[bytes]) -> bytes:
        merged = {triple[0]: triple for v in vs for triple in self.decode_characters(v)}
        return self.encode([merged[pos] for pos in sorted(merged)])

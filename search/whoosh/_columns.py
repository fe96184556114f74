"""Reading whole Whoosh columns into arrays in one go.

Whoosh's column readers unpack one value per call (a struct unpack and a slice each); the
segment tables need every value of a column, so the known layouts are read as one block of
bytes. Other layouts fall back to Whoosh's own iteration.
"""

from __future__ import annotations

import struct
import sys
from array import array
from typing import Any

from whoosh import columns
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.reading import IndexReader
from whoosh.util.numeric import byte_to_length

__all__ = ["BYTE_LENGTHS", "length_codes", "numeric_array", "reference_array"]

# Whoosh stores field lengths as one byte; BM25 sees the length that byte decodes to.
BYTE_LENGTHS = [byte_to_length(code) for code in range(256)]


def length_codes(reader: IndexReader, field: str) -> Any:
    """Whoosh's one-byte length code of a field for every unit of a segment (see BYTE_LENGTHS)."""
    column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    count = reader.doc_count_all()
    if column is None:
        return bytes(count)
    return numeric_array(column, count)


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

"""Reading a compound segment file through views of one memory map instead of copies.

Whoosh's compound storage wraps each memory-mapped part of a segment in
``BytesIO(memoryview)``, which copies it, so every searcher held the whole index in memory
(240 MB for 1,000 documents). Reading without mmap avoids the copy but turned each block skip
into seek+read system calls. These classes hand Whoosh file objects over the map itself.
"""

from __future__ import annotations

import mmap
import os
from typing import Any

from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile

__all__ = ["MappedStorage"]


class MappedStorage(CompoundStorage):
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

"""What counts as a damaged index, and cleaning up after Whoosh fails to open one."""

from __future__ import annotations

import gc
import pickle
import struct
import traceback
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from whoosh import index as windex
from whoosh.filedb.filetables import FileFormatError
from whoosh.reading import ReaderClosed

__all__ = ["CORRUPTION", "quietly", "reclaim"]

# Exceptions that reading a damaged or vanished index raises (truncated pickles and structs,
# missing files, garbage where a header should be); any of them means "rebuild".
CORRUPTION: tuple[type[BaseException], ...] = (
    windex.IndexError,
    FileFormatError,
    ReaderClosed,
    OSError,
    EOFError,
    pickle.UnpicklingError,
    struct.error,
    zlib.error,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    OverflowError,
    AssertionError,
    ImportError,
)


@contextmanager
def quietly() -> Iterator[None]:
    """Ignore ResourceWarnings while Whoosh opens a possibly damaged index.

    Whoosh retries a failed open ten times and drops the half-opened segment files of each
    attempt to the garbage collector, which warns about them inside Whoosh's own retry loop.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield


def reclaim(error: BaseException) -> None:
    """Close the files Whoosh leaves open when opening a damaged segment fails half-way.

    They stay reachable from the failed call's traceback (through closures of its frames), so
    the tracebacks of the error chain are dropped (the messages stay) and garbage is collected
    now, instead of Python warning about unclosed files at some later point.
    """
    seen: set[int] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            traceback.clear_frames(current.__traceback__)
            current.__traceback__ = None
            current = current.__cause__ or current.__context__
        gc.collect()

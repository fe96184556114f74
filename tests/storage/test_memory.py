"""`storage/memory.py`: the blob store in a dict notices a flipped byte."""

from __future__ import annotations

import io

from storage import MemoryBlobStore
from tests.storage.helpers import DATA, DATA_KEY


def test_memory_verify_detects_a_flipped_byte() -> None:
    store = MemoryBlobStore()
    store.put_stream(io.BytesIO(DATA))
    corrupted = bytearray(DATA)
    corrupted[1000] ^= 0x01
    store._blobs[DATA_KEY] = bytes(corrupted)
    assert store.verify(DATA_KEY) is False

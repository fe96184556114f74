"""A `BlobStore` kept in a dict, so tests run without touching the disk."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .blobstore import CHUNK_SIZE, BlobInfo, StrPath, validate_key
from .errors import BlobNotFound, StorageError


class MemoryBlobStore:
    """Blobs held as bytes in a dict keyed by SHA-256, behaving like `FileSystemBlobStore`."""

    def __init__(self) -> None:
        """Start empty."""
        self._blobs: dict[str, bytes] = {}
        self._stored_at: dict[str, float] = {}

    def put_file(self, path: StrPath, sha256: str) -> bool:
        """Copy in an already hashed file, checking the hash; False if the blob already existed."""
        key = validate_key(sha256)
        if key in self._blobs:
            return False
        data = Path(path).read_bytes()
        if hashlib.sha256(data).hexdigest() != key:
            raise StorageError(f"content of {str(path)!r} does not hash to {key}")
        self._blobs[key] = data
        self._stored_at[key] = time.time()
        return True

    def put_stream(self, stream: BinaryIO) -> BlobInfo:
        """Store a stream under the SHA-256 of its content, reading it in chunks."""
        data = b"".join(iter(lambda: stream.read(CHUNK_SIZE), b""))
        key = hashlib.sha256(data).hexdigest()
        created = key not in self._blobs
        self._blobs.setdefault(key, data)
        self._stored_at.setdefault(key, time.time())
        return BlobInfo(key=key, size=len(data), created=created)

    def open(self, key: str) -> BinaryIO:
        """Return a fresh reader over a blob, raising `BlobNotFound` when it is missing."""
        return io.BytesIO(self._get(key))

    def exists(self, key: str) -> bool:
        """Tell whether a blob is stored under key."""
        return validate_key(key) in self._blobs

    def size(self, key: str) -> int:
        """Return a blob's size in bytes, raising `BlobNotFound` when it is missing."""
        return len(self._get(key))

    def stored_at(self, key: str) -> float:
        """When the blob was put, as a POSIX timestamp; `BlobNotFound` when it is missing."""
        self._get(key)
        return self._stored_at[key]

    def delete(self, key: str) -> None:
        """Remove a blob, raising `BlobNotFound` when it is missing."""
        self._get(key)
        del self._blobs[key]
        del self._stored_at[key]

    def keys(self) -> Iterator[str]:
        """Yield every stored key in sorted order."""
        yield from sorted(self._blobs)

    def verify(self, key: str) -> bool:
        """Re-hash a blob and tell whether its content still matches its key."""
        return hashlib.sha256(self._get(key)).hexdigest() == key

    def _get(self, key: str) -> bytes:
        """Return a blob's bytes after validating key, raising `BlobNotFound` when it is missing."""
        try:
            return self._blobs[validate_key(key)]
        except KeyError:
            raise BlobNotFound(key) from None

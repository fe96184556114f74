"""Content-addressed blob storage for uploaded documents, independent of the web application.

Writes that exceed `RLIMIT_FSIZE` raise `StorageFull` only if the process ignores SIGXFSZ,
so the application should run `signal.signal(signal.SIGXFSZ, signal.SIG_IGN)` at start-up.
"""

from __future__ import annotations

from .blobstore import (
    CHUNK_SIZE,
    BlobInfo,
    BlobStore,
    StagedFile,
    cleanup_staging,
    make_private_dir,
    stage_stream,
    validate_key,
)
from .errors import BlobNotFound, InvalidKey, StorageError, StorageFull, TooLarge
from .filesystem import FileSystemBlobStore
from .memory import MemoryBlobStore

__all__ = [
    "CHUNK_SIZE",
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "FileSystemBlobStore",
    "InvalidKey",
    "MemoryBlobStore",
    "StagedFile",
    "StorageError",
    "StorageFull",
    "TooLarge",
    "cleanup_staging",
    "make_private_dir",
    "stage_stream",
    "validate_key",
]

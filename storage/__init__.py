"""Content-addressed blob storage for uploaded documents, independent of the web application.

Stores: `FileSystemBlobStore`, `MemoryBlobStore` and, with boto3 installed (the `s3` extra),
`storage.s3.S3BlobStore` (imported from its module, so this package imports without boto3).

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
from .errors import (
    BlobCorrupted,
    BlobNotFound,
    ChecksumRefused,
    InvalidKey,
    StorageError,
    StorageFull,
    TooLarge,
)
from .filesystem import FileSystemBlobStore
from .memory import MemoryBlobStore

__all__ = [
    "CHUNK_SIZE",
    "BlobCorrupted",
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "ChecksumRefused",
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

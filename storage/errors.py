"""Exceptions of the storage package, so callers can tell a full disk from a missing blob."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every storage failure, so one `except` covers the package."""


class BlobNotFound(StorageError):
    """Raised when a key names no stored blob, so callers can answer 404 instead of 500."""


class TooLarge(StorageError):
    """Raised when a stream exceeds the allowed size, so uploads stay within their limit."""


class InvalidKey(StorageError, ValueError):
    """Raised for anything but a lowercase 64-hex SHA-256, so no user text reaches a path."""


class StorageFull(StorageError):
    """Raised when the disk, a quota or the file size limit stops a write, so callers can say so."""


class BlobCorrupted(StorageError):
    """Raised when stored bytes no longer hash to their key, so they are never passed on as good."""


class ChecksumRefused(StorageError):
    """Raised when the object store refused data as not matching the checksum sent with it."""

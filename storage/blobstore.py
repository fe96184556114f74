"""The `BlobStore` interface and the streaming, hashing and cleanup helpers its stores share."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from .errors import InvalidKey, StorageError, StorageFull, TooLarge

StrPath = str | os.PathLike[str]

CHUNK_SIZE = 64 * 1024
STAGING_PREFIX = "staged-"
# Blob and staging directories are the owner's alone, whatever the umask (files are 0600/0400).
PRIVATE_DIR_MODE = 0o700
KEY_PATTERN = re.compile(r"[0-9a-f]{64}")
FULL_ERRNOS = frozenset(
    code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG) if code is not None
)


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """What `put_stream` stored, so the caller can record the key and size in the database."""

    key: str
    size: int
    created: bool


@dataclass(frozen=True, slots=True)
class StagedFile:
    """A complete, fsynced file with its SHA-256 and size, ready to be handed to `put_file`."""

    path: Path
    sha256: str
    size: int


@runtime_checkable
class BlobStore(Protocol):
    """Content-addressed storage of immutable blobs keyed by their lowercase hex SHA-256."""

    def put_file(self, path: StrPath, sha256: str) -> bool:
        """Copy in an already hashed file, checking the hash; False if the blob already existed."""
        ...

    def put_stream(self, stream: BinaryIO) -> BlobInfo:
        """Store a stream under the SHA-256 computed while writing, so it is read only once."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Open a blob for binary reading, raising `BlobNotFound` when it is missing."""
        ...

    def exists(self, key: str) -> bool:
        """Tell whether a blob is stored under key."""
        ...

    def size(self, key: str) -> int:
        """Return a blob's size in bytes, raising `BlobNotFound` when it is missing."""
        ...

    def delete(self, key: str) -> None:
        """Remove an unreferenced blob, raising `BlobNotFound` when it is missing."""
        ...

    def keys(self) -> Iterator[str]:
        """Yield every stored key, so orphans and missing blobs can be found."""
        ...

    def verify(self, key: str) -> bool:
        """Re-hash a blob and tell whether its content still matches its key."""
        ...

    def stored_at(self, key: str) -> float:
        """When the blob was written, as a POSIX timestamp, so young orphans can be told apart."""
        ...


def validate_key(key: object) -> str:
    """Return key when it is a lowercase 64-hex SHA-256 and raise `InvalidKey` otherwise."""
    if not isinstance(key, str) or KEY_PATTERN.fullmatch(key) is None:
        raise InvalidKey(f"not a lowercase hex SHA-256: {key!r}")
    return key


def stage_stream(
    stream: BinaryIO, staging_dir: StrPath, max_bytes: int | None = None
) -> StagedFile:
    """Stream into a new fsynced file in staging_dir while hashing, so uploads are hashed once."""
    directory = Path(staging_dir)
    with translate_os_errors("cannot create the staging directory"):
        make_private_dir(directory)
    return write_temp_file(directory, stream, prefix=STAGING_PREFIX, max_bytes=max_bytes)


def make_private_dir(directory: StrPath, *, tighten: bool = False) -> Path:
    """Create `directory` and any missing parents readable by the owner only.

    An existing folder is left as it is unless `tighten` (a folder that is this store's or
    this installation's own, such as the instance folder): then, when this user owns it, its
    group and other bits are cleared. A shared folder someone points a setting at (/var/tmp,
    the parent of a database file) is never changed.
    """
    path = Path(directory)
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for level in reversed(missing):
        level.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
        level.chmod(PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask
    path = Path(directory)
    if tighten and not missing:
        info = path.stat()
        if info.st_uid == os.geteuid() and info.st_mode & 0o077:
            path.chmod(info.st_mode & 0o700)
    return path


def cleanup_staging(staging_dir: StrPath, older_than_seconds: float) -> int:
    """Remove `stage_stream` files older than the given age, left behind by crashed requests."""
    return remove_stale_files(Path(staging_dir), STAGING_PREFIX, older_than_seconds)


def hash_stream(stream: BinaryIO) -> str:
    """Return the hex SHA-256 of the rest of a stream, read in chunks to bound memory."""
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def translate_os_errors(action: str) -> Iterator[None]:
    """Turn `OSError` into `StorageFull` or `StorageError`, so callers need one exception family."""
    try:
        yield
    except OSError as exc:
        if exc.errno in FULL_ERRNOS:
            raise StorageFull(f"{action}: {exc.strerror}") from exc
        raise StorageError(f"{action}: {exc}") from exc


def write_temp_file(
    directory: Path, stream: BinaryIO, *, prefix: str, max_bytes: int | None = None
) -> StagedFile:
    """Copy a stream into a new fsynced temp file while hashing; on any failure remove it."""
    with translate_os_errors(f"cannot create a temporary file in {directory}"):
        fd, name = tempfile.mkstemp(dir=directory, prefix=prefix)
    path = Path(name)
    try:
        sha256, size = _copy_to_fd(stream, fd, max_bytes)
    except BaseException:
        unlink_quietly(path)
        raise
    return StagedFile(path=path, sha256=sha256, size=size)


def _copy_to_fd(stream: BinaryIO, fd: int, max_bytes: int | None) -> tuple[str, int]:
    """Write a stream to fd, fsync and close it, returning the hex SHA-256 and size written."""
    digest = hashlib.sha256()
    size = 0
    try:
        while chunk := stream.read(CHUNK_SIZE):
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise TooLarge(f"more than {max_bytes} bytes")
            digest.update(chunk)
            _write_all(fd, chunk)
        with translate_os_errors("cannot flush a temporary file to disk"):
            os.fsync(fd)
    finally:
        with translate_os_errors("cannot close a temporary file"):
            os.close(fd)
    return digest.hexdigest(), size


def _write_all(fd: int, data: bytes) -> None:
    """Write all of data to fd, looping over short writes such as those at a file size limit."""
    view = memoryview(data)
    with translate_os_errors("cannot write a temporary file"):
        while view:
            view = view[os.write(fd, view) :]


def fsync_directory(directory: Path) -> None:
    """Flush a directory's entries to disk, so a rename or new entry in it survives a crash."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def unlink_quietly(path: Path) -> bool:
    """Remove a file if it is still there and tell whether this call removed it."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def remove_stale_files(directory: Path, prefix: str, older_than_seconds: float) -> int:
    """Remove regular files named prefix* not modified for the given time and return how many."""
    if older_than_seconds < 0:
        raise ValueError("older_than_seconds must not be negative")
    cutoff = time.time() - older_than_seconds
    try:
        with os.scandir(directory) as entries:
            stale = [Path(entry.path) for entry in entries if _is_stale(entry, prefix, cutoff)]
    except FileNotFoundError:
        return 0
    return sum(unlink_quietly(path) for path in stale)


def _is_stale(entry: os.DirEntry[str], prefix: str, cutoff: float) -> bool:
    """Tell whether a directory entry is one of our regular files last modified before cutoff."""
    if not entry.name.startswith(prefix):
        return False
    try:
        info = entry.stat(follow_symlinks=False)
    except FileNotFoundError:
        return False
    return entry.is_file(follow_symlinks=False) and info.st_mtime < cutoff

"""A `BlobStore` on a local directory tree, written crash-safely with fsync and atomic renames."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .blobstore import (
    KEY_PATTERN,
    BlobInfo,
    StagedFile,
    StrPath,
    fsync_directory,
    hash_stream,
    make_private_dir,
    remove_stale_files,
    translate_os_errors,
    unlink_quietly,
    validate_key,
    write_temp_file,
)
from .errors import BlobNotFound, StorageError

TEMP_PREFIX = "blob-"
# Read-only, and for the owner alone: other local users never read a stored document.
BLOB_MODE = 0o400
_FANOUT_PATTERN = re.compile(r"[0-9a-f]{2}")


class FileSystemBlobStore:
    """Blobs stored read-only as `root/ab/cd/<sha256>`, with temp files in `root/tmp`.

    A write that hits `RLIMIT_FSIZE` raises `StorageFull` only when the process ignores
    SIGXFSZ, so the application should call `signal.signal(signal.SIGXFSZ, signal.SIG_IGN)`
    at start-up; otherwise the kernel kills the process instead.
    """

    def __init__(self, root: StrPath) -> None:
        """Use root as the store, creating it and its temp directory when missing."""
        self._root = Path(root)
        with translate_os_errors(f"cannot create the blob store at {self._root}"):
            make_private_dir(self._root, tighten=True)
            make_private_dir(self.tmp_dir, tighten=True)

    @property
    def root(self) -> Path:
        """The directory holding the blob tree."""
        return self._root

    @property
    def tmp_dir(self) -> Path:
        """The directory for half-written blobs, on the same filesystem so renames are atomic."""
        return self._root / "tmp"

    def path_for(self, key: str) -> Path:
        """Return the blob's path, validating key first so no other text ever becomes a path."""
        key = validate_key(key)
        return self._root / key[:2] / key[2:4] / key

    def put_file(self, path: StrPath, sha256: str) -> bool:
        """Copy in an already hashed file, checking the hash; False if the blob already existed."""
        target = self.path_for(sha256)
        if target.is_file():
            return False
        with open(path, "rb") as source:
            staged = write_temp_file(self.tmp_dir, source, prefix=TEMP_PREFIX)
        if staged.sha256 != sha256:
            unlink_quietly(staged.path)
            raise StorageError(f"content of {os.fspath(path)!r} does not hash to {sha256}")
        self._install(staged, target)
        return True

    def put_stream(self, stream: BinaryIO) -> BlobInfo:
        """Store a stream under the SHA-256 computed while writing, so it is read only once."""
        staged = write_temp_file(self.tmp_dir, stream, prefix=TEMP_PREFIX)
        target = self.path_for(staged.sha256)
        created = not target.is_file()
        if created:
            self._install(staged, target)
        else:
            unlink_quietly(staged.path)
        return BlobInfo(key=staged.sha256, size=staged.size, created=created)

    def open(self, key: str) -> BinaryIO:
        """Open a blob for binary reading, raising `BlobNotFound` when it is missing."""
        try:
            return open(self.path_for(key), "rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        """Tell whether a blob is stored under key."""
        return self.path_for(key).is_file()

    def size(self, key: str) -> int:
        """Return a blob's size in bytes, raising `BlobNotFound` when it is missing."""
        try:
            return self.path_for(key).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def stored_at(self, key: str) -> float:
        """When the blob was written, as a POSIX timestamp; `BlobNotFound` when it is missing."""
        try:
            return self.path_for(key).stat().st_mtime
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def delete(self, key: str) -> None:
        """Remove an unreferenced blob, raising `BlobNotFound` when it is missing."""
        target = self.path_for(key)
        if not unlink_quietly(target):
            raise BlobNotFound(key)
        with translate_os_errors(f"cannot sync {target.parent}"):
            fsync_directory(target.parent)

    def keys(self) -> Iterator[str]:
        """Yield every stored key in sorted order, ignoring anything not laid out like a blob."""
        for first in _sorted_entries(self._root):
            if _is_fanout_dir(first):
                yield from self._keys_under(Path(first.path))

    def verify(self, key: str) -> bool:
        """Re-hash a blob in chunks and tell whether its content still matches its key."""
        with self.open(key) as blob:
            return hash_stream(blob) == key

    def cleanup_tmp(self, older_than_seconds: float) -> int:
        """Remove temp files older than the given age, left by a crash, and return how many."""
        return remove_stale_files(self.tmp_dir, TEMP_PREFIX, older_than_seconds)

    def _keys_under(self, first: Path) -> Iterator[str]:
        """Yield the keys stored below one first-level fan-out directory."""
        for second in _sorted_entries(first):
            if not _is_fanout_dir(second):
                continue
            prefix = first.name + second.name
            for entry in _sorted_entries(Path(second.path)):
                if _is_blob_file(entry, prefix):
                    yield entry.name

    def _install(self, staged: StagedFile, target: Path) -> None:
        """Make a staged temp file read-only and rename it into place, removing it on failure."""
        try:
            with translate_os_errors(f"cannot store blob {target.name}"):
                os.chmod(staged.path, BLOB_MODE)
                make_private_dir(target.parent)
                os.replace(staged.path, target)
        except BaseException:
            unlink_quietly(staged.path)
            raise
        self._sync_tree(target.parent)

    def _sync_tree(self, directory: Path) -> None:
        """Fsync a blob directory and its parents up to root, so the new entries survive a crash."""
        with translate_os_errors(f"cannot sync {directory}"):
            for path in (directory, directory.parent, self._root):
                fsync_directory(path)


def _sorted_entries(directory: Path) -> list[os.DirEntry[str]]:
    """List a directory's entries by name, or none when it has disappeared."""
    try:
        with os.scandir(directory) as entries:
            return sorted(entries, key=lambda entry: entry.name)
    except FileNotFoundError:
        return []


def _is_fanout_dir(entry: os.DirEntry[str]) -> bool:
    """Tell whether an entry is a two-hex-digit directory of the blob tree."""
    return _FANOUT_PATTERN.fullmatch(entry.name) is not None and entry.is_dir(follow_symlinks=False)


def _is_blob_file(entry: os.DirEntry[str], prefix: str) -> bool:
    """Tell whether an entry is a blob file stored in the directory its name belongs in."""
    return (
        KEY_PATTERN.fullmatch(entry.name) is not None
        and entry.name.startswith(prefix)
        and entry.is_file(follow_symlinks=False)
    )

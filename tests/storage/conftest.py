"""Fixtures of the storage tests: each store in turn, a filesystem store, a source file."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import BlobStore, FileSystemBlobStore, MemoryBlobStore
from tests.storage.helpers import DATA


@pytest.fixture(params=["filesystem", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """Each store implementation in turn, so shared behaviour is tested on all of them; the S3
    store on the session's SeaweedFS server, under a prefix of the test's own."""
    if request.param == "filesystem":
        return FileSystemBlobStore(tmp_path / "blobs")
    if request.param == "s3":
        from storage.s3 import S3BlobStore

        return S3BlobStore(**request.getfixturevalue("s3_settings"), staging_dir=tmp_path)
    return MemoryBlobStore()


@pytest.fixture
def fs_store(tmp_path: Path) -> FileSystemBlobStore:
    """A filesystem store below tmp_path, for on-disk checks."""
    return FileSystemBlobStore(tmp_path / "blobs")


@pytest.fixture
def source_file(tmp_path: Path) -> Path:
    """A file holding DATA, standing in for a staged upload."""
    path = tmp_path / "source.bin"
    path.write_bytes(DATA)
    return path

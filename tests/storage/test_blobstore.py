"""`storage/blobstore.py`: what every BlobStore promises, on both stores (round trips,
idempotence, hash mismatches, invalid keys, missing blobs, deletion, keys), and the staging and
cleanup helpers the stores share."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from storage import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    InvalidKey,
    StagedFile,
    StorageError,
    TooLarge,
    cleanup_staging,
    stage_stream,
)
from tests.storage.helpers import DATA, DATA_KEY, sha

BAD_KEYS = [
    "../../etc/passwd",
    DATA_KEY.upper(),
    DATA_KEY[:63],
    DATA_KEY[:63] + "\x00",
    DATA_KEY + "\n",
    DATA_KEY[:2] + "/" + DATA_KEY[3:],
    "",
]


def test_stores_satisfy_the_protocol(store: BlobStore) -> None:
    assert isinstance(store, BlobStore)


def test_put_stream_round_trip(store: BlobStore) -> None:
    info = store.put_stream(io.BytesIO(DATA))
    assert info == BlobInfo(key=DATA_KEY, size=len(DATA), created=True)
    assert store.exists(DATA_KEY)
    assert store.size(DATA_KEY) == len(DATA)
    with store.open(DATA_KEY) as blob:
        assert blob.read() == DATA
    assert store.verify(DATA_KEY)


def test_put_stream_of_empty_content(store: BlobStore) -> None:
    info = store.put_stream(io.BytesIO(b""))
    assert info == BlobInfo(key=sha(b""), size=0, created=True)
    with store.open(info.key) as blob:
        assert blob.read() == b""


def test_put_stream_is_idempotent(store: BlobStore) -> None:
    store.put_stream(io.BytesIO(DATA))
    again = store.put_stream(io.BytesIO(DATA))
    assert again == BlobInfo(key=DATA_KEY, size=len(DATA), created=False)
    assert list(store.keys()) == [DATA_KEY]


def test_put_file_round_trip_and_idempotent(store: BlobStore, source_file: Path) -> None:
    assert store.put_file(source_file, DATA_KEY) is True
    assert store.put_file(str(source_file), DATA_KEY) is False
    with store.open(DATA_KEY) as blob:
        assert blob.read() == DATA
    assert list(store.keys()) == [DATA_KEY]


def test_put_file_after_put_stream_does_nothing(store: BlobStore, source_file: Path) -> None:
    store.put_stream(io.BytesIO(DATA))
    assert store.put_file(source_file, DATA_KEY) is False


def test_put_file_hash_mismatch_raises_and_stores_nothing(
    store: BlobStore, source_file: Path
) -> None:
    wrong = sha(b"something else")
    with pytest.raises(StorageError):
        store.put_file(source_file, wrong)
    assert not store.exists(wrong)
    assert not store.exists(DATA_KEY)
    assert list(store.keys()) == []


@pytest.mark.parametrize("key", BAD_KEYS)
@pytest.mark.parametrize("operation", ["open", "exists", "size", "delete", "verify"])
def test_invalid_keys_are_rejected(store: BlobStore, operation: str, key: str) -> None:
    with pytest.raises(InvalidKey):
        getattr(store, operation)(key)


@pytest.mark.parametrize("key", BAD_KEYS)
def test_put_file_rejects_invalid_keys(store: BlobStore, source_file: Path, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put_file(source_file, key)


def test_invalid_key_is_a_value_error_and_a_storage_error() -> None:
    assert issubclass(InvalidKey, ValueError)
    assert issubclass(InvalidKey, StorageError)


@pytest.mark.parametrize("operation", ["open", "size", "delete", "verify"])
def test_missing_blob_raises_blob_not_found(store: BlobStore, operation: str) -> None:
    with pytest.raises(BlobNotFound):
        getattr(store, operation)(DATA_KEY)


def test_missing_blob_does_not_exist(store: BlobStore) -> None:
    assert store.exists(DATA_KEY) is False


def test_delete_removes_the_blob_and_allows_storing_it_again(store: BlobStore) -> None:
    store.put_stream(io.BytesIO(DATA))
    store.delete(DATA_KEY)
    assert not store.exists(DATA_KEY)
    assert list(store.keys()) == []
    assert store.put_stream(io.BytesIO(DATA)).created is True


def test_keys_lists_stored_keys(store: BlobStore) -> None:
    contents = [b"one", b"two", b"three", b""]
    for content in contents:
        store.put_stream(io.BytesIO(content))
    assert sorted(store.keys()) == sorted(sha(content) for content in contents)


def test_stage_stream_hashes_and_sizes(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    staged = stage_stream(io.BytesIO(DATA), staging, max_bytes=None)
    assert isinstance(staged, StagedFile)
    assert staged.sha256 == DATA_KEY
    assert staged.size == len(DATA)
    assert staged.path.parent == staging
    assert staged.path.read_bytes() == DATA


def test_stage_stream_accepts_exactly_max_bytes(tmp_path: Path) -> None:
    staged = stage_stream(io.BytesIO(DATA), tmp_path, max_bytes=len(DATA))
    assert staged.size == len(DATA)


def test_stage_stream_too_large_removes_partial_file(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    with pytest.raises(TooLarge):
        stage_stream(io.BytesIO(DATA), staging, max_bytes=len(DATA) - 1)
    assert list(staging.iterdir()) == []


def test_staged_file_feeds_put_file(store: BlobStore, tmp_path: Path) -> None:
    staged = stage_stream(io.BytesIO(DATA), tmp_path / "staging", max_bytes=None)
    assert store.put_file(staged.path, staged.sha256) is True
    assert store.verify(DATA_KEY)


def test_cleanup_staging_removes_old_files_only(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    old = stage_stream(io.BytesIO(b"old"), staging, max_bytes=None)
    new = stage_stream(io.BytesIO(b"new"), staging, max_bytes=None)
    foreign = staging / "keep-me"
    foreign.write_bytes(b"not ours")
    an_hour_ago = time.time() - 3600
    os.utime(old.path, (an_hour_ago, an_hour_ago))
    os.utime(foreign, (an_hour_ago, an_hour_ago))
    assert cleanup_staging(staging, older_than_seconds=600) == 1
    assert sorted(staging.iterdir()) == sorted([new.path, foreign])


def test_cleanup_staging_of_missing_directory(tmp_path: Path) -> None:
    assert cleanup_staging(tmp_path / "absent", older_than_seconds=0) == 0

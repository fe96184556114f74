"""Tests of the storage package: both blob stores, staging, cleanup and full-disk handling."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    FileSystemBlobStore,
    InvalidKey,
    MemoryBlobStore,
    StagedFile,
    StorageError,
    StorageFull,
    TooLarge,
    cleanup_staging,
    stage_stream,
)
from storage.filesystem import TEMP_PREFIX

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = bytes(range(256)) * 700
DATA_KEY = hashlib.sha256(DATA).hexdigest()
BAD_KEYS = [
    "../../etc/passwd",
    DATA_KEY.upper(),
    DATA_KEY[:63],
    DATA_KEY[:63] + "\x00",
    DATA_KEY + "\n",
    DATA_KEY[:2] + "/" + DATA_KEY[3:],
    "",
]


def sha(data: bytes) -> str:
    """Return the hex SHA-256 the stores use as key."""
    return hashlib.sha256(data).hexdigest()


def files_under(directory: Path) -> list[Path]:
    """List every regular file below directory, to prove nothing was left behind."""
    return sorted(path for path in directory.rglob("*") if path.is_file())


@pytest.fixture(params=["filesystem", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """Each store implementation in turn, so shared behaviour is tested on both."""
    if request.param == "filesystem":
        return FileSystemBlobStore(tmp_path / "blobs")
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


def test_put_file_hash_mismatch_leaves_no_file(
    fs_store: FileSystemBlobStore, source_file: Path
) -> None:
    with pytest.raises(StorageError):
        fs_store.put_file(source_file, sha(b"something else"))
    assert files_under(fs_store.root) == []


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


def test_filesystem_layout(fs_store: FileSystemBlobStore) -> None:
    fs_store.put_stream(io.BytesIO(DATA))
    expected = fs_store.root / DATA_KEY[:2] / DATA_KEY[2:4] / DATA_KEY
    assert fs_store.path_for(DATA_KEY) == expected
    assert expected.read_bytes() == DATA
    assert files_under(fs_store.root) == [expected]
    assert fs_store.tmp_dir == fs_store.root / "tmp"


def test_filesystem_blobs_are_read_only(fs_store: FileSystemBlobStore, source_file: Path) -> None:
    fs_store.put_file(source_file, DATA_KEY)
    key = fs_store.put_stream(io.BytesIO(b"other")).key
    for blob_key in (DATA_KEY, key):
        assert stat.S_IMODE(fs_store.path_for(blob_key).stat().st_mode) == 0o400


def test_filesystem_keys_ignore_foreign_files(fs_store: FileSystemBlobStore) -> None:
    fs_store.put_stream(io.BytesIO(DATA))
    (fs_store.tmp_dir / f"{TEMP_PREFIX}leftover").write_bytes(b"x")
    (fs_store.root / "README").write_text("not a blob")
    misplaced = fs_store.root / "00" / "00"
    misplaced.mkdir(parents=True)
    (misplaced / DATA_KEY).write_bytes(DATA)
    assert list(fs_store.keys()) == [DATA_KEY]


def test_filesystem_verify_detects_a_flipped_byte(fs_store: FileSystemBlobStore) -> None:
    fs_store.put_stream(io.BytesIO(DATA))
    path = fs_store.path_for(DATA_KEY)
    path.chmod(0o644)
    with path.open("r+b") as blob:
        blob.seek(1000)
        byte = blob.read(1)[0]
        blob.seek(1000)
        blob.write(bytes([byte ^ 0x01]))
    assert fs_store.verify(DATA_KEY) is False


def test_memory_verify_detects_a_flipped_byte() -> None:
    store = MemoryBlobStore()
    store.put_stream(io.BytesIO(DATA))
    corrupted = bytearray(DATA)
    corrupted[1000] ^= 0x01
    store._blobs[DATA_KEY] = bytes(corrupted)
    assert store.verify(DATA_KEY) is False


def test_filesystem_store_reopens_existing_root(tmp_path: Path) -> None:
    FileSystemBlobStore(tmp_path / "blobs").put_stream(io.BytesIO(DATA))
    reopened = FileSystemBlobStore(tmp_path / "blobs")
    assert list(reopened.keys()) == [DATA_KEY]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
def test_write_failure_raises_storage_full_and_removes_temp_file(
    fs_store: FileSystemBlobStore, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def failing_fsync(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(StorageFull):
        fs_store.put_stream(io.BytesIO(DATA))
    monkeypatch.undo()
    assert files_under(fs_store.root) == []


def test_other_write_failure_raises_storage_error(
    fs_store: FileSystemBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(StorageError) as raised:
        fs_store.put_stream(io.BytesIO(DATA))
    monkeypatch.undo()
    assert not isinstance(raised.value, StorageFull)
    assert files_under(fs_store.root) == []


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


def test_cleanup_tmp_removes_old_temp_files_only(fs_store: FileSystemBlobStore) -> None:
    old = fs_store.tmp_dir / f"{TEMP_PREFIX}old"
    new = fs_store.tmp_dir / f"{TEMP_PREFIX}new"
    for path in (old, new):
        path.write_bytes(b"partial")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert fs_store.cleanup_tmp(older_than_seconds=600) == 1
    assert list(fs_store.tmp_dir.iterdir()) == [new]


FULL_DISK_SCRIPT = """
import io, json, resource, signal, sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
from storage import FileSystemBlobStore, StorageFull, stage_stream

root, staging, source, key = sys.argv[2:6]
payload = Path(source).read_bytes()
store = FileSystemBlobStore(root)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (len(payload) // 4, hard))
attempts = {
    "put_stream": lambda: store.put_stream(io.BytesIO(payload)),
    "put_file": lambda: store.put_file(source, key),
    "stage_stream": lambda: stage_stream(io.BytesIO(payload), staging, None),
}
results = {}
for name, attempt in attempts.items():
    try:
        attempt()
        results[name] = "stored"
    except StorageFull:
        results[name] = "full"
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
results["after"] = store.put_stream(io.BytesIO(payload)).created
print(json.dumps(results))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX only")
def test_file_size_limit_raises_storage_full_and_leaves_nothing(tmp_path: Path) -> None:
    payload = os.urandom(1024 * 1024)
    source = tmp_path / "source.bin"
    source.write_bytes(payload)
    root, staging = tmp_path / "blobs", tmp_path / "staging"
    staging.mkdir()
    args = [str(REPO_ROOT), str(root), str(staging), str(source), sha(payload)]
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK_SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "put_stream": "full",
        "put_file": "full",
        "stage_stream": "full",
        "after": True,
    }
    blob = root / sha(payload)[:2] / sha(payload)[2:4] / sha(payload)
    assert files_under(root) == [blob]
    assert blob.read_bytes() == payload
    assert list(staging.iterdir()) == []

"""`storage/filesystem.py`: the blob store on a directory tree: its layout, read-only blobs,
foreign files, reopening, temp files, and writes that fail or hit a full disk leaving nothing
behind."""

from __future__ import annotations

import errno
import io
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage import FileSystemBlobStore, StorageError, StorageFull
from storage.filesystem import TEMP_PREFIX
from tests.storage.helpers import DATA, DATA_KEY, files_under, sha

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_put_file_hash_mismatch_leaves_no_file(
    fs_store: FileSystemBlobStore, source_file: Path
) -> None:
    with pytest.raises(StorageError):
        fs_store.put_file(source_file, sha(b"something else"))
    assert files_under(fs_store.root) == []


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

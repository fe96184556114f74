"""`storage/s3.py` against a real SeaweedFS server: the object layout, checksums sent and refused,
uploads in parts, no partial object under its key, a server killed in the middle of an upload,
tampered objects, unreachable servers and wrong credentials. (What every store promises is in
test_blobstore.py, which runs on S3 too.)"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from storage import BlobCorrupted, BlobNotFound, ChecksumRefused, StorageError
from tests.storage.helpers import DATA, DATA_KEY, sha
from tests.storage.seaweed import SeaweedServer, find_weed

if os.environ.get("CI") != "true":  # under CI a missing boto3 fails the collection
    pytest.importorskip("boto3", reason="boto3 is not installed (the s3 extra)")
import contextlib

from storage.s3 import MIN_PART_SIZE, S3BlobStore, normalise_prefix  # noqa: E402

PART = MIN_PART_SIZE
BIG = os.urandom(2 * PART + 123_456)  # three parts
BIG_KEY = sha(BIG)


def _b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


@pytest.fixture
def s3(s3_settings: dict[str, Any], tmp_path: Path) -> S3BlobStore:
    """A store that uploads anything above one part (5 MiB) in parts."""
    return S3BlobStore(
        **s3_settings, staging_dir=tmp_path, multipart_threshold=PART, part_size=PART
    )


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(BIG)
    return path


def _uploads(store: S3BlobStore) -> list[dict[str, Any]]:
    """Unfinished multipart uploads under the store's prefix."""
    answer = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix)
    return answer.get("Uploads", [])


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_objects_are_laid_out_like_the_file_system_store(s3: S3BlobStore) -> None:
    s3.put_stream(io.BytesIO(DATA))
    name = f"{s3.prefix}{DATA_KEY[:2]}/{DATA_KEY[2:4]}/{DATA_KEY}"
    assert s3.object_name(DATA_KEY) == name
    head = s3.client.head_object(Bucket=s3.bucket, Key=name, ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(DATA)
    # The SHA-256 went with the PUT, and the server kept the one it checked.
    assert head["ChecksumSHA256"] == _b64(DATA)


def test_a_body_that_does_not_match_its_checksum_is_refused_and_nothing_is_stored(
    s3: S3BlobStore,
) -> None:
    with pytest.raises(ChecksumRefused, match="refused .* checksum"):
        s3._put_object(DATA_KEY, DATA, checksum=_b64(DATA + b"x"))
    assert not s3.exists(DATA_KEY)
    assert list(s3.keys()) == []
    # The same body with its own checksum is accepted.
    assert s3._put_object(DATA_KEY, DATA, checksum=_b64(DATA)) is True
    assert s3.verify(DATA_KEY)


def test_existing_object_is_not_uploaded_again(s3: S3BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(DATA)
    assert s3.put_file(source, DATA_KEY) is True
    first = s3.stored_at(DATA_KEY)
    time.sleep(1.1)  # LastModified has whole seconds
    assert s3.put_file(source, DATA_KEY) is False
    assert s3.stored_at(DATA_KEY) == first


def test_large_file_goes_up_in_parts_with_their_checksums(s3: S3BlobStore, big_file: Path) -> None:
    assert s3.put_file(big_file, BIG_KEY) is True
    head = s3.client.head_object(
        Bucket=s3.bucket, Key=s3.object_name(BIG_KEY), ChecksumMode="ENABLED"
    )
    assert head["ContentLength"] == len(BIG)
    assert head["ChecksumSHA256"].endswith("-3")  # the checksum of three parts' checksums
    with s3.open(BIG_KEY) as blob:
        assert blob.read() == BIG
    assert s3.verify(BIG_KEY)
    assert _uploads(s3) == []


def test_put_stream_of_a_large_stream(s3: S3BlobStore, tmp_path: Path) -> None:
    info = s3.put_stream(io.BytesIO(BIG))
    assert (info.key, info.size, info.created) == (BIG_KEY, len(BIG), True)
    assert s3.size(BIG_KEY) == len(BIG)
    assert list(tmp_path.glob("s3-put-*")) == []  # its staged copy is gone


def test_large_file_with_the_wrong_hash_is_aborted(s3: S3BlobStore, big_file: Path) -> None:
    wrong = sha(b"not the content")
    with pytest.raises(StorageError, match="does not hash to"):
        s3.put_file(big_file, wrong)
    assert not s3.exists(wrong)
    assert not s3.exists(BIG_KEY)
    assert _uploads(s3) == []  # the parts sent were thrown away


class FeedingUpload:
    """`put_file` of a named pipe in a thread: the test decides when each byte arrives, so it
    can look at the server, or kill it, in the middle of an upload in parts."""

    def __init__(self, store: S3BlobStore, folder: Path, key: str) -> None:
        self.pipe = folder / "upload.fifo"
        os.mkfifo(self.pipe)
        self.result: bool | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(store, key), daemon=True)
        self.thread.start()
        self.writer = self.pipe.open("wb")

    def _run(self, store: S3BlobStore, key: str) -> None:
        try:
            self.result = store.put_file(self.pipe, key)
        except BaseException as exc:  # handed to the test
            self.error = exc

    def feed(self, data: bytes) -> None:
        self.writer.write(data)
        self.writer.flush()

    def finish(self, data: bytes, timeout: float = 60.0) -> None:
        try:
            self.feed(data)
        except BrokenPipeError:  # the upload stopped reading
            pass
        finally:
            with contextlib.suppress(BrokenPipeError):
                self.writer.close()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the upload did not end"


def _parts_received(store: S3BlobStore, key: str) -> int:
    uploads = [u for u in _uploads(store) if u["Key"] == store.object_name(key)]
    if not uploads:
        return 0
    answer = store.client.list_parts(
        Bucket=store.bucket, Key=uploads[0]["Key"], UploadId=uploads[0]["UploadId"]
    )
    return len(answer.get("Parts", []))


def test_no_partial_object_is_ever_visible_under_its_key(s3: S3BlobStore, tmp_path: Path) -> None:
    upload = FeedingUpload(s3, tmp_path, BIG_KEY)
    upload.feed(BIG[: PART + 1024])
    _wait_for(lambda: _parts_received(s3, BIG_KEY) == 1, "the first part")
    # One part is on the server, in an upload: nothing is under the key.
    assert not s3.exists(BIG_KEY)
    assert BIG_KEY not in list(s3.keys())
    with pytest.raises(BlobNotFound):
        s3.open(BIG_KEY)
    upload.finish(BIG[PART + 1024 :])
    assert upload.error is None and upload.result is True
    assert s3.verify(BIG_KEY)


@pytest.fixture
def doomed_server(tmp_path: Path) -> Iterator[SeaweedServer]:
    """A short-lived server of this test's own, to be killed."""
    weed = find_weed()
    assert weed is not None  # the session's server, required for s3_settings, found it
    server = SeaweedServer(weed, tmp_path / "doomed")
    server.start()
    yield server
    server.stop()


def test_server_killed_in_the_middle_of_an_upload(
    seaweed: SeaweedServer, doomed_server: SeaweedServer, tmp_path: Path, big_file: Path
) -> None:
    store = S3BlobStore(
        **doomed_server.settings(),
        multipart_threshold=PART,
        part_size=PART,
        connect_timeout=1.0,
        read_timeout=5.0,
        max_attempts=2,
    )
    upload = FeedingUpload(store, tmp_path, BIG_KEY)
    upload.feed(BIG[: PART + 1024])
    _wait_for(lambda: _parts_received(store, BIG_KEY) == 1, "the first part")
    doomed_server.kill()
    started = time.monotonic()
    upload.finish(BIG[PART + 1024 :])
    # Refused cleanly: one of the store's errors, saying what failed, within the retries.
    assert isinstance(upload.error, StorageError), repr(upload.error)
    assert f"blob {BIG_KEY}" in str(upload.error)
    assert "object store" in str(upload.error)
    assert time.monotonic() - started < 30

    doomed_server.start()  # the same data folder and ports
    assert not store.exists(BIG_KEY)
    assert BIG_KEY not in list(store.keys())
    # The parts already sent sit in an unfinished upload (invisible); cleanup aborts it.
    assert len(_uploads(store)) == 1
    assert store.cleanup_tmp(older_than_seconds=0) == 1
    assert _uploads(store) == []
    # The retry stores the whole file.
    assert store.put_file(big_file, BIG_KEY) is True
    assert store.verify(BIG_KEY)


def test_an_object_changed_in_the_store_is_never_passed_on_as_good(s3: S3BlobStore) -> None:
    s3.put_stream(io.BytesIO(DATA))
    flipped = bytearray(DATA)
    flipped[1000] ^= 0x01
    s3.client.put_object(Bucket=s3.bucket, Key=s3.object_name(DATA_KEY), Body=bytes(flipped))
    assert s3.verify(DATA_KEY) is False
    with s3.open(DATA_KEY) as blob, pytest.raises(BlobCorrupted, match=DATA_KEY):
        blob.read()
    # Truncated to a prefix of itself: found by the length as well as the hash.
    s3.client.put_object(Bucket=s3.bucket, Key=s3.object_name(DATA_KEY), Body=DATA[:-1])
    with s3.open(DATA_KEY) as blob, pytest.raises(BlobCorrupted):
        while blob.read(4096):
            pass


def test_keys_skip_objects_not_laid_out_like_blobs(s3: S3BlobStore) -> None:
    s3.put_stream(io.BytesIO(DATA))
    other = sha(b"other")
    for name in (
        f"{s3.prefix}readme.txt",
        f"{s3.prefix}{other[:2]}/{other[2:4]}/{other}.tmp",
        f"{s3.prefix}00/00/{other}",  # in the wrong folder
        f"elsewhere/{DATA_KEY[:2]}/{DATA_KEY[2:4]}/{other}",  # outside the prefix
    ):
        s3.client.put_object(Bucket=s3.bucket, Key=name, Body=b"x")
    assert list(s3.keys()) == [DATA_KEY]


def test_unreachable_server_is_a_storage_error() -> None:
    closed = S3BlobStore(
        "dossier-test",
        endpoint_url="http://127.0.0.1:9",
        access_key="a",
        secret_key="b",
        connect_timeout=0.5,
        max_attempts=1,
    )
    with pytest.raises(StorageError, match="object store at http://127.0.0.1:9 failed"):
        closed.exists(DATA_KEY)
    with pytest.raises(StorageError):
        closed.check()


def test_wrong_credentials_and_missing_bucket_are_named(s3_settings: dict[str, Any]) -> None:
    wrong = S3BlobStore(**(s3_settings | {"secret_key": "wrong"}), max_attempts=1)
    with pytest.raises(StorageError, match="credentials"):
        wrong.put_stream(io.BytesIO(DATA))
    absent = S3BlobStore(**(s3_settings | {"bucket": "no-such-bucket"}), max_attempts=1)
    with pytest.raises(StorageError, match="no-such-bucket"):
        absent.check()


@pytest.mark.parametrize(
    ("given", "expected"),
    [("", ""), ("dossier", "dossier/"), ("/a/b/", "a/b/"), ("prod.v1/blobs", "prod.v1/blobs/")],
)
def test_prefixes(given: str, expected: str) -> None:
    assert normalise_prefix(given) == expected


@pytest.mark.parametrize("bad", ["../x", "a/../b", "a b", "a//b", "é"])
def test_bad_prefixes_are_refused(bad: str) -> None:
    with pytest.raises(StorageError, match="prefix"):
        normalise_prefix(bad)


def test_the_storage_package_imports_without_boto3() -> None:
    code = (
        "import sys; sys.modules['boto3'] = None\n"
        "import storage\n"
        "try:\n    import storage.s3\nexcept ImportError:\n    print('no s3')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "no s3"

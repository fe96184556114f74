"""A `BlobStore` on an S3-compatible object store (AWS S3, SeaweedFS, MinIO, Ceph) via boto3.

It keeps the promises of `FileSystemBlobStore`:

- Content-addressed keys: a blob is the object `<prefix>ab/cd/<sha256>`, the file-system
  store's layout below an optional prefix.
- Integrity on write: every request body goes with its SHA-256 (`x-amz-checksum-sha256`) and
  the server refuses a body that does not hash to it (`BadDigest`), storing nothing. The file
  itself is hashed while it is read for the upload and must hash to its key, or the upload is
  not completed.
- Large files go up in parts (create, upload each part with its own SHA-256, complete), and
  any failure aborts the upload.
- Nothing partial under a key: S3 makes an object visible only when its PUT, or the completion
  of its multipart upload, has succeeded, all at once. Parts of an interrupted multipart upload
  are not objects: no GET, HEAD or listing of keys sees them. `cleanup_tmp` aborts such uploads
  once they are old (as a bucket lifecycle rule `AbortIncompleteMultipartUpload` also can).
- Integrity on read: `open` re-hashes while the caller reads and raises `BlobCorrupted` at the
  end when the bytes do not hash to the key (or have the wrong length); `verify` re-hashes the
  whole object.

Every failure surfaces as a `storage.errors` exception with a message; no botocore exception
leaves this module. Timeouts and retries are set on the client (botocore's "standard" retry
mode: connection errors, throttling and 5xx answers are retried with back-off).

boto3 is an optional dependency (`pip install 'contractdossier[s3]'`): the `storage` package
imports without it, this module does not.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .blobstore import (
    CHUNK_SIZE,
    KEY_PATTERN,
    BlobInfo,
    StrPath,
    translate_os_errors,
    unlink_quietly,
    validate_key,
    write_temp_file,
)
from .errors import BlobCorrupted, BlobNotFound, ChecksumRefused, StorageError, StorageFull

MiB = 1024 * 1024
# S3 refuses parts smaller than 5 MiB (except the last) and more than 10,000 parts.
MIN_PART_SIZE = 5 * MiB
MAX_PARTS = 10_000
DEFAULT_MULTIPART_THRESHOLD = 16 * MiB
DEFAULT_PART_SIZE = 8 * MiB
TEMP_PREFIX = "s3-put-"
# Answers meaning "the body did not match the checksum sent with it".
_CHECKSUM_CODES = frozenset(
    {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "InvalidChecksum"}
)
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
_FULL_CODES = frozenset({"QuotaExceeded", "InsufficientStorage", "EntityTooLarge"})
_PREFIX_PATTERN = re.compile(r"(?:[A-Za-z0-9._-]+/)*")
# One boto3 session for every store: it caches the service description, so a second client
# costs milliseconds instead of a fraction of a second. A session is not thread-safe; its
# clients are.
_SESSION_LOCK = threading.Lock()
_SESSION: boto3.session.Session | None = None


def _session() -> boto3.session.Session:
    global _SESSION
    if _SESSION is None:
        _SESSION = boto3.session.Session()
    return _SESSION


class S3BlobStore:
    """Blobs as objects `<prefix>ab/cd/<sha256>` in one bucket of an S3-compatible store."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        prefix: str = "",
        staging_dir: StrPath | None = None,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        part_size: int = DEFAULT_PART_SIZE,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_attempts: int = 3,
    ) -> None:
        """Connect lazily: nothing is sent until the first call (see `check`).

        Without `access_key` and `secret_key`, boto3's own chain applies (AWS_* variables,
        ~/.aws, an instance role). `staging_dir` holds `put_stream`'s temporary files.
        """
        if not bucket:
            raise StorageError("no bucket is configured for the S3 blob store")
        if part_size < MIN_PART_SIZE:
            raise StorageError(f"the S3 part size must be at least {MIN_PART_SIZE} bytes")
        if multipart_threshold < part_size:
            raise StorageError("the S3 multipart threshold must be at least the part size")
        self.bucket = bucket
        self.prefix = normalise_prefix(prefix)
        self.endpoint_url = endpoint_url or None
        self._staging_dir = Path(staging_dir) if staging_dir else Path(tempfile.gettempdir())
        self._threshold = multipart_threshold
        self._part_size = part_size
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            signature_version="s3v4",
            # Path-style addresses: an S3-compatible server on its own host name or port has
            # no DNS entry per bucket.
            s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            # We send our own SHA-256 where it matters and re-hash what we read; botocore's
            # automatic CRC32 headers are not understood by every S3-compatible server.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        try:
            with _SESSION_LOCK:
                self._client = _session().client(
                    "s3",
                    endpoint_url=self.endpoint_url,
                    region_name=region or "us-east-1",
                    aws_access_key_id=access_key or None,
                    aws_secret_access_key=secret_key or None,
                    config=config,
                )
        except (BotoCoreError, ValueError) as exc:
            raise StorageError(f"cannot set up the S3 client: {exc}") from exc

    def __repr__(self) -> str:
        where = self.endpoint_url or "AWS"
        return f"S3BlobStore(bucket={self.bucket!r}, prefix={self.prefix!r}, at {where})"

    @property
    def client(self) -> Any:
        """The boto3 S3 client (for operators' scripts and the tests)."""
        return self._client

    def object_name(self, key: str) -> str:
        """The object key of a blob, validating key first so no other text names an object."""
        key = validate_key(key)
        return f"{self.prefix}{key[:2]}/{key[2:4]}/{key}"

    def check(self) -> None:
        """Raise `StorageError` with the reason when the bucket cannot be reached or used."""
        with self._translate("cannot reach the bucket"):
            self._client.head_bucket(Bucket=self.bucket)

    # ------------------------------------------------------------------ writing

    def put_file(self, path: StrPath, sha256: str) -> bool:
        """Upload an already hashed file, checking the hash; False if the blob already existed."""
        key = validate_key(sha256)
        if self._head(key) is not None:
            return False
        with translate_os_errors(f"cannot read {os.fspath(path)!r}"):
            source = open(path, "rb")  # noqa: SIM115 (closed below)
        with source:
            return self._upload(source, key, f"content of {os.fspath(path)!r}")

    def put_stream(self, stream: BinaryIO) -> BlobInfo:
        """Store a stream under the SHA-256 of its content.

        The key is known only at the end of the stream and an object cannot be renamed, so the
        stream goes to a temporary file in the staging folder first (read once, hashed on the
        way), then up as `put_file` does.
        """
        with translate_os_errors(f"cannot use the staging folder {self._staging_dir}"):
            self._staging_dir.mkdir(parents=True, exist_ok=True)
        staged = write_temp_file(self._staging_dir, stream, prefix=TEMP_PREFIX)
        try:
            created = self.put_file(staged.path, staged.sha256)
        finally:
            unlink_quietly(staged.path)
        return BlobInfo(key=staged.sha256, size=staged.size, created=created)

    def _upload(self, source: BinaryIO, key: str, what: str) -> bool:
        """Upload in one PUT or in parts, as the size asks; False if it appeared meanwhile."""
        with translate_os_errors(f"cannot read {what}"):
            head = _read_up_to(source, self._threshold + 1)
        if len(head) <= self._threshold:
            if hashlib.sha256(head).hexdigest() != key:
                raise StorageError(f"{what} does not hash to {key}")
            return self._put_object(key, head, _b64_sha256(head))
        return self._put_multipart(key, head, source, what)

    def _put_object(self, key: str, body: bytes, checksum: str) -> bool:
        """One PUT with the body's SHA-256; the server refuses a body that does not match it."""
        try:
            with self._translate(f"cannot store blob {key}"):
                self._client.put_object(
                    Bucket=self.bucket,
                    Key=self.object_name(key),
                    Body=body,
                    ChecksumSHA256=checksum,
                    IfNoneMatch="*",  # another writer stored the same bytes first: keep theirs
                )
        except _AlreadyThere:
            return False
        return True

    def _put_multipart(self, key: str, head: bytes, source: BinaryIO, what: str) -> bool:
        """Upload in parts, each with its SHA-256; abort on any failure, so nothing is left."""
        name = self.object_name(key)
        with self._translate(f"cannot start the upload of blob {key}"):
            upload_id = self._client.create_multipart_upload(
                Bucket=self.bucket, Key=name, ChecksumAlgorithm="SHA256"
            )["UploadId"]
        try:
            whole = hashlib.sha256()
            part_digests = b""
            parts: list[dict[str, Any]] = []
            for number, chunk in enumerate(_chunks(head, source, self._part_size, what), 1):
                if number > MAX_PARTS:
                    raise StorageFull(f"blob {key} needs more than {MAX_PARTS} parts")
                whole.update(chunk)
                digest = hashlib.sha256(chunk).digest()
                part_digests += digest
                checksum = base64.b64encode(digest).decode("ascii")
                with self._translate(f"cannot upload part {number} of blob {key}"):
                    answer = self._client.upload_part(
                        Bucket=self.bucket,
                        Key=name,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=chunk,
                        ChecksumSHA256=checksum,
                    )
                parts.append(
                    {"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum}
                )
            if whole.hexdigest() != key:
                raise StorageError(f"{what} does not hash to {key}")
            try:
                with self._translate(f"cannot complete the upload of blob {key}"):
                    done = self._client.complete_multipart_upload(
                        Bucket=self.bucket,
                        Key=name,
                        UploadId=upload_id,
                        MultipartUpload={"Parts": parts},
                        IfNoneMatch="*",
                    )
            except _AlreadyThere:
                self._abort(name, upload_id)
                return False
        except BaseException:
            self._abort(name, upload_id)
            raise
        expected = f"{_b64_sha256(part_digests)}-{len(parts)}"
        stored = done.get("ChecksumSHA256")
        if stored is not None and stored != expected:  # the server joined other parts
            self._delete_quietly(name)
            raise ChecksumRefused(f"blob {key}: the store's checksum {stored} is not {expected}")
        return True

    def _abort(self, name: str, upload_id: str) -> None:
        """Abort a multipart upload, best effort: when the server is gone, `cleanup_tmp` will."""
        with suppress(BotoCoreError, ClientError):
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)

    def _delete_quietly(self, name: str) -> None:
        with suppress(BotoCoreError, ClientError):
            self._client.delete_object(Bucket=self.bucket, Key=name)

    # ------------------------------------------------------------------ reading

    def open(self, key: str) -> BinaryIO:
        """Stream a blob, re-hashing it; the read that reaches the end raises `BlobCorrupted`
        when the bytes do not hash to the key. `BlobNotFound` when it is missing."""
        return self._open(key, check=True)

    def open_unchecked(self, key: str) -> BinaryIO:
        """The stored bytes as they are, without the integrity check: for taking a damaged blob
        out of the store (restore moves it aside) and for nothing else."""
        return self._open(key, check=False)

    def _open(self, key: str, *, check: bool) -> BinaryIO:
        key = validate_key(key)
        with self._translate(f"cannot read blob {key}", key):
            answer = self._client.get_object(Bucket=self.bucket, Key=self.object_name(key))
        raw = _VerifyingReader(answer["Body"], key, int(answer["ContentLength"]), self, check)
        return io.BufferedReader(raw, CHUNK_SIZE)  # type: ignore[return-value]

    def exists(self, key: str) -> bool:
        """Tell whether a blob is stored under key."""
        return self._head(validate_key(key)) is not None

    def size(self, key: str) -> int:
        """Return a blob's size in bytes, raising `BlobNotFound` when it is missing."""
        return int(self._head_or_raise(key)["ContentLength"])

    def stored_at(self, key: str) -> float:
        """When the object was written, as a POSIX timestamp; `BlobNotFound` when it is missing."""
        return float(self._head_or_raise(key)["LastModified"].timestamp())

    def delete(self, key: str) -> None:
        """Remove an unreferenced blob, raising `BlobNotFound` when it is missing."""
        self._head_or_raise(key)
        with self._translate(f"cannot delete blob {key}", key):
            self._client.delete_object(Bucket=self.bucket, Key=self.object_name(key))

    def keys(self) -> Iterator[str]:
        """Yield every stored key in sorted order, ignoring objects not laid out like a blob."""
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.bucket, Prefix=self.prefix)
        with self._translate("cannot list the bucket"):
            for page in pages:
                for entry in page.get("Contents", ()):
                    key = _key_of(entry["Key"], self.prefix)
                    if key is not None:
                        yield key

    def verify(self, key: str) -> bool:
        """Re-hash the whole object and tell whether its content still matches its key."""
        try:
            with self.open(key) as blob:
                while blob.read(CHUNK_SIZE * 16):
                    pass
        except BlobCorrupted:
            return False
        return True

    def cleanup_tmp(self, older_than_seconds: float) -> int:
        """Abort this store's multipart uploads started longer ago than the given age (left by
        a crash or an unreachable server) and return how many; they hold space, not objects."""
        cutoff = time.time() - older_than_seconds
        aborted = 0
        paginator = self._client.get_paginator("list_multipart_uploads")
        with self._translate("cannot list unfinished uploads"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for upload in page.get("Uploads", ()):
                    if upload["Initiated"].timestamp() < cutoff:
                        self._client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        aborted += 1
        return aborted

    # ------------------------------------------------------------------ helpers

    def _head(self, key: str) -> dict[str, Any] | None:
        """The object's metadata, or None when there is none."""
        try:
            with self._translate(f"cannot look up blob {key}", key):
                return self._client.head_object(Bucket=self.bucket, Key=self.object_name(key))
        except BlobNotFound:
            return None

    def _head_or_raise(self, key: str) -> dict[str, Any]:
        key = validate_key(key)
        found = self._head(key)
        if found is None:
            raise BlobNotFound(key)
        return found

    @contextmanager
    def _translate(self, action: str, key: str | None = None) -> Iterator[None]:
        """Turn botocore's exceptions into this package's, with the reason in the message."""
        try:
            yield
        except ClientError as exc:
            self._raise_for(exc, action, key)
        except BotoCoreError as exc:
            where = self.endpoint_url or "S3"
            raise StorageError(f"{action}: the object store at {where} failed: {exc}") from exc

    def _raise_for(self, exc: ClientError, action: str, key: str | None) -> NoReturn:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = error.get("Message") or code or f"HTTP {status}"
        if key is not None and (code in _NOT_FOUND_CODES or status == 404):
            raise BlobNotFound(key) from None
        if code == "NoSuchBucket" or (key is None and status == 404):
            raise StorageError(f"{action}: the bucket {self.bucket!r} does not exist") from exc
        if code in ("PreconditionFailed", "ConditionalRequestConflict") or status == 412:
            raise _AlreadyThere(action) from exc
        if code in _CHECKSUM_CODES:
            raise ChecksumRefused(
                f"{action}: the object store refused the data as not matching its checksum "
                f"({code}); nothing was stored"
            ) from exc
        if code in _FULL_CODES or status == 507:
            raise StorageFull(f"{action}: {message}") from exc
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch") or status == 403:
            raise StorageError(
                f"{action}: the object store refused the credentials or the bucket's policy "
                f"({code or status})"
            ) from exc
        raise StorageError(
            f"{action}: the object store answered {code or status}: {message}"
        ) from exc


class _AlreadyThere(StorageError):
    """A conditional write found the object already stored (by a concurrent writer)."""


class _VerifyingReader(io.RawIOBase):
    """A response body that hashes what passes through and checks it at the end of the stream."""

    def __init__(
        self, body: Any, key: str, length: int, store: S3BlobStore, check: bool = True
    ) -> None:
        super().__init__()
        self._body = body
        self._key = key
        self._length = length
        self._store = store
        self._digest = hashlib.sha256()
        self._seen = 0
        self._checked = not check

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with self._store._translate(f"cannot read blob {self._key}", self._key):
            data = self._body.read(len(buffer))
        if data:
            self._digest.update(data)
            self._seen += len(data)
            buffer[: len(data)] = data
            return len(data)
        if not self._checked:
            self._checked = True
            if self._seen != self._length or self._digest.hexdigest() != self._key:
                raise BlobCorrupted(
                    f"blob {self._key} in the object store no longer matches its checksum"
                )
        return 0

    def close(self) -> None:
        if not self.closed:
            try:
                self._body.close()
            finally:
                super().close()


def normalise_prefix(prefix: str | None) -> str:
    """ "" or "a/b/" from "a/b" or "a/b/": folders of plain names, so no key escapes the prefix."""
    prefix = (prefix or "").strip().strip("/")
    if not prefix:
        return ""
    prefix += "/"
    if not _PREFIX_PATTERN.fullmatch(prefix) or any(p in (".", "..") for p in prefix.split("/")):
        raise StorageError(f"the S3 prefix {prefix!r} may hold only letters, digits, . _ - and /")
    return prefix


def _key_of(name: str, prefix: str) -> str | None:
    """The blob key of an object name laid out as `<prefix>ab/cd/<sha256>`, else None."""
    rest = name[len(prefix) :]
    parts = rest.split("/")
    if len(parts) != 3 or KEY_PATTERN.fullmatch(parts[2]) is None:
        return None
    key = parts[2]
    return key if parts[0] == key[:2] and parts[1] == key[2:4] else None


def _b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _read_up_to(source: BinaryIO, size: int) -> bytes:
    """Read size bytes, or fewer at the end of the stream, whatever the reads return at once."""
    pieces: list[bytes] = []
    wanted = size
    while wanted > 0:
        piece = source.read(wanted)
        if not piece:
            break
        pieces.append(piece)
        wanted -= len(piece)
    return b"".join(pieces)


def _chunks(head: bytes, source: BinaryIO, size: int, what: str) -> Iterator[bytes]:
    """The parts of an upload: `head` (already read) then the rest of source, size bytes each."""
    pending = head
    while True:
        if len(pending) < size:
            with translate_os_errors(f"cannot read {what}"):
                pending += _read_up_to(source, size - len(pending))
        if not pending:
            return
        yield pending[:size]
        pending = pending[size:]

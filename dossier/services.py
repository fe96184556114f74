"""Application-wide services that are not Flask extensions: the blob store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app

from storage import BlobStore, FileSystemBlobStore, MemoryBlobStore, StorageError

BLOB_STORES = ("filesystem", "s3", "memory")


def init_app(app: Flask) -> None:
    """Open the blob store named by the configuration (BLOB_STORE)."""
    app.extensions["dossier.blobs"] = build_store(app.config, app.config.get("BLOB_STORE"))


def blob_store() -> BlobStore:
    """The blob store of the current application."""
    return current_app.extensions["dossier.blobs"]


def build_store(config: Mapping[str, Any], kind: str | None) -> BlobStore:
    """The store of the given kind from the settings; ValueError with the reason if it cannot be."""
    kind = kind or "filesystem"
    if kind == "filesystem":
        return FileSystemBlobStore(config["BLOB_ROOT"])
    if kind == "s3":
        return s3_store(config)
    if kind == "memory":
        return MemoryBlobStore()
    raise ValueError(f"BLOB_STORE must be one of {', '.join(BLOB_STORES)}, not {kind!r}")


def s3_store(config: Mapping[str, Any]) -> BlobStore:
    """The S3 store the S3_* settings describe (whatever BLOB_STORE says, for migrate-storage).

    Nothing is sent to the server here; `check()` on the result does that.
    """
    try:
        from storage.s3 import S3BlobStore
    except ImportError as exc:
        raise ValueError(
            "the S3 blob store needs boto3: pip install 'contractdossier[s3]'"
        ) from exc
    if not config.get("S3_BUCKET"):
        raise ValueError("the S3 blob store needs a bucket: set DOSSIER_S3_BUCKET")
    try:
        return S3BlobStore(
            str(config["S3_BUCKET"]),
            endpoint_url=_text(config.get("S3_ENDPOINT")),
            region=_text(config.get("S3_REGION")),
            access_key=_text(config.get("S3_ACCESS_KEY")),
            secret_key=_text(config.get("S3_SECRET_KEY")),
            prefix=_text(config.get("S3_PREFIX")) or "",
            staging_dir=config.get("STAGING_DIR"),
            multipart_threshold=int(config["S3_MULTIPART_THRESHOLD"]),
            part_size=int(config["S3_PART_SIZE"]),
            connect_timeout=float(config["S3_CONNECT_TIMEOUT"]),
            read_timeout=float(config["S3_READ_TIMEOUT"]),
            max_attempts=int(config["S3_MAX_ATTEMPTS"]),
        )
    except StorageError as exc:
        raise ValueError(str(exc)) from exc


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)

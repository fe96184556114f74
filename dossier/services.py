"""Application-wide services that are not Flask extensions: the blob store."""

from __future__ import annotations

from flask import Flask, current_app

from storage import BlobStore, FileSystemBlobStore, MemoryBlobStore


def init_app(app: Flask) -> None:
    """Open the blob store named by the configuration."""
    if app.config.get("BLOB_STORE") == "memory":
        store: BlobStore = MemoryBlobStore()
    else:
        store = FileSystemBlobStore(app.config["BLOB_ROOT"])
    app.extensions["dossier.blobs"] = store


def blob_store() -> BlobStore:
    """The blob store of the current application."""
    return current_app.extensions["dossier.blobs"]

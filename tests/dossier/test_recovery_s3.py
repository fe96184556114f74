"""Start-up recovery on the S3 blob store: unfinished multipart uploads (a crashed process's, or
one cut off by an unreachable server) are aborted once older than the grace period, and an
unreachable store does not stop the start."""

from __future__ import annotations

import os

import pytest
from flask import Flask

from dossier import recovery
from dossier.services import blob_store
from tests.storage.helpers import DATA_KEY

if os.environ.get("CI") != "true":  # under CI a missing boto3 fails the collection
    pytest.importorskip("boto3", reason="boto3 is not installed (the s3 extra)")
from storage.s3 import S3BlobStore  # noqa: E402


@pytest.fixture
def app(s3_app: Flask) -> Flask:
    return s3_app


def _uploads(store: S3BlobStore) -> list[str]:
    answer = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix)
    return [upload["Key"] for upload in answer.get("Uploads", [])]


def test_recovery_aborts_unfinished_uploads_after_the_grace(app: Flask) -> None:
    store = blob_store()
    assert isinstance(store, S3BlobStore)
    name = store.object_name(DATA_KEY)
    store.client.create_multipart_upload(Bucket=store.bucket, Key=name)
    assert recovery.recover().blob_temp_files == 0  # younger than STAGING_GRACE_SECONDS
    assert _uploads(store) == [name]
    app.config["STAGING_GRACE_SECONDS"] = 0
    assert recovery.recover().blob_temp_files == 1
    assert _uploads(store) == []


def test_recovery_goes_on_when_the_store_is_unreachable(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.extensions["dossier.blobs"] = S3BlobStore(
        "dossier-test", endpoint_url="http://127.0.0.1:9", connect_timeout=0.5, max_attempts=1
    )
    assert recovery.recover().blob_temp_files == 0
    assert "could not clean the blob store" in caplog.text

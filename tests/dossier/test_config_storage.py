"""The blob store settings (DOSSIER_BLOB_STORE and DOSSIER_S3_*) and the store they build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dossier import create_app
from dossier.services import blob_store
from storage import FileSystemBlobStore

pytestmark = pytest.mark.any_database


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **settings: str) -> None:
    monkeypatch.setenv("DOSSIER_INSTANCE_PATH", str(tmp_path / "instance"))
    for name, value in settings.items():
        monkeypatch.setenv(f"DOSSIER_{name}", value)


def test_the_file_system_store_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, tmp_path)
    app = create_app()
    with app.app_context():
        assert isinstance(blob_store(), FileSystemBlobStore)


def test_s3_settings_from_the_environment_stay_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_settings: dict[str, Any]
) -> None:
    from storage.s3 import S3BlobStore

    _env(
        monkeypatch,
        tmp_path,
        BLOB_STORE="s3",
        S3_ENDPOINT=s3_settings["endpoint_url"],
        S3_BUCKET=s3_settings["bucket"],
        S3_ACCESS_KEY=s3_settings["access_key"],
        S3_SECRET_KEY=s3_settings["secret_key"],
        S3_PREFIX="1234",  # JSON would make this a number
        S3_PART_SIZE=str(6 * 1024 * 1024),
    )
    app = create_app()
    assert app.config["S3_PREFIX"] == "1234"
    assert app.config["S3_PART_SIZE"] == 6 * 1024 * 1024
    with app.app_context():
        store = blob_store()
        assert isinstance(store, S3BlobStore)
        assert (store.bucket, store.prefix) == (s3_settings["bucket"], "1234/")
        store.check()  # the credentials and the bucket work


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"BLOB_STORE": "nfs"}, "BLOB_STORE must be one of filesystem, s3, memory, not 'nfs'"),
        ({"BLOB_STORE": "s3"}, "set DOSSIER_S3_BUCKET"),
        ({"BLOB_STORE": "s3", "S3_BUCKET": "b", "S3_PART_SIZE": "1024"}, "part size"),
        ({"BLOB_STORE": "s3", "S3_BUCKET": "b", "S3_PREFIX": "../up"}, "prefix"),
    ],
)
def test_unusable_settings_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: dict[str, str], message: str
) -> None:
    pytest.importorskip("boto3")
    _env(monkeypatch, tmp_path, **settings)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        create_app()

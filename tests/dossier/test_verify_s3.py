"""`dossier verify` on the S3 blob store (a real SeaweedFS server): a clean store passes, and an
object flipped or removed behind the application's back is reported; a download of it fails
with the integrity page, never with the altered bytes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dossier import verify
from dossier.cli import cli
from dossier.models import Document, Dossier, User
from dossier.services import blob_store
from tests.dossier.s3_helpers import blob_of, delete_object, file_text, overwrite_object

CONTRACT = "Artikel 1 Looptijd\nDe overeenkomst loopt vier jaar.\n"
LETTER = "Geachte leverancier, hierbij de opzegging.\n"


@pytest.fixture
def app(s3_app: Flask) -> Flask:
    return s3_app


@pytest.fixture
def filed(admin: User, make_dossier: Callable[..., Dossier]) -> tuple[Document, Document]:
    dossier = make_dossier("2026-S3")
    return (
        file_text(admin, dossier, "contract.txt", CONTRACT),
        file_text(admin, dossier, "brief.txt", LETTER),
    )


def _kinds(report: verify.Report) -> list[str]:
    return [problem.kind for problem in report.problems]


def test_the_application_stores_its_blobs_in_the_bucket(
    app: Flask, filed: tuple[Document, Document]
) -> None:
    store = blob_store()
    assert type(store).__name__ == "S3BlobStore"
    assert sorted(store.keys()) == sorted(blob_of(d) for d in filed)  # noqa: SIM118
    report = verify.run(store)
    assert report.ok, report.problems
    assert (report.versions, report.blobs) == (2, 2)


def test_a_flipped_object_is_reported_by_dossier_verify(
    app: Flask, filed: tuple[Document, Document]
) -> None:
    contract, _ = filed
    key = blob_of(contract)
    flipped = bytearray(CONTRACT.encode())
    flipped[3] ^= 0x01
    overwrite_object(key, bytes(flipped))
    report = verify.run(blob_store())
    assert _kinds(report) == ["corrupt_blob"]
    assert key in report.problems[0].subject
    result = app.test_cli_runner().invoke(cli, ["verify"])
    assert result.exit_code == 1
    assert f"PROBLEM corrupt_blob: version {contract.current_version.id} (blob {key})" in (
        result.output
    )
    assert "Traceback" not in result.output


def test_a_removed_object_is_reported_missing(app: Flask, filed: tuple[Document, Document]) -> None:
    _, letter = filed
    delete_object(blob_of(letter))
    assert _kinds(verify.run(blob_store())) == ["missing_blob"]


def test_a_flipped_object_is_never_downloaded(
    app: Flask,
    admin: User,
    filed: tuple[Document, Document],
    client_for: Callable[[User | None], FlaskClient],
) -> None:
    contract, _ = filed
    url = f"/dossiers/2026-S3/documents/{contract.id}/versions/1/download"
    client = client_for(admin)
    good = client.get(url)
    assert good.status_code == 200 and good.data == CONTRACT.encode()
    overwrite_object(blob_of(contract), CONTRACT.encode().replace(b"vier", b"tien"))
    bad = client.get(url)
    assert bad.status_code == 500
    assert b"tien" not in bad.data


def test_an_unreachable_store_is_a_message_not_a_traceback(
    app: Flask, filed: tuple[Document, Document], seaweed: object
) -> None:
    from storage.s3 import S3BlobStore

    store = blob_store()
    assert isinstance(store, S3BlobStore)
    app.extensions["dossier.blobs"] = S3BlobStore(
        store.bucket, endpoint_url="http://127.0.0.1:9", connect_timeout=0.5, max_attempts=1
    )
    result = app.test_cli_runner().invoke(cli, ["verify"])
    assert result.exit_code == 1
    assert "Error: the blob store cannot be checked: " in result.output
    assert "object store at http://127.0.0.1:9 failed" in result.output

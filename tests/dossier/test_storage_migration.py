"""`dossier migrate-storage --to s3`: every blob of the file-system store copied into a real
SeaweedFS bucket and read back; resumable, idempotent, audited; damage on either side named."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from dossier import database, services, storage_migration, verify
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import AuditAction, AuditEvent, Document, Dossier, User
from dossier.services import blob_store
from storage import FileSystemBlobStore
from tests.conftest import s3_config
from tests.dossier.s3_helpers import blob_of, file_text

pytestmark = pytest.mark.any_database  # the database only lists keys and takes the audit event
TEXTS = ["Artikel 1\nLooptijd vier jaar.\n", "Bijlage 1\nPrijzen.\n", "Geachte heer,\n"]


@pytest.fixture
def filed(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    s3_settings: dict[str, Any],
) -> list[Document]:
    """Three documents in the file-system store, with the S3 settings filled in beside it."""
    app.config.update(s3_config(s3_settings) | {"BLOB_STORE": "filesystem"})
    dossier = make_dossier("2026-MIG")
    return [file_text(admin, dossier, f"doc{n}.txt", text) for n, text in enumerate(TEXTS)]


def _migrate(app: Flask) -> tuple[Result, dict[str, Any]]:
    result = app.test_cli_runner().invoke(cli, ["migrate-storage", "--to", "s3", "--json"])
    assert "Traceback" not in result.output
    return result, json.loads(result.output) if result.output.startswith("{") else {}


def _target(app: Flask) -> Any:
    return services.s3_store(app.config)


def _counts(outcome: dict[str, Any]) -> tuple[int, int, int]:
    return outcome["copied"], outcome["already_there"], outcome["replaced"]


def test_migrate_copies_verifies_and_resumes(app: Flask, filed: list[Document]) -> None:
    result, outcome = _migrate(app)
    assert result.exit_code == 0, result.output
    assert _counts(outcome) == (3, 0, 0)
    assert outcome["bytes_copied"] == sum(len(t) for t in TEXTS)
    target = _target(app)
    assert sorted(target.keys()) == sorted(blob_of(d) for d in filed)

    # Idempotent: a second run copies nothing and finds every copy intact.
    result, outcome = _migrate(app)
    assert result.exit_code == 0 and _counts(outcome) == (0, 3, 0)

    # Resumable, and it repairs: an object lost and an object altered in the bucket.
    first, second = blob_of(filed[0]), blob_of(filed[1])
    target.client.delete_object(Bucket=target.bucket, Key=target.object_name(first))
    target.client.put_object(Bucket=target.bucket, Key=target.object_name(second), Body=b"x")
    result, outcome = _migrate(app)
    assert result.exit_code == 0 and _counts(outcome) == (2, 1, 1)

    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.STORAGE_MIGRATE)
    ).all()
    assert [e.after["copied"] for e in events] == [3, 0, 2]  # type: ignore[index]
    assert events[0].after["to"] == "s3" and events[0].actor_label == "system"  # type: ignore[index]

    # The operator's switch: the same application on the S3 store passes `dossier verify`.
    app.extensions["dossier.blobs"] = services.build_store(app.config, "s3")
    report = verify.run(blob_store())
    assert report.ok, report.problems
    assert (report.versions, report.blobs) == (3, 3)


def test_a_damaged_file_is_not_copied_and_a_lost_one_is_named(
    app: Flask, filed: list[Document]
) -> None:
    store = blob_store()
    assert isinstance(store, FileSystemBlobStore)
    damaged, lost = blob_of(filed[0]), blob_of(filed[1])
    path = store.path_for(damaged)
    path.chmod(0o600)
    path.write_bytes(b"not the filed text")
    store.path_for(lost).unlink()
    result = app.test_cli_runner().invoke(cli, ["migrate-storage", "--to", "s3"])
    assert result.exit_code == 1
    assert f"PROBLEM blob {damaged} is damaged in the file-system store; not copied" in (
        result.output
    )
    assert f"PROBLEM blob {lost} of a version is in neither store" in result.output
    assert f"PROBLEM blob {damaged} of a version" not in result.output  # named once
    assert sorted(_target(app).keys()) == [blob_of(filed[2])]


def test_an_unreachable_object_store_is_refused_before_copying(
    app: Flask, filed: list[Document]
) -> None:
    app.config.update(S3_ENDPOINT="http://127.0.0.1:9", S3_CONNECT_TIMEOUT=0.5, S3_MAX_ATTEMPTS=1)
    result = app.test_cli_runner().invoke(cli, ["migrate-storage", "--to", "s3"])
    assert result.exit_code == 1
    assert "Error: the object store cannot be used: " in result.output
    assert "127.0.0.1:9" in result.output
    app.config.update(S3_BUCKET="")
    result = app.test_cli_runner().invoke(cli, ["migrate-storage", "--to", "s3"])
    assert result.exit_code == 1 and "set DOSSIER_S3_BUCKET" in result.output


def test_a_version_filed_during_the_copy_is_left_for_the_next_run(
    app: Flask, admin: User, filed: list[Document]
) -> None:
    source = blob_store()
    assert isinstance(source, FileSystemBlobStore)
    target = _target(app)
    late: list[Document] = []

    def file_one_more(progress: storage_migration.Migration) -> None:
        if progress.source_blobs == len(TEXTS) and not late:
            late.append(file_text(admin, filed[0].dossier, "late.txt", "Filed late.\n"))

    with database.read_only():
        result = storage_migration.migrate(source, target, file_one_more)
    db.session.rollback()
    assert result.ok, result.problems
    # Either the listing still saw it (then it is copied) or the next run copies it.
    assert result.arrived_during_copy + (result.copied - len(TEXTS)) == 1
    again = storage_migration.migrate(source, target)
    assert again.ok and again.arrived_during_copy == 0
    assert target.exists(blob_of(late[0]))

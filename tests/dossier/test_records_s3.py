"""Destruction on the S3 blob store (a real SeaweedFS server): the destroyed objects leave the
bucket, an object shared with another dossier stays, and `dossier verify` stays clean."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask

from dossier import records, verify
from dossier.extensions import db
from dossier.models import Dossier, GlobalRole, User
from dossier.services import blob_store
from tests.dossier.s3_helpers import blob_of, file_text


@pytest.fixture
def app(s3_app: Flask) -> Flask:
    return s3_app


def test_destruction_removes_the_objects_but_a_shared_one(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> None:
    records.ensure_shipped_list()
    archivist = make_user("archivaris@example.org", GlobalRole.ARCHIVIST)
    old = make_dossier("S3-001", status="ended", end_on=date(2014, 1, 31), category="services")
    other = make_dossier("S3-002", status="active", end_on=date(2030, 1, 1))
    contract = file_text(admin, old, "contract.txt", "Artikel 1 Looptijd\nVier jaar.\n")
    shared = file_text(admin, old, "voorwaarden.txt", "Algemene inkoopvoorwaarden\n")
    file_text(admin, other, "voorwaarden.txt", "Algemene inkoopvoorwaarden\n")
    listing = records.propose(None, date(2025, 1, 1))  # 16.1 keeps ten years: due 31 Jan 2024
    records.approve(archivist, listing, grace_days=1)
    db.session.commit()
    records.purge_due(datetime.now(UTC) + timedelta(days=2))
    db.session.commit()
    store = blob_store()
    assert records.remove_destroyed_blobs(store) == 1
    assert not store.exists(blob_of(contract))
    assert store.exists(blob_of(shared))
    report = verify.run(store)
    assert report.ok, report.problems
    assert report.destroyed_versions == 2

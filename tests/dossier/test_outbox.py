"""`dossier/outbox.py`: workers claim outbox items (SKIP LOCKED on PostgreSQL) for a lease, so
several drains share the work without doing any of it twice; a dead worker's items are taken
over (at once when it ran on this machine, after the lease otherwise); a failure waits before
its next attempt, longer each time; `dossier worker --concurrency N` runs N drains."""

from __future__ import annotations

import io
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from dossier import documents, indexing, outbox, searching
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import (
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    ExtractionStatus,
    OutboxItem,
    OutboxTopic,
    User,
    utcnow,
)
from dossier.services import blob_store
from ingest.extract import Extraction

WAIT = 60


def _items(count: int, topic: OutboxTopic = OutboxTopic.DOCUMENT_INDEX) -> list[int]:
    items = [OutboxItem(topic=topic, object_id=1000 + n) for n in range(count)]
    db.session.add_all(items)
    db.session.commit()
    return [item.id for item in items]


def _in_thread(app: Flask, work: Callable[[], object]) -> object:
    """Run `work` in another thread (another worker name, another session) and return its value."""
    result: list[object] = []

    def run() -> None:
        with app.app_context():
            result.append(work())
            db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive(), "the claim waited for another worker's lock"
    return result[0]


def _claimed(ids: list[outbox.Claimed]) -> list[int]:
    return [item_id for item_id, _, _ in ids]


def test_two_workers_claim_disjoint_items_oldest_first(app: Flask) -> None:
    ids = _items(6)
    first = _claimed(outbox.claim(indexing.INDEX_TOPICS, 4))
    second = _in_thread(app, lambda: _claimed(outbox.claim(indexing.INDEX_TOPICS, 4)))
    assert first == ids[:4]
    assert second == ids[4:]
    assert _in_thread(app, lambda: outbox.claim(indexing.INDEX_TOPICS, 4)) == []
    holders = Counter(db.session.scalars(sa.select(OutboxItem.claimed_by)))
    assert sorted(holders.values()) == [2, 4] and "" not in holders


def test_a_claim_passes_rows_another_transaction_has_locked(app: Flask) -> None:
    """SKIP LOCKED: a worker in the middle of claiming holds its rows; another does not wait."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    ids = _items(3)
    with db.engine.connect() as other:
        other.execute(sa.select(OutboxItem.id).where(OutboxItem.id == ids[0]).with_for_update())
        got = _in_thread(app, lambda: _claimed(outbox.claim(indexing.INDEX_TOPICS, 2)))
        other.rollback()
    assert got == ids[1:3]


def test_an_expired_lease_is_taken_over_and_a_live_one_is_not(app: Flask) -> None:
    app.config["OUTBOX_LEASE_SECONDS"] = 0.5
    ids = _items(2)
    assert _claimed(outbox.claim(indexing.INDEX_TOPICS, 10)) == ids
    assert _in_thread(app, lambda: outbox.claim(indexing.INDEX_TOPICS, 10)) == []
    time.sleep(0.6)
    assert _in_thread(app, lambda: _claimed(outbox.claim(indexing.INDEX_TOPICS, 10))) == ids


def test_renewing_keeps_a_lease_alive(app: Flask) -> None:
    app.config["OUTBOX_LEASE_SECONDS"] = 0.8
    ids = _items(1)
    outbox.claim(indexing.INDEX_TOPICS, 10)
    for _ in range(3):
        time.sleep(0.4)
        outbox.renew(ids)
        db.session.commit()
    assert _in_thread(app, lambda: outbox.claim(indexing.INDEX_TOPICS, 10)) == []


def _dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def test_claims_of_dead_processes_on_this_machine_are_released_at_once(app: Flask) -> None:
    dead, elsewhere, rebooted, alive = _items(4)
    host, _, boot = outbox._host().partition("/")
    holders = {
        dead: f"{outbox._host()}:{_dead_pid()}:1",
        elsewhere: "other-node/0123abcd:4242:1",
        rebooted: f"{host}/{'x' if boot != 'x' else 'y'}:4242:1",
        alive: f"{outbox._host()}:{os.getpid()}:1",
    }
    for item_id, holder in holders.items():
        db.session.execute(
            sa.update(OutboxItem)
            .where(OutboxItem.id == item_id)
            .values(claimed_by=holder, claimed_until=utcnow() + timedelta(hours=1))
        )
    db.session.commit()
    assert outbox.release_dead_claimants() == 2
    assert sorted(_in_thread(app, lambda: _claimed(outbox.claim(indexing.INDEX_TOPICS, 10)))) == [
        dead,
        rebooted,
    ]


def _file_texts(admin: User, dossier: Dossier, count: int) -> list[Document]:
    filed = []
    for number in range(count):
        text = f"Artikel {number} Looptijd\nBrief nummer {number} over de kwartiermaker.\n"
        with documents.receive(io.BytesIO(text.encode()), f"brief-{number}.txt") as upload:
            filed.append(
                documents.file_document(admin, dossier, upload, kind=DocumentKind.CORRESPONDENCE)
            )
        db.session.commit()
    return filed


def test_a_failed_item_waits_longer_after_each_attempt(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    app.config["OUTBOX_RETRY_SECONDS"] = 30
    (broken,) = _file_texts(admin, make_dossier("2025-030"), 1)
    blob_store().delete(broken.current_version.blob_key)
    indexing.drain()
    item = db.session.scalars(sa.select(OutboxItem)).one()
    first_wait = item.not_before - utcnow()
    assert item.attempts == 1 and "BlobNotFound" in item.last_error
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)
    assert item.claimed_by == "" and item.claimed_until is None

    indexing.drain()  # not due yet: left alone
    db.session.refresh(item)
    assert item.attempts == 1

    item.not_before = utcnow() - timedelta(seconds=1)
    db.session.commit()
    indexing.drain()
    db.session.refresh(item)
    assert item.attempts == 2
    assert timedelta(seconds=55) < item.not_before - utcnow() <= timedelta(seconds=60)


def test_two_drains_at_once_share_the_work_and_store_each_version_once(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], monkeypatch: pytest.MonkeyPatch
) -> None:
    app.config["EXTRACT_WORKERS"] = 1
    filed = _file_texts(admin, make_dossier("2025-031"), 8)
    stored: list[tuple[int, str]] = []
    real_store = indexing._store_extraction

    def record_store(version: DocumentVersion, result: Extraction) -> None:
        stored.append((version.id, threading.current_thread().name))
        time.sleep(0.05)  # long enough for the other drain to come by
        real_store(version, result)

    monkeypatch.setattr(indexing, "_store_extraction", record_store)
    monkeypatch.setattr(indexing, "EXTRACT_BATCH", 2)
    threads = [
        threading.Thread(target=lambda: _in_thread(app, indexing.drain), name=f"drain-{n}")
        for n in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    db.session.expire_all()
    assert sorted(version_id for version_id, _ in stored) == sorted(
        d.current_version.id for d in filed
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) == 0
    statuses = db.session.scalars(sa.select(DocumentVersion.extraction_status)).all()
    assert statuses == [ExtractionStatus.OK] * len(filed)
    assert searching.search(admin, "kwartiermaker", per_page=20).result.total == len(filed)


def test_worker_with_concurrency_drains_everything_once(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    filed = len(_file_texts(admin, make_dossier("2025-032"), 4))
    admin_id = admin.id
    db.session.remove()
    outcome = app.test_cli_runner().invoke(cli, ["worker", "--once", "--concurrency", "2"])
    assert outcome.exit_code == 0, outcome.output
    assert "with 2 drains" in outcome.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) == 0
    reader = db.session.get(User, admin_id)
    assert searching.search(reader, "kwartiermaker", per_page=20).result.total == filed


def test_the_shared_index_has_one_writer_across_connections(app: Flask) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the shared index's writer lock is a PostgreSQL advisory lock")
    with indexing._advisory_lock(blocking=True) as mine:
        assert mine
        other = _in_thread(app, lambda: _try_lock())
        assert other is False
    assert _in_thread(app, lambda: _try_lock()) is True


def _try_lock() -> bool:
    with indexing._advisory_lock(blocking=False) as taken:
        return taken

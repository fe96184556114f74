"""Concurrent use on SQLite and PostgreSQL, with real threads through the web stack: two new
versions of one document at once, a dossier archived while an upload into it runs, many
readers searching while one writer indexes, two workers storing one e-mail's extraction.
Nothing is half-filed or filed twice and `dossier verify` stays clean."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from dossier import (
    audit,
    crash,
    create_app,
    database,
    documents,
    dossiers,
    indexing,
    searching,
    verify,
)
from dossier.extensions import db
from dossier.models import (
    AuditEvent,
    Confidentiality,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    DossierStatus,
    MemberRole,
    User,
)
from dossier.services import blob_store
from tests.conftest import Client, _config

WAIT = 60  # seconds a thread may wait for another before the test fails (never reached)
ARCHIVED_NL = "het dossier is gearchiveerd"


def _file_text(
    actor: User,
    dossier: Dossier,
    text: str,
    name: str,
    confidentiality: Confidentiality = Confidentiality.NORMAL,
) -> Document:
    with documents.receive(io.BytesIO(text.encode()), name) as upload:
        document = documents.file_document(
            actor, dossier, upload, kind=DocumentKind.CONTRACT, confidentiality=confidentiality
        )
    db.session.commit()
    return document


def _post_file(client: FlaskClient, url: str, data: bytes, name: str, **fields: str) -> Any:
    return client.post(
        url,
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


class Threads:
    """Run callables in threads; exceptions are collected and re-raised in the test."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def start(self, target: Callable[[], None]) -> None:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # re-raised by join()
                self.errors.append(exc)

        thread = threading.Thread(target=run)
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=WAIT * 2)
            assert not thread.is_alive(), "a thread hung"
        if self.errors:
            raise self.errors[0]


@pytest.fixture
def threads() -> Iterator[Threads]:
    pool = Threads()
    yield pool
    for thread in pool.threads:
        thread.join(timeout=WAIT * 2)


def _clean_verify() -> verify.Report:
    db.session.rollback()
    report = verify.run(blob_store())
    assert report.ok, report.problems
    return report


def _in_app(app: Flask, work: Callable[[], Any]) -> Callable[[], Any]:
    """Run work in its own application context (its own session), as a server thread would."""

    def run() -> Any:
        with app.app_context():
            try:
                return work()
            finally:
                db.session.remove()

    return run


# Two new versions of one document at once


def test_two_new_versions_at_once_over_http(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], threads: Threads
) -> None:
    dossier = make_dossier()
    document = _file_text(admin, dossier, "Artikel 1\nVersie een.\n", "contract.txt")
    url = f"/dossiers/{dossier.reference}/documents/{document.id}/versions/new"
    payloads = [b"Artikel 1\nVersie twee A.\n", b"Artikel 1\nVersie twee B.\n"]
    barrier = threading.Barrier(len(payloads), timeout=WAIT)
    statuses: list[int] = []
    db.session.commit()

    for payload in payloads:
        client = app.test_client(user=admin)

        def upload(payload: bytes = payload, client: FlaskClient = client) -> None:
            barrier.wait()
            response = _post_file(client, url, payload, "contract.txt", comment="race")
            statuses.append(response.status_code)

        threads.start(_in_app(app, upload))
    threads.join()

    assert statuses == [302, 302]
    db.session.rollback()
    versions = db.session.scalars(
        sa.select(DocumentVersion)
        .where(DocumentVersion.document_id == document.id)
        .order_by(DocumentVersion.number)
    ).all()
    assert [v.number for v in versions] == [1, 2, 3]
    assert db.session.get(Document, document.id).current_version_number == 3
    store = blob_store()
    later = {v.blob_key for v in versions[1:]}
    assert later == {hashlib.sha256(p).hexdigest() for p in payloads}
    assert all(store.verify(key) for key in later), "both blobs are present and intact"
    indexing.drain()
    _clean_verify()


# Two workers storing one e-mail's extraction


def _email_with_two_attachments() -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@leverancier.nl", "b@x.nl", "Offerte"
    message.set_content("Zie de bijlagen.\n")
    for name in ("offerte.txt", "planning.txt"):
        message.add_attachment(f"Inhoud van {name}.\n".encode(), "text", "plain", filename=name)
    return bytes(message)


def test_two_workers_storing_one_email_file_its_attachments_once(
    app: Flask, admin: User, make_dossier: Callable[..., Dossier], threads: Threads
) -> None:
    """Both workers extracted the message while it was pending; the second to store waits for
    the first one's commit (the version's row lock), then finds it stored and files nothing."""
    dossier = make_dossier()
    with documents.receive(io.BytesIO(_email_with_two_attachments()), "bericht.eml") as upload:
        message = documents.file_document(admin, dossier, upload, kind=DocumentKind.CORRESPONDENCE)
    db.session.commit()
    version_id, message_id = message.current_version.id, message.id
    with indexing.Extractions(workers=1) as first, indexing.Extractions(workers=1) as second:
        first.start(1, version_id)
        second.start(2, version_id)
        first.store(1)  # flushed: the first worker's transaction holds the version

        def store_second() -> None:
            second.store(2)
            db.session.commit()

        threads.start(_in_app(app, store_second))
        time.sleep(1.0)
        assert threads.threads[0].is_alive(), "the second worker did not wait for the first"
        db.session.commit()
        threads.join()

    db.session.rollback()
    children = db.session.scalars(sa.select(Document).where(Document.parent_id == message_id))
    assert sorted(c.current_version.original_filename for c in children) == [
        "offerte.txt",
        "planning.txt",
    ]
    indexing.drain()
    _clean_verify()


# A dossier archived while an upload into it runs


def _archive(app: Flask, admin_id: int, dossier_id: int) -> Callable[[], None]:
    def run() -> None:
        dossier = db.session.get(Dossier, dossier_id)
        dossiers.update_dossier(
            db.session.get(User, admin_id), dossier, {"status": DossierStatus.ARCHIVED}
        )
        db.session.commit()

    return _in_app(app, run)


def _archive_event_ids(dossier_id: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.id).where(
                AuditEvent.action == "dossier.update", AuditEvent.object_id == dossier_id
            )
        )
    )


def test_an_upload_under_way_completes_before_the_archiving(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    threads: Threads,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The upload is past its check when archiving starts: archiving waits for it."""
    dossier = make_dossier()
    reached_blob, archived = threading.Event(), threading.Event()
    real_point = crash.point

    def pause_upload(name: str) -> None:
        real_point(name)
        if name == "upload.after_blob" and threading.current_thread() is uploader:
            reached_blob.set()
            # Give archiving every chance to overtake; it must wait for this transaction.
            archived.wait(timeout=1.0)

    monkeypatch.setattr(crash, "point", pause_upload)
    responses: list[Any] = []
    upload_url = f"/dossiers/{dossier.reference}/documents/new"
    client = app.test_client(user=admin)
    db.session.commit()

    def upload() -> None:
        responses.append(
            _post_file(
                client,
                upload_url,
                b"Artikel 1\nNet op tijd.\n",
                "laat.txt",
                kind="other",
                confidentiality="normal",
            )
        )

    uploader = threading.Thread(target=_in_app(app, upload))
    uploader.start()
    assert reached_blob.wait(timeout=WAIT)
    archive = _archive(app, admin.id, dossier.id)

    def archive_then_signal() -> None:
        archive()
        archived.set()

    threads.start(archive_then_signal)
    uploader.join(timeout=WAIT * 2)
    threads.join()

    assert responses[0].status_code == 302, "the upload that was under way completes"
    db.session.rollback()
    assert db.session.get(Dossier, dossier.id).status == DossierStatus.ARCHIVED
    version = db.session.scalar(
        sa.select(DocumentVersion).join(Document).where(Document.dossier_id == dossier.id)
    )
    assert version is not None and blob_store().verify(version.blob_key)
    filed_event = db.session.scalar(
        sa.select(AuditEvent.id).where(
            AuditEvent.action == "version.create", AuditEvent.object_id == version.id
        )
    )
    assert filed_event is not None
    assert all(filed_event < event for event in _archive_event_ids(dossier.id)), (
        "the document was filed before the dossier was archived"
    )
    indexing.drain()
    _clean_verify()


def test_an_upload_while_archiving_is_refused_cleanly(
    app: Flask,
    admin: User,
    make_dossier: Callable[..., Dossier],
    threads: Threads,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Archiving has changed the row but not committed when the upload checks: it waits and
    is then refused, leaving no document, version or blob behind."""
    dossier = make_dossier()
    admin_id, dossier_id = admin.id, dossier.id
    changed, upload_started = threading.Event(), threading.Event()
    db.session.commit()

    def archive_slowly() -> None:
        target = db.session.get(Dossier, dossier_id)
        dossiers.update_dossier(
            db.session.get(User, admin_id), target, {"status": DossierStatus.ARCHIVED}
        )
        db.session.flush()
        changed.set()
        assert upload_started.wait(timeout=WAIT)
        # The upload now runs into the changed row (or the write lock) and must wait.
        threading.Event().wait(0.5)
        db.session.commit()

    threads.start(_in_app(app, archive_slowly))
    assert changed.wait(timeout=WAIT)
    data = b"Artikel 1\nTe laat.\n"
    client = app.test_client(user=admin)
    responses: list[Any] = []

    def upload() -> None:
        upload_started.set()
        responses.append(
            _post_file(
                client,
                f"/dossiers/{dossier.reference}/documents/new",
                data,
                "te-laat.txt",
                kind="other",
                confidentiality="normal",
            )
        )

    threads.start(_in_app(app, upload))
    threads.join()

    response = responses[0]
    assert response.status_code == 400
    assert ARCHIVED_NL in response.text
    db.session.rollback()
    assert db.session.get(Dossier, dossier_id).status == DossierStatus.ARCHIVED
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Document)
            .where(Document.dossier_id == dossier_id)
        )
        == 0
    )
    assert hashlib.sha256(data).hexdigest() not in set(blob_store().keys())
    _clean_verify()


# Many readers while one writer indexes


def test_readers_search_while_a_writer_indexes(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
    threads: Threads,
) -> None:
    reader = make_user("lezer@example.org")
    visible = make_dossier("2025-801", members={reader: MemberRole.READER})
    hidden = make_dossier("2025-802")
    _file_text(admin, visible, "Artikel 1 Betaling\nBetaling binnen dertig dagen.\n", "b0.txt")
    indexing.drain()
    reader_id, visible_id = reader.id, visible.id
    rounds, writer_done = 12, threading.Event()
    seen: list[list[int]] = []
    db.session.commit()

    def read() -> None:
        totals: list[int] = []
        while True:
            finished = writer_done.is_set()
            with database.read_only():
                user = db.session.get(User, reader_id)
                outcome = searching.search(user, "betaling")
                db.session.rollback()
            assert not outcome.degraded, "the index stays available while it is written"
            assert all(hit.dossier_id == visible_id for hit in outcome.result.hits)
            assert all("geheim" not in hit.title for hit in outcome.result.hits)
            totals.append(outcome.result.total)
            if finished:
                break
        seen.append(totals)

    for _ in range(6):
        threads.start(_in_app(app, read))
    try:
        for number in range(1, rounds + 1):
            _file_text(admin, visible, f"Artikel 1 Betaling\nTermijn {number}.\n", f"b{number}.txt")
            _file_text(
                admin, hidden, f"Artikel 1 Betaling\ngeheim {number}\n", f"geheim{number}.txt"
            )
            indexing.drain()
    finally:
        writer_done.set()
    threads.join()

    assert len(seen) == 6
    for totals in seen:
        assert totals == sorted(totals), "a reader never sees the index go back in time"
        assert totals[-1] == rounds + 1
    _clean_verify()


# Confidential reads, each writing an audit event, while uploads run


def _reads_of(version_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == "version.read", AuditEvent.object_id == version_id
            )
        )
    )


def test_confidential_reads_while_uploads_run_never_fail_and_are_each_audited_once(
    app: Flask,
    admin: User,
    make_user: Callable[..., User],
    make_dossier: Callable[..., Dossier],
    threads: Threads,
) -> None:
    """Each read of a confidential document writes its audit event; a read transaction that
    then writes must not fail because an upload wrote in between (SQLite: database is locked).
    """
    manager = make_user("manager@example.org")
    dossier = make_dossier(members={manager: MemberRole.MANAGER})
    secret = _file_text(
        admin,
        dossier,
        "Artikel 1 Prijzen\nDe prijs per uur is geheim.\n",
        "prijzen.txt",
        Confidentiality.CONFIDENTIAL,
    )
    indexing.drain()  # its text is extracted, so the document page shows it
    page = f"/dossiers/{dossier.reference}/documents/{secret.id}"
    reads = [page, page + "/versions/1/download"]
    readers, rounds, uploaders, uploads = 6, 5, 2, 5
    barrier = threading.Barrier(readers + uploaders, timeout=WAIT)
    read_statuses: list[int] = []
    upload_statuses: list[int] = []
    version_id, admin_id, manager_id = secret.current_version.id, admin.id, manager.id
    db.session.commit()

    def read(client: FlaskClient) -> None:
        barrier.wait()
        for _ in range(rounds):
            for url in reads:
                response = client.get(url)
                read_statuses.append(response.status_code)
                response.close()

    def upload(client: FlaskClient, number: int) -> None:
        barrier.wait()
        for round_ in range(uploads):
            response = _post_file(
                client,
                f"/dossiers/{dossier.reference}/documents/new",
                f"Artikel 1\nBrief {number}.{round_}\n".encode(),
                f"brief-{number}-{round_}.txt",
                kind="correspondence",
                confidentiality="normal",
            )
            upload_statuses.append(response.status_code)

    # Clients are made here: a thread must not load the test's User objects in its session.
    for number in range(readers):
        client = app.test_client(user=(admin, manager)[number % 2])
        threads.start(_in_app(app, lambda client=client: read(client)))
    for number in range(uploaders):
        client = app.test_client(user=admin)
        threads.start(_in_app(app, lambda client=client, number=number: upload(client, number)))
    threads.join()

    assert sorted(set(read_statuses)) == [200], f"{len(read_statuses)} reads: {read_statuses}"
    assert upload_statuses == [302] * uploaders * uploads
    db.session.rollback()
    events = _reads_of(version_id)
    assert len(events) == readers * rounds * len(reads), "every read is audited exactly once"
    assert {e.actor_id for e in events} == {admin_id, manager_id}
    indexing.drain()
    _clean_verify()


# A writer that holds the database too long: a clear 503 with Retry-After, never a 500


@contextmanager
def _database_held(url: str) -> Iterator[None]:
    """Another connection holds what writers need: SQLite's write lock, or on PostgreSQL the
    lock that serialises audit-chain appends."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(audit._CHAIN_LOCK_ID)))
            try:
                yield
            finally:
                connection.rollback()
    finally:
        engine.dispose()


@pytest.fixture
def impatient(app: Flask, tmp_path: Path) -> Iterator[Flask]:
    """A second application on the same database and files that waits only 0.1 s for a lock."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    waits = (
        {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": "-c lock_timeout=100"}}}
        if url.startswith("postgresql")
        else {"SQLITE_BUSY_TIMEOUT_MS": 100}
    )
    impatient = create_app(_config(tmp_path, url) | waits)
    impatient.test_client_class = Client
    yield impatient
    with impatient.app_context():
        db.engine.dispose()


def test_a_writer_holding_the_database_too_long_gives_503_and_nothing_half_done(
    app: Flask, impatient: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    dossier = make_dossier()
    secret = _file_text(
        admin, dossier, "Artikel 1\nGeheim.\n", "geheim.txt", Confidentiality.CONFIDENTIAL
    )
    version_id = secret.current_version.id
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    client = impatient.test_client(user=admin)
    download = f"/dossiers/{dossier.reference}/documents/{secret.id}/versions/1/download"
    db.session.commit()

    with _database_held(url):
        busy = client.get(download)
        busy.close()
    assert busy.status_code == 503
    assert busy.headers["Retry-After"].isdigit()
    assert "probeer het zo opnieuw" in busy.text
    db.session.rollback()
    assert _reads_of(version_id) == [], "the refused read is not recorded"

    response = client.get(download)
    response.close()
    assert response.status_code == 200, "the same request succeeds once the lock is free"
    db.session.rollback()
    assert len(_reads_of(version_id)) == 1
    _clean_verify()


def test_a_write_request_waiting_too_long_for_sqlite_gives_503(
    app: Flask, impatient: Flask, admin: User, make_dossier: Callable[..., Dossier]
) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL has no database-wide write lock")
    dossier = make_dossier()
    client = impatient.test_client(user=admin)
    db.session.commit()

    with _database_held(url):
        busy = _post_file(
            client,
            f"/dossiers/{dossier.reference}/documents/new",
            b"Artikel 1\nBrief.\n",
            "brief.txt",
            kind="correspondence",
            confidentiality="normal",
        )
    assert busy.status_code == 503 and "Retry-After" in busy.headers
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0

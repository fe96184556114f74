"""Turning filed versions into text, clauses and index entries, driven by the outbox.

Outbox topics (`OutboxTopic`), each handled by one stage below:
- `version.extract` (extraction stage): extract the version's text and clauses in a sandboxed
  worker process (`EXTRACT_WORKERS` versions at once), store text, status and clauses, hand the
  result to the filing step, then queue `document.index`. Versions are stored and committed one
  by one, in outbox order, by the draining thread alone.
- `document.index` (index stage): (re)write every unit of one document in the search index.
- `document.remove` (index stage): take a withdrawn document out of the index.
- `dossier.index` (index stage): a dossier's indexed fields changed; re-index its documents.
- `webhook.deliver`: sent by `dossier.webhook_delivery.deliver_due`, which the drain runs as well.

Extraction returns what it found besides text (an e-mail's headers and attachments, saved as
files in the extraction's scratch folder); this module stores only text and clauses and never
files documents. The filing step (`FilingStep`, given by the application factory:
`dossier.messages.file_from_extraction`) files them, called by the drain right after a version's
text is stored and in the same transaction, so both commit together with the removal of the
outbox item. Why there and not in an outbox topic of its own: see `dossier.messages`.

Work is claimed (`dossier.outbox`: SKIP LOCKED, leases, back-off), so any number of drains
in any number of processes and machines share it, and removed only after it succeeded, so a
crash repeats work and never loses it; every step is idempotent. Extraction runs in every
drain at once; one drain at a time writes the index (`writer_lock`: a file lock beside the
embedded index, a PostgreSQL advisory lock for an index every node shares), and a version's
outcome is stored under its row lock, so two workers never store (or file from) one
extraction twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context
from sqlalchemy.orm import Session

from dossier import crash, database, outbox, timings, webhook_delivery
from dossier.extensions import db
from dossier.models import (
    Clause,
    Document,
    DocumentVersion,
    Dossier,
    ExtractionStatus,
    OutboxItem,
    OutboxTopic,
    utcnow,
)
from dossier.services import blob_store
from ingest.clauses import Clause as SegmentedClause
from ingest.clauses import context_headings, in_definitions, segment
from ingest.clauses_markdown import readable
from ingest.extract import Extraction, Limits, abort_extractions, extract
from search.backend import SearchBackend, open_backend
from search.clause_types import classify, join_types
from search.types import IndexUnavailable, Unit
from storage import BlobStore

log = logging.getLogger(__name__)

BATCH = 50
EXTRACT_BATCH = 10
MAX_ATTEMPTS = outbox.MAX_ATTEMPTS
# The PostgreSQL advisory lock of the shared index's single writer (an arbitrary constant).
_WRITER_LOCK_KEY = 0x0D055E4
# The stage that handles each topic; `drain` runs both, so every topic listed here is worked off.
EXTRACTION_TOPICS = (OutboxTopic.VERSION_EXTRACT,)
INDEX_TOPICS = (OutboxTopic.DOCUMENT_INDEX, OutboxTopic.DOCUMENT_REMOVE, OutboxTopic.DOSSIER_INDEX)
# What filing does with a stored extraction (file an e-mail's attachments, fill its blank
# details): called in the transaction that stores the version's text, it flushes, never commits,
# and copies what it keeps out of the scratch folder, which is removed once it returns.
FilingStep = Callable[[DocumentVersion, Extraction], None]
_kick_lock = threading.Lock()
_kicked: set[int] = set()


def init_app(app: Flask, *, filing: FilingStep) -> None:
    """Open the index, take the filing step and, embedded, drain the outbox after each commit."""
    app.extensions["dossier.filing"] = filing
    app.extensions["dossier.index"] = open_search_backend(app.config)
    if app.config["INDEXING"] == "thread":
        sa.event.listen(db.session, "after_commit", _after_commit)
        sa.event.listen(db.session, "after_flush", _after_flush)


def open_search_backend(config: Mapping[str, Any], name: str | None = None) -> SearchBackend:
    """The search backend the settings name (or `name`); ValueError with the reason when the
    settings cannot work (the postgres backend over an SQLite database)."""
    name = name or config["SEARCH_BACKEND"]
    url = config.get("SEARCH_DATABASE_URL") or config["SQLALCHEMY_DATABASE_URI"]
    if name == "postgres" and not url.startswith("postgresql"):
        raise ValueError(
            "SEARCH_BACKEND = 'postgres' needs PostgreSQL: set DOSSIER_DATABASE_URL (or "
            "DOSSIER_SEARCH_DATABASE_URL) to a postgresql:// database, or use the 'whoosh' backend"
        )
    return open_backend(
        name, directory=config["INDEX_DIR"], database_url=url, schema=config["SEARCH_SCHEMA"]
    )


def search_index() -> SearchBackend:
    return current_app.extensions["dossier.index"]


def _after_flush(session: sa.orm.Session, _context: object) -> None:
    if any(isinstance(obj, OutboxItem) for obj in session.new):
        session.info["outbox_written"] = True


def _after_commit(session: sa.orm.Session) -> None:
    # Only web requests hand work to the background thread; a CLI command would exit under it,
    # so commands drain the outbox themselves (and `dossier run` picks up anything left).
    # The hook sits on the process-wide session, so it asks the app of this request: another app
    # in the process (tests make several) may have registered it.
    if (
        session.info.pop("outbox_written", False)
        and has_request_context()
        and current_app.config["INDEXING"] == "thread"
    ):
        kick(current_app._get_current_object())


def kick(app: Flask) -> None:
    """Drain the outbox in a background thread of this process (one at a time)."""
    with _kick_lock:
        if id(app) in _kicked:
            app.extensions["dossier.rekick"] = True
            return
        _kicked.add(id(app))
    threading.Thread(target=_drain_in_thread, args=(app,), daemon=True, name="indexer").start()


def _drain_in_thread(app: Flask) -> None:
    try:
        while True:
            app.extensions["dossier.rekick"] = False
            with app.app_context():
                drain()
            if not app.extensions.get("dossier.rekick"):
                break
    except Exception:
        log.exception("background indexing failed; the outbox keeps the work")
    finally:
        with _kick_lock:
            _kicked.discard(id(app))


@contextmanager
def writer_lock(blocking: bool = True) -> Iterator[bool]:
    """The index's single writer; yields False when not blocking and another holds it.

    The embedded index lives on this machine: a file lock beside it. An index every node shares
    (any other backend, on PostgreSQL) takes a PostgreSQL advisory lock on a connection of its
    own, held for the block: drains on every machine then take turns.
    """
    if current_app.config["SEARCH_BACKEND"] != "whoosh" and db.engine.dialect.name == "postgresql":
        with _advisory_lock(blocking) as taken:
            yield taken
        return
    os.makedirs(os.path.dirname(_lock_path()), exist_ok=True)
    with open(_lock_path(), "a+") as handle:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(handle, flags)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(blocking: bool) -> Iterator[bool]:
    with db.engine.connect() as connection:
        if blocking:
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _WRITER_LOCK_KEY})
        elif not connection.scalar(
            sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": _WRITER_LOCK_KEY}
        ):
            connection.rollback()
            yield False
            return
        connection.commit()  # the lock is the session's, not the transaction's
        try:
            yield True
        finally:
            connection.execute(
                sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _WRITER_LOCK_KEY}
            )
            connection.commit()


def _lock_path() -> str:
    return os.path.join(
        os.path.dirname(os.path.abspath(current_app.config["INDEX_DIR"])), "index-writer.lock"
    )


def drain(max_items: int | None = None, extractions: Extractions | None = None) -> int:
    """Process pending outbox work until none is left (or `max_items`); returns items done.

    `extractions` may hold extractions a caller began with `begin_extractions` (and closes).
    """
    with contextlib.ExitStack() as stack:
        if extractions is None:
            extractions = stack.enter_context(Extractions())
        return _drain(max_items, extractions)


def _drain(max_items: int | None, extractions: Extractions) -> int:
    done = 0
    outbox.release_dead_claimants()
    webhook_delivery.tidy()
    with writer_lock(), timings.timed("indexing"):
        ensure_index()
    while max_items is None or done < max_items:
        # Webhook deliveries (dossier/webhooks.py) ride along: a filing queues them too.
        step = (
            _process_extractions(extractions)
            + _process_index_work()
            + webhook_delivery.deliver_due()
        )
        if step == 0:
            break
        done += step
    return done


def pending() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxItem)) or 0


def ensure_index() -> None:
    """Create or rebuild a missing or corrupt index from the database (rule 3)."""
    index = search_index()
    if not index.exists():  # a new instance, or the index was removed: nothing to warn about
        log.info("no search index yet; building it from the database")
        rebuild()
        return
    try:
        index.check()
    except IndexUnavailable as exc:
        log.warning("search index unavailable (%s); rebuilding from the database", exc)
        rebuild()


def _upcoming(topics: tuple[OutboxTopic, ...], limit: int) -> list[tuple[int, int]]:
    """(item id, object id) of the next due items nobody holds, without claiming them."""
    now = utcnow()
    return [
        (row.id, row.object_id)
        for row in db.session.execute(
            sa.select(OutboxItem.id, OutboxItem.object_id)
            .where(
                OutboxItem.topic.in_(topics),
                OutboxItem.attempts < MAX_ATTEMPTS,
                sa.or_(OutboxItem.claimed_until.is_(None), OutboxItem.claimed_until < now),
                sa.or_(OutboxItem.not_before.is_(None), OutboxItem.not_before <= now),
            )
            .order_by(OutboxItem.id)
            .limit(limit)
        )
    ]


def _process_extractions(extractions: Extractions) -> int:
    """Extract a few versions (each committed on its own) before their index work is done.

    Index work then goes in one batch: a Whoosh commit per document would cost more than the
    extraction of a small document.
    """
    with timings.timed("storing"):
        return _extract_batch(extractions)


def _extract_batch(extractions: Extractions) -> int:
    """Extract up to EXTRACT_WORKERS versions at once; store them one by one, in outbox order.

    The extractions run in sandboxed worker processes, waited for by threads that touch
    neither the database nor the app; this thread alone reads and writes the database, so
    there is one writer and every version still commits on its own (rule 1). Before it
    returns, the first files of the next batch are begun, to be extracted during the index work.
    """
    items = [(item_id, version_id) for item_id, _, version_id in _claim(EXTRACTION_TOPICS)]
    if not items:
        return 0
    ahead = extractions.workers
    extractions.keep_only({item_id for item_id, _version_id in items})
    for item_id, version_id in items[:ahead]:
        extractions.start(item_id, version_id)
    for position, (item_id, _version_id) in enumerate(items):
        # Keep the workers busy while this thread waits for and stores the next result.
        if position + ahead < len(items):
            extractions.start(*items[position + ahead])
        try:
            extractions.store(item_id)
            crash.point("indexing.after_extract")
            outbox.done([item_id])
            outbox.renew(i for i, _ in items[position + 1 :])
            db.session.commit()
            crash.point("indexing.after_extract_commit")
        except Exception as exc:  # recorded on the item and retried later; never lost
            db.session.rollback()
            _record_failure(item_id, exc)
    begin_extractions(extractions, extractions.ahead)
    return len(items)


def begin_extractions(extractions: Extractions, count: int = EXTRACT_BATCH) -> None:
    """Begin extracting the first `count` versions waiting in the outbox (those not begun yet).

    The drain that later takes them stores what was extracted: `dossier import` calls this
    after each filed file, so the workers extract while the next files are filed. Only a
    head start: if reading the outbox fails, the drain does the work as usual.
    """
    try:
        with database.read_only():
            upcoming = _upcoming(EXTRACTION_TOPICS, count)
            db.session.commit()
    except Exception as exc:
        db.session.rollback()
        log.warning("could not look ahead in the outbox: %s", exc)
        return
    for item_id, version_id in upcoming:
        extractions.start(item_id, version_id)


def _process_index_work() -> int:
    """Index a batch of documents in one Whoosh commit, then remove their outbox items.

    The units are read and the index written outside any write transaction (on SQLite that
    would hold the database's write lock through the Whoosh commit).
    """
    with timings.timed("indexing"):
        return _index_batch()


def _index_batch() -> int:
    # One writer at a time: it reads the units after claiming, so a change committed later has
    # an item of its own that a later batch (of whichever drain) applies after this one.
    with writer_lock():
        items = _claim(INDEX_TOPICS)
        if not items:
            return 0
        item_ids = [item_id for item_id, _, _ in items]
        try:
            with database.read_only():
                documents = sorted(_documents_of(items))
                changes = [(doc_id, units_for(doc_id)) for doc_id in documents]
                db.session.commit()
            search_index().apply(changes)
            crash.point("indexing.after_index_commit")
            outbox.done(item_ids)
            db.session.commit()
            crash.point("indexing.after_outbox_done")
        except Exception as exc:
            db.session.rollback()
            for item_id in item_ids:
                _record_failure(item_id, exc)
        return len(item_ids)


def _claim(topics: tuple[OutboxTopic, ...]) -> list[outbox.Claimed]:
    limit = EXTRACT_BATCH if topics == EXTRACTION_TOPICS else BATCH
    return outbox.claim(topics, limit)


def _documents_of(items: list[outbox.Claimed]) -> set[int]:
    ids = {object_id for _, topic, object_id in items if topic != OutboxTopic.DOSSIER_INDEX}
    dossier_ids = [object_id for _, topic, object_id in items if topic == OutboxTopic.DOSSIER_INDEX]
    if dossier_ids:
        ids |= set(
            db.session.scalars(sa.select(Document.id).where(Document.dossier_id.in_(dossier_ids)))
        )
    return ids


def _record_failure(item_id: int, exc: Exception) -> None:
    log.warning("outbox item %s failed: %s", item_id, exc)
    outbox.failed(item_id, exc)


def extract_version(version_id: int) -> None:
    """Extract one version's text and clauses into the database and queue its indexing.

    The extraction runs outside any transaction: on SQLite a write transaction would hold the
    database's write lock, and uploads would wait for the slowest document.
    """
    with Extractions(workers=1) as extractions:
        extractions.start(0, version_id)
        extractions.store(0)


class _Extraction:
    """One version's extraction: its scratch folder and the thread's pending result."""

    def __init__(self, version_id: int, scratch: tempfile.TemporaryDirectory[str]) -> None:
        self.version_id = version_id
        self.scratch = scratch
        self.found = False  # the version exists
        self.error: Exception | None = None  # reading the version failed
        self.result: Future[Extraction] | None = None  # None when there is nothing to extract


class Extractions:
    """Extractions running in threads (each waiting on a sandboxed worker), stored in order.

    Use as a context manager: leaving it waits for running extractions and removes what they
    left. By default EXTRACT_WORKERS run at once.

    `start` reads what to extract in this thread and hands the work to a thread (once per
    key: an outbox item's id); `store` waits for it and writes the outcome in this thread's
    session, leaving the commit to the caller. Each scratch folder lives until its version is
    stored and the filing step has filed the e-mail attachments in it; at most `workers`
    extractions run at once.
    """

    def __init__(self, workers: int | None = None) -> None:
        if workers is None:
            workers = max(1, int(current_app.config["EXTRACT_WORKERS"]))
        self.workers = workers
        # How many files of the next batch begin before the index work (which runs here).
        self.ahead = 2 * workers
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="extract")
        self._started: dict[int, _Extraction] = {}
        self._store = blob_store()
        self._limits = Limits(wall_seconds=current_app.config["EXTRACT_TIMEOUT"])
        self._ocr = bool(current_app.config["OCR"])
        self._filing: FilingStep = current_app.extensions["dossier.filing"]

    def __enter__(self) -> Extractions:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        if exc_type is not None and not issubclass(exc_type, Exception):
            # Interrupted (Ctrl-C): end the extractions now rather than wait for their files.
            abort_extractions()
        self.keep_only(set())
        self._threads.shutdown(wait=True)

    def keep_only(self, keys: set[int]) -> None:
        """Drop the extractions begun for other keys (waiting for any that already runs)."""
        for key in [k for k in self._started if k not in keys]:
            extraction = self._started.pop(key)
            self._finish(extraction)

    @staticmethod
    def _finish(extraction: _Extraction) -> None:
        """Cancel or wait for the extraction's thread, then remove its scratch folder."""
        if extraction.result is not None:
            extraction.result.cancel()
            with contextlib.suppress(BaseException):
                extraction.result.exception()  # never remove a folder still in use
        extraction.scratch.cleanup()

    def start(self, key: int, version_id: int) -> None:
        """Begin extracting a version that is still pending (read in a read-only transaction)."""
        if key in self._started:
            return
        scratch = tempfile.TemporaryDirectory(dir=_scratch_dir())
        extraction = self._started[key] = _Extraction(version_id, scratch)
        try:
            with database.read_only():
                version = db.session.get(DocumentVersion, version_id)
                todo = version is not None and version.extraction_status == ExtractionStatus.PENDING
                source = (version.blob_key, version.file_kind) if todo and version else None
                extraction.found = version is not None
                db.session.commit()
        except Exception as exc:  # raised again by store(), for this version's item
            db.session.rollback()
            extraction.error = exc
            return
        if source is not None:
            extraction.result = self._threads.submit(
                _extract_blob, self._store, *source, Path(scratch.name), self._limits, self._ocr
            )

    def store(self, key: int) -> None:
        """Wait for a started extraction and store it in the session (flushed, not committed).

        Raises what the extraction raised (a missing blob, ...), for the caller to record.
        """
        extraction = self._started.pop(key)
        try:
            if extraction.error is not None:
                raise extraction.error
            if not extraction.found:
                return
            result = None
            if extraction.result is not None:
                with timings.timed("extraction"):
                    result = extraction.result.result()
            version = _locked_version(extraction.version_id)
            if version is None:
                return
            if result is not None and version.extraction_status == ExtractionStatus.PENDING:
                _store_extraction(version, result)
                self._filing(version, result)  # before the scratch folder goes, below
            db.session.add(
                OutboxItem(topic=OutboxTopic.DOCUMENT_INDEX, object_id=version.document_id)
            )
            db.session.flush()
        finally:
            self._finish(extraction)


def _locked_version(version_id: int) -> DocumentVersion | None:
    """The version reloaded under its row lock: a second worker storing the same extraction
    waits here, then finds it stored and leaves it (and its attachments) alone."""
    return db.session.scalars(
        database.lock_row(
            sa.select(DocumentVersion).where(DocumentVersion.id == version_id)
        ).execution_options(populate_existing=True)
    ).one_or_none()


def _scratch_dir() -> str:
    path = current_app.config["STAGING_DIR"]
    os.makedirs(path, exist_ok=True)
    return path


def _extract_blob(
    store: BlobStore, blob_key: str, file_kind: str, scratch: Path, limits: Limits, ocr: bool
) -> Extraction:
    """Copy a blob into scratch and extract it in a sandboxed worker (runs in a thread)."""
    with timings.timed("extraction_busy"):
        source = scratch / f"source.{file_kind}"
        with store.open(blob_key) as blob, source.open("wb") as target:
            shutil.copyfileobj(blob, target)
        attachments = scratch / "attachments"
        attachments.mkdir()
        result = extract(
            source, file_kind, attachments_dir=attachments, limits=limits, ocr=ocr, clauses=True
        )
        source.unlink()  # the attachments stay until the version is stored
        return result


def _store_extraction(version: DocumentVersion, result: Extraction) -> None:
    version.extraction_status = ExtractionStatus(result.status.value)
    version.extraction_detail = result.detail[:2000]
    version.page_count = result.page_count
    version.text = result.text
    version.extracted_at = utcnow()
    clauses = result.clauses  # segmented in the extraction worker
    if clauses is None:
        with timings.timed("clauses"):
            clauses = segment(result.text, markdown=version.file_kind == "md")
    version.clauses = _clause_rows(clauses, paged=bool(result.page_count))
    db.session.flush()


def _clause_rows(clauses: list[SegmentedClause], paged: bool) -> list[Clause]:
    return [
        Clause(
            number=c.number[:32],
            heading=c.heading[:500],
            text=c.text,
            # Only paged formats (PDF, scans) have pages; DOCX, XLSX, text and mail have none.
            page=c.page if paged else None,
            position=c.position,
            clause_types=join_types(types),
        )
        for c, types in zip(clauses, clause_types_of(clauses), strict=True)
    ]


def clause_types_of(clauses: Sequence[SegmentedClause | Clause]) -> list[tuple[str, ...]]:
    """The clause types of each clause of a version: from its heading or, for a sub-clause
    without one, its article's heading, and its text (search.clause_types)."""
    with timings.timed("clause_types"):
        return [
            classify(c.heading, c.text, context_heading=heading)
            for c, heading in zip(clauses, context_headings(clauses), strict=True)
        ]


def versions_with_text() -> list[int]:
    """Ids of the versions whose stored text is split into clauses, in id order."""
    return list(
        db.session.scalars(
            sa.select(DocumentVersion.id)
            .where(DocumentVersion.text.is_not(None))
            .order_by(DocumentVersion.id)
        )
    )


def resegment(version_ids: list[int]) -> int:
    """Split the stored text of these versions into clauses again, as an upgrade that changes
    clause segmentation needs; returns how many versions' clauses changed. Flushes; the caller
    commits and then rebuilds the index, whose units are the clauses."""
    changed = 0
    versions = db.session.scalars(
        sa.select(DocumentVersion).where(DocumentVersion.id.in_(version_ids))
    )
    for version in versions:
        rows = _clause_rows(
            segment(version.text or "", markdown=version.file_kind == "md"),
            paged=bool(version.page_count),
        )
        if _clause_fields(rows) != _clause_fields(version.clauses):
            version.clauses = rows
            changed += 1
        elif [r.clause_types for r in rows] != [c.clause_types for c in version.clauses]:
            # The same clauses, classified anew (the thesaurus or the classifier changed):
            # the rows keep their ids.
            for row, clause in zip(rows, version.clauses, strict=True):
                clause.clause_types = row.clause_types
            changed += 1
    db.session.flush()
    return changed


def _clause_fields(clauses: list[Clause]) -> list[tuple[object, ...]]:
    return [(c.position, c.number, c.heading, c.page, c.text) for c in clauses]


def units_for(document_id: int, session: Session | None = None) -> list[Unit] | None:
    """Every index unit of a document's versions, or None when it must leave the index."""
    document = (session or db.session).get(Document, document_id)
    if document is None or document.withdrawn_at is not None:
        return None
    dossier = document.dossier
    units: list[Unit] = []
    for version in document.versions:
        units.extend(_version_units(document, dossier, version))
    return units


def _version_units(document: Document, dossier: Dossier, version: DocumentVersion) -> list[Unit]:
    common = {
        "document_id": document.id,
        "version_id": version.id,
        "version_number": version.number,
        "is_current": version.number == document.current_version_number,
        "dossier_id": dossier.id,
        "dossier_reference": dossier.reference,
        "supplier": dossier.supplier.name if dossier.supplier else "",
        "dossier_status": dossier.status.value,
        "kind": document.kind.value,
        "title": document.title,
        "document_date": document.document_date or version.uploaded_at.date(),
    }
    clauses = version.clauses
    if not clauses:
        text = " ".join(
            filter(None, [document.title, version.original_filename, document.correspondent])
        )
        return [
            Unit(
                unit_id=f"{version.id}:0",
                clause_number="",
                heading="",
                page=None,
                position=0,
                is_clause=False,
                text=text,
                **common,
            )
        ]
    headings = context_headings(clauses)
    return [
        Unit(
            unit_id=f"{version.id}:{c.position}",
            clause_number=c.number,
            heading=heading,
            page=c.page if version.page_count else None,
            position=c.position,
            is_clause=bool(c.number or c.heading),
            # Markdown is searched and shown as read: without marks, links' addresses or tags.
            text=readable(c.text) if version.file_kind == "md" else c.text,
            clause_types=c.types,
            definition=in_definitions(heading),
            **common,
        )
        for c, heading in zip(clauses, headings, strict=True)
    ]


def all_units() -> Iterator[Unit]:
    """Every unit of every document that belongs in the index, streamed in id order.

    Reads through a private read-only session that it empties as it goes, so memory stays
    flat over 100,000 documents and the caller's session is left alone.
    """
    with database.read_only(), Session(db.engine) as session:
        ids = session.scalars(
            sa.select(Document.id).where(Document.withdrawn_at.is_(None)).order_by(Document.id)
        ).all()
        for start in range(0, len(ids), 200):
            for document_id in ids[start : start + 200]:
                yield from units_for(document_id, session) or []
            session.expunge_all()


def rebuild(progress: object = None, processes: int = 1, index: SearchBackend | None = None) -> int:
    """Rebuild the whole index (this app's, or `index`) from the text stored in the database;
    returns documents.

    ``processes`` > 1 forks indexing processes: only from a command, never in a web server.
    """
    count = db.session.scalar(
        sa.select(sa.func.count()).select_from(Document).where(Document.withdrawn_at.is_(None))
    )
    (index or search_index()).rebuild(all_units(), progress, processes=processes)  # type: ignore[arg-type]
    return count or 0

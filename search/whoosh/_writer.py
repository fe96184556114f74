"""Writing segments: a writer and pool that group postings by term as documents come in.

Whoosh's SegmentWriter turns every posting into a tuple, puts it in a pool that sorts all of
them (spilling sorted runs to disk past its memory limit and merging them back), and flushes
the sorted stream one posting per call. For units this was most of indexing time. Here postings
go straight into a per-term list as each unit is analysed (units arrive in docnum order, so
every list is already sorted), positions are packed into one byte string per term, and a flush
writes each term's postings a whole block at a time. The files are the same W3 files.

``index_units`` fills a fresh index from a stream of units in this process or, with
``processes`` > 1, in forked worker processes that each write their own segments.
"""

from __future__ import annotations

import multiprocessing
import queue
from array import array
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from whoosh.index import Index
from whoosh.writing import MERGE_SMALL, SegmentWriter

from search.analysis import WordTokenizer, occurrences
from search.types import Unit
from search.whoosh._codec import UnitCodec
from search.whoosh._format import PackedPositions, pack_into
from search.whoosh._schema import to_document

__all__ = ["TermPool", "UnitWriter", "index_units", "merge_small"]

# A segment of a rebuild holds about this many units; the pool of one segment stays near
# 20 bytes per posting (about 80 postings per unit), so its memory is bounded.
SEGMENT_UNITS = 200_000
# Segments of at least this many units are never merged by a commit (see merge_small).
MERGE_LIMIT_UNITS = 50_000
# Units handed to a worker process at a time (always whole documents).
BATCH_UNITS = 2_000
WORKER_POLL_SECONDS = 1.0


class _Postings:
    """One term's postings in a new segment: docnums, weights and the packed values."""

    __slots__ = ("docs", "weights", "values", "ends", "ordered")

    def __init__(self) -> None:
        self.docs = array("I")
        self.weights = array("f")
        self.values = bytearray()
        self.ends = array("I")
        self.ordered = True

    def add(self, docnum: int, weight: float, value: bytes) -> None:
        docs = self.docs
        if docs and docnum <= docs[-1]:
            self.ordered = False
        docs.append(docnum)
        self.weights.append(weight)
        self.values += value
        self.ends.append(len(self.values))

    def columns(self) -> tuple[Any, Any, list[bytes]]:
        """(docnums, weights, values) in docnum order; values is empty when no posting has one."""
        values: list[bytes] = []
        if self.values:
            data = bytes(self.values)
            values = [data[a:b] for a, b in zip((0, *self.ends), self.ends, strict=False)]
        if self.ordered:
            return self.docs, self.weights, values
        order = sorted(range(len(self.docs)), key=self.docs.__getitem__)
        return (
            array("I", (self.docs[i] for i in order)),
            array("f", (self.weights[i] for i in order)),
            [values[i] for i in order] if values else [],
        )


class TermPool:
    """The postings of one new segment, by field and term (stands in for Whoosh's PostingPool)."""

    def __init__(self) -> None:
        self.fields: dict[str, dict[bytes, _Postings]] = {}
        self.fieldnames: set[str] = set()

    def add(self, item: tuple[str, bytes, int, float, bytes | None]) -> None:
        """Whoosh's pool interface: one (field, term, docnum, weight, value) posting."""
        fieldname, term, docnum, weight, value = item
        terms = self._terms(fieldname)
        postings = terms.get(term)
        if postings is None:
            postings = terms[term] = _Postings()
        postings.add(docnum, weight, value or b"")

    def add_positions(self, fieldname: str, docnum: int, found: dict[str, list[int]]) -> int:
        """Add one unit's terms with their positions (PackedPositions); return the field length."""
        terms = self._terms(fieldname)
        length = 0
        for stem, positions in found.items():
            term = stem.encode("utf-8")
            postings = terms.get(term)
            if postings is None:
                postings = terms[term] = _Postings()
            count = len(positions)
            length += count
            postings.docs.append(docnum)
            postings.weights.append(count)
            pack_into(postings.values, positions)
            postings.ends.append(len(postings.values))
        return length

    def write(self, fieldwriter: Any, schema: Any) -> None:
        """Write every term's postings, fields and terms in sorted order."""
        for fieldname in sorted(self.fields):
            fieldwriter.start_field(fieldname, schema[fieldname])
            terms = self.fields[fieldname]
            for term in sorted(terms):
                fieldwriter.start_term(term)
                fieldwriter.add_term_postings(*terms[term].columns())
                fieldwriter.finish_term()
            fieldwriter.finish_field()

    def cleanup(self) -> None:
        self.fields.clear()

    def _terms(self, fieldname: str) -> dict[bytes, _Postings]:
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        return terms


class UnitWriter(SegmentWriter):
    """A SegmentWriter with a TermPool and a short path for our own text fields."""

    def __init__(self, ix: Index, **kwargs: Any) -> None:
        kwargs.setdefault("codec", UnitCodec())
        super().__init__(ix, **kwargs)
        self.pool = TermPool()

    def add_document(self, **fields: Any) -> None:
        """Add one document; text fields with our analyzer and packed positions skip Whoosh's
        per-posting tuples. Boosts (``_boost`` and the like) are not supported."""
        self._check_state()
        perdoc = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        self._check_fields(schema, fields)
        perdoc.start_doc(docnum)
        try:
            for fieldname in sorted(fields):
                value = fields[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    length = self._index_field(fieldname, field, value, docnum)
                perdoc.add_field(fieldname, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdoc.add_column_value(fieldname, column, field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _index_field(self, fieldname: str, field: Any, value: Any, docnum: int) -> int:
        """Put one field's postings in the pool; return its length (for scoring)."""
        analyzer = field.analyzer if field.format is not None else None
        if isinstance(field.format, PackedPositions) and isinstance(analyzer, WordTokenizer):
            found = occurrences(value, analyzer.detect)
            length = self.pool.add_positions(fieldname, docnum, found)
            return length if field.scorable else 0
        length = 0
        add = self.pool.add
        for term, frequency, weight, data in field.index(value):
            length += frequency
            add((fieldname, term, docnum, weight, data))
        return length if field.scorable else 0

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        self.pool.write(self.fieldwriter, self.schema)
        self.fieldwriter.close()

    def finish_segment(self) -> Any:
        """Write out this writer's segment and return it (the caller lists it in the index)."""
        return self._finalize_segment()


def merge_small(writer: SegmentWriter, segments: list[Any]) -> list[Any]:
    """Whoosh's MERGE_SMALL policy over the segments under MERGE_LIMIT_UNITS only.

    MERGE_SMALL merges the smallest segments while their running total stays under a Fibonacci
    number of their rank; with the thirty or so segments of a large rebuild the rank outgrows
    the total and the first commit after it merged the largest segments, re-indexing hundreds
    of thousands of units in memory. Large segments are left as they are (a rebuild compacts).
    """
    large = [s for s in segments if s.doc_count_all() >= MERGE_LIMIT_UNITS]
    small = [s for s in segments if s.doc_count_all() < MERGE_LIMIT_UNITS]
    return large + MERGE_SMALL(writer, small)


def index_units(
    ix: Index,
    units: Iterable[Unit],
    progress: Callable[[int], None] | None,
    processes: int,
    progress_every: int,
) -> int:
    """Index units into an empty index and commit; return the number of documents seen.

    With ``processes`` > 1, forked workers index batches of whole documents in parallel, each
    into segments of its own. Fork only from a command or worker process (never from a
    threaded web server).
    """
    owner = UnitWriter(ix)
    try:
        batches = _Batches(units, progress, progress_every)
        if processes > 1:
            segments = _index_in_workers(ix, batches, processes)
        else:
            segments = _index_here(ix, (unit for batch in batches.iterate() for unit in batch))
        owner._close_segment()
        owner._commit_toc(segments)
        owner._finish()
    except BaseException:
        owner.cancel()
        raise
    return batches.documents


class _Batches:
    """Units in batches of whole documents, counting documents and reporting progress."""

    def __init__(
        self, units: Iterable[Unit], progress: Callable[[int], None] | None, every: int
    ) -> None:
        self.units, self.progress, self.every = units, progress, every
        self.documents = 0

    def iterate(self) -> Iterator[list[Unit]]:
        batch: list[Unit] = []
        last: int | None = None
        for unit in self.units:
            if unit.document_id != last:
                if len(batch) >= BATCH_UNITS:
                    yield batch
                    batch = []
                last = unit.document_id
                self.documents += 1
                if self.progress is not None and self.documents % self.every == 0:
                    self.progress(self.documents)
            batch.append(unit)
        if batch:
            yield batch


def _index_here(ix: Index, units: Iterable[Unit]) -> list[Any]:
    """Index units in this process into segments of about SEGMENT_UNITS; return the segments."""
    segments = []
    writer: UnitWriter | None = None
    last: int | None = None
    try:
        for unit in units:
            if (
                writer is not None
                and unit.document_id != last
                and writer.doc_count() >= SEGMENT_UNITS
            ):
                segments.append(writer.finish_segment())
                writer = None
            if writer is None:
                writer = UnitWriter(ix, _lk=False)
            last = unit.document_id
            writer.add_document(**to_document(unit))
        if writer is not None and writer.doc_count():
            segments.append(writer.finish_segment())
            writer = None
    finally:
        if writer is not None:
            writer._close_segment()
    return segments


def _index_in_workers(ix: Index, batches: _Batches, processes: int) -> list[Any]:
    """Hand batches to forked workers; return all their segments (raise if any worker fails)."""
    context = multiprocessing.get_context("fork")
    jobs: Any = context.Queue(processes * 2)
    results: Any = context.Queue()
    workers = [
        context.Process(target=_work, args=(ix, jobs, results), daemon=True)
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        for batch in batches.iterate():
            _put(jobs, batch, workers)
        for _ in workers:
            _put(jobs, None, workers)
        segments: list[Any] = []
        for _ in workers:
            failure, found = _get(results, workers)
            if failure:
                raise RuntimeError(f"an indexing process failed: {failure}")
            segments.extend(found)
        for worker in workers:
            worker.join()
        return segments
    except BaseException:
        # Batches no worker will take must not keep this process from exiting.
        jobs.cancel_join_thread()
        raise
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
        jobs.close()
        results.close()


def _work(ix: Index, jobs: Any, results: Any) -> None:
    """Worker process: index the batches it takes until None; report its segments or failure."""

    def units() -> Iterator[Unit]:
        while (batch := jobs.get()) is not None:
            yield from batch

    try:
        segments = _index_here(ix, units())
    except BaseException as exc:  # reported to the parent, which raises
        results.put((repr(exc), []))
        return
    results.put(("", segments))


def _put(jobs: Any, item: Any, workers: list[Any]) -> None:
    """Queue a job, failing if every worker has died (nobody would ever take it)."""
    while True:
        try:
            jobs.put(item, timeout=WORKER_POLL_SECONDS)
            return
        except queue.Full:
            _check_alive(workers)
            if not any(worker.is_alive() for worker in workers):
                raise RuntimeError("every indexing process has stopped") from None


def _get(results: Any, workers: list[Any]) -> tuple[str, list[Any]]:
    """The next worker's result, failing if a worker died without one."""
    while True:
        try:
            return results.get(timeout=WORKER_POLL_SECONDS)
        except queue.Empty:
            _check_alive(workers)
            if not any(worker.is_alive() for worker in workers) and results.empty():
                raise RuntimeError("an indexing process stopped without a result") from None


def _check_alive(workers: list[Any]) -> None:
    """Raise if a worker died (killed, out of memory): only a clean exit has code 0."""
    for worker in workers:
        if not worker.is_alive() and worker.exitcode not in (0, None):
            raise RuntimeError(f"an indexing process ended with exit code {worker.exitcode}")

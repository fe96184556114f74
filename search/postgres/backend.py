"""The PostgreSQL full-text backend: units in a table of their own, searched with tsquery.

Text is analysed in Python with the same analysis as the embedded index (`search.analysis`)
and stored as a tsvector of those terms (see _rows), so both backends match the same units.
A search is one SQL statement (see _sql): the GIN index finds the candidates inside the
permitted dossiers, each item of the ranked OR is decided per unit, and the coordination and a
BM25 score order them; documents mode keeps each document's best unit; the total and the
facets are counted over the same matches. Snippets come from `search.highlight`, on the page's
hits only. Nothing about permissions is stored: the allowed dossiers and denied documents are
parameters of each search.

The tables live in their own schema (``dossier_search`` by default), in the application's
database or another: the index is a cache derived from the database (rule 3), outside the
application's migrations, created by `create` or `rebuild`; an index of another layout version
is unavailable and rebuilt. Writers serialise on an advisory lock (across processes and
machines); a rebuild loads fresh tables and renames them into place in one transaction, while
searches go on against the old ones.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import psycopg
from psycopg import errors

from search.analysis import identifiers, prepare
from search.expansion import expand
from search.highlight import snippet
from search.planning import TOO_SLOW, empty_result, parse_request
from search.postgres._plan import Lexicon, Plan, make_plan, wanted
from search.postgres._rows import COLUMNS, TEXT_COLUMNS, in_sequence, meta_text, rows
from search.postgres._sql import (
    Statement,
    browse_statement,
    filters,
    permitted_dossiers,
    statement,
)
from search.postgres._tables import (
    LAYOUT_VERSION,
    create_tables,
    drop_tables,
    index_tables,
    rename_tables,
    valid_schema,
)
from search.query import QueryRefused
from search.types import (
    FACETS,
    Expansion,
    Hit,
    IndexBusy,
    IndexUnavailable,
    SearchRequest,
    SearchResult,
    Unit,
    VersionEntry,
    hit_for,
)

__all__ = ["DEFAULT_SCHEMA", "PostgresBackend", "libpq_url"]

DEFAULT_SCHEMA = "dossier_search"
DEFAULT_LOCK_TIMEOUT = 30.0
# Memory for each sort and hash of one search (PostgreSQL's default is 4 MB): a broad query's
# candidates (tens of thousands of units) then stay in memory instead of spilling to temporary
# files; at 10,000 documents this took about a quarter off the slowest searches' statement
# (scripts/bench_search.py and README).
SEARCH_WORK_MEM = "32MB"
_MISSING = (errors.UndefinedTable, errors.InvalidSchemaName, errors.UndefinedColumn)
EXACT = COLUMNS[1:].index("exact")  # in a row of _rows.unit_row (no seq)
COPY_BATCH = 1000  # units per pair of COPYs (a unit's row and its texts go to two tables)
_HIT_COLUMNS = (
    "u.seq, unit_id, u.document_id, version_id, version_number, dossier_id, dossier_reference, "
    "title, kind, supplier, document_date, clause_number, heading, page, body, text_start, "
    "clause_types"
)


def libpq_url(url: str) -> str:
    """A database URL as libpq takes it (SQLAlchemy's ``postgresql+psycopg://`` too)."""
    for scheme in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql://" + url.removeprefix(scheme)
    return url


class PostgresBackend:
    """The search index in one schema of a PostgreSQL database; safe to share between threads
    (each thread uses a connection of its own)."""

    capabilities = frozenset({"ranks"})  # BM25 scores (search.backend.SearchBackend)

    def __init__(
        self,
        url: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self._url = libpq_url(url)
        self.schema = valid_schema(schema)
        self._lock_timeout = lock_timeout
        self._local = threading.local()

    # Reading and writing

    def _connection(self) -> psycopg.Connection[Any]:
        """This thread's connection (opened on first use, and again after a failure)."""
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            try:
                conn = psycopg.connect(self._url, autocommit=True)
            except psycopg.OperationalError as exc:
                raise IndexUnavailable(f"the search database cannot be reached: {exc}") from exc
            self._local.conn = conn
        return conn

    @contextmanager
    def _reading(self, time_limit: float | None = None) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor in a read-only transaction that sees one snapshot."""
        conn = self._connection()
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                if time_limit is not None:
                    cur.execute(f"SET LOCAL statement_timeout = {max(1, int(time_limit * 1000))}")
                yield cur
        except errors.QueryCanceled as exc:
            raise QueryRefused("too_slow", TOO_SLOW) from exc
        except _MISSING as exc:
            raise IndexUnavailable(f"the search index is missing: {exc}") from exc
        except psycopg.OperationalError as exc:
            raise IndexUnavailable(f"the search database failed: {exc}") from exc

    @contextmanager
    def _writing(
        self, conn: psycopg.Connection[Any] | None = None
    ) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor in a transaction that holds this index's writer lock (IndexBusy when
        another writer holds it longer than the lock timeout)."""
        conn = conn or self._connection()
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(f"SET LOCAL lock_timeout = {max(1, int(self._lock_timeout * 1000))}")
                cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self._lock_key(),))
                cur.execute("SET LOCAL lock_timeout = 0")
                yield cur
        except errors.LockNotAvailable as exc:
            raise IndexBusy(f"another writer holds the search index: {exc}") from exc
        except _MISSING as exc:
            raise IndexUnavailable(f"the search index is missing: {exc}") from exc

    def _lock_key(self) -> str:
        return f"dossier-search:{self.schema}"

    # The protocol

    def exists(self) -> bool:
        """Whether the tables are there with this layout version (they may still be damaged)."""
        try:
            with self._reading() as cur:
                cur.execute(
                    "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
                    (f"{self.schema}.unit", f"{self.schema}.term"),
                )
                tables = cur.fetchone()
                return bool(tables and tables[0]) and self._version(cur) == LAYOUT_VERSION
        except IndexUnavailable:
            return False

    def check(self) -> None:
        """Raise IndexUnavailable unless every table can be read and has this layout."""
        prepare()
        with self._reading() as cur:
            version = self._version(cur)
            if version != LAYOUT_VERSION:
                raise IndexUnavailable(f"search index layout {version}, expected {LAYOUT_VERSION}")
            cur.execute(f"SELECT seq, terms FROM {self.schema}.unit LIMIT 1")
            cur.fetchall()
            cur.execute(f"SELECT seq, body FROM {self.schema}.unit_text LIMIT 1")
            cur.fetchall()
            cur.execute(f"SELECT lexeme, df FROM {self.schema}.term LIMIT 1")
            cur.fetchall()

    def _version(self, cur: psycopg.Cursor[Any]) -> int | None:
        cur.execute(f"SELECT version FROM {self.schema}.stat")
        row = cur.fetchone()
        return row[0] if row else None

    def create(self) -> None:
        """Replace whatever is there with empty tables."""
        with self._writing() as cur:
            for sql in (*drop_tables(self.schema), *create_tables(self.schema)):
                cur.execute(sql)
            for sql in index_tables(self.schema):
                cur.execute(sql)
            cur.execute(
                f"INSERT INTO {self.schema}.stat VALUES (%s, 0, 0, 0, 0, 0, 0)", (LAYOUT_VERSION,)
            )

    def replace_document(self, document_id: int, units: Iterable[Unit]) -> None:
        """Delete every unit of a document and add these, in one transaction."""
        self.apply([(document_id, list(units))])

    def delete_document(self, document_id: int) -> None:
        """Delete every unit of a document."""
        self.apply([(document_id, None)])

    def apply(self, changes: Iterable[tuple[int, list[Unit] | None]]) -> None:
        """Replace (units) or delete (None) documents, all in one transaction."""
        final: dict[int, list[Unit] | None] = {}
        for document_id, units in changes:
            final.pop(document_id, None)
            final[document_id] = units
        if not final:
            return
        s = self.schema
        with self._writing() as cur:
            ids = sorted(final)
            cur.execute(
                f"SELECT t.lexeme, count(*) FROM {s}.unit u CROSS JOIN LATERAL unnest(u.terms) t "
                "WHERE u.document_id = ANY(%s) GROUP BY t.lexeme",
                (ids,),
            )
            delta: Counter[str] = Counter()
            for name, count in cur.fetchall():
                delta[name] -= count
            cur.execute(
                f"SELECT count(*), coalesce(sum(lengths[1]), 0), coalesce(sum(lengths[2]), 0), "
                f"coalesce(sum(lengths[3]), 0), count(*) FILTER (WHERE NOT exact), "
                f"coalesce(sum(lengths[4]), 0) "
                f"FROM {s}.unit WHERE document_id = ANY(%s)",
                (ids,),
            )
            stats = [-int(value) for value in cur.fetchone() or (0, 0, 0, 0, 0, 0)]
            cur.execute(f"DELETE FROM {s}.unit WHERE document_id = ANY(%s)", (ids,))
            cur.execute(f"DELETE FROM {s}.unit_text WHERE document_id = ANY(%s)", (ids,))
            cur.execute(f"SELECT coalesce(max(seq), 0) + 1 FROM {s}.unit")
            first = int(cur.fetchone()[0])  # type: ignore[index]
            added = (unit for units in final.values() for unit in units or [])
            _copy_units(cur, f"{s}.", first, added, delta, stats)
            changed = sorted(name for name, count in delta.items() if count)
            cur.execute(
                f"INSERT INTO {s}.term (lexeme, df) "
                "SELECT * FROM unnest(%s::text[], %s::int[]) "
                "ON CONFLICT (lexeme) DO UPDATE SET df = term.df + excluded.df",
                (changed, [delta[name] for name in changed]),
            )
            cur.execute(f"DELETE FROM {s}.term WHERE df <= 0")
            cur.execute(
                f"UPDATE {s}.stat SET units = units + %s, body_length = body_length + %s, "
                "meta_length = meta_length + %s, ident_length = ident_length + %s, "
                "long_units = long_units + %s, heading_length = heading_length + %s",
                stats,
            )

    def rebuild(
        self,
        units: Iterable[Unit],
        progress: Callable[[int], None] | None = None,
        *,
        processes: int = 1,
    ) -> None:
        """Load every unit into fresh tables, index them, then rename them into place in one
        transaction (searches use the old tables until then). ``processes`` > 1 analyses the
        units in that many forked processes (only outside a threaded web server)."""
        s = self.schema
        with psycopg.connect(self._url, autocommit=True) as conn, conn.cursor() as cur:
            # One rebuild at a time: they share the *_new tables.
            cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (self._lock_key() + ":rebuild",))
            try:
                for sql in (*drop_tables(s, "_new"), *create_tables(s, "_new")):
                    cur.execute(sql)
                self._load(conn, units, progress, processes)
                for sql in index_tables(s, "_new"):
                    cur.execute(sql)
                with self._writing(conn) as swap:
                    for sql in (*drop_tables(s), *rename_tables(s, "_new")):
                        swap.execute(sql)
            finally:
                for sql in drop_tables(s, "_new"):
                    cur.execute(sql)
                cur.execute(
                    "SELECT pg_advisory_unlock(hashtext(%s))", (self._lock_key() + ":rebuild",)
                )

    def _load(
        self,
        conn: psycopg.Connection[Any],
        units: Iterable[Unit],
        progress: Callable[[int], None] | None,
        processes: int,
    ) -> None:
        """COPY every unit into the new tables with the document frequencies and totals."""
        s = self.schema
        frequencies: Counter[str] = Counter()
        stats = [0, 0, 0, 0, 0, 0]
        documents = _Documents(progress)
        with conn.transaction(), conn.cursor() as cur:
            _copy_units(
                cur, f"{s}.", 1, documents.count(units), frequencies, stats, processes, "_new"
            )
            with cur.copy(f"COPY {s}.term_new (lexeme, df) FROM STDIN") as copy:
                for name, count in frequencies.items():
                    copy.write_row((name, count))
            cur.execute(
                f"INSERT INTO {s}.stat_new VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (LAYOUT_VERSION, *stats),
            )
        documents.done()

    def search(self, request: SearchRequest) -> SearchResult:
        """One page of hits, the total and the facets, all limited to what the caller may read."""
        request, parsed = parse_request(request)
        expansions: tuple[Expansion, ...] = ()
        if request.expand:
            parsed, expansions = expand(parsed)
        empty = empty_result(request)
        if not permitted_dossiers(request):
            return replace(empty, expansions=expansions)
        with self._reading(request.time_limit) as cur:
            lexicon = self._lexicon(cur, parsed)
            if lexicon is None:
                return replace(empty, expansions=expansions)
            if parsed.positive:
                plan = make_plan(parsed, lexicon)
                if not plan.items:
                    return replace(empty, expansions=expansions)
                # A plain index scan of the dossier column reads every permitted row; as
                # bitmaps it is ANDed with the GIN index's candidates first.
                cur.execute("SET LOCAL enable_indexscan = off")
                cur.execute(f"SET LOCAL work_mem = '{SEARCH_WORK_MEM}'")
                holding = self._long_holding(cur, plan, request)
                found = statement(self.schema, plan, lexicon, request, holding)
            else:  # a listing by clause type (search.query allows no words only then)
                plan = Plan(())
                found = browse_statement(self.schema, request)
            cur.execute(found.sql, found.params)
            row = cur.fetchone()
            assert row is not None
            total, seqs, scores, *facets = row
            hits = self._hits(cur, seqs or [], scores or [], plan.highlight, request)
        result = SearchResult(
            hits,
            total,
            request.page,
            request.per_page,
            {name: _ordered(name, values) for name, values in zip(FACETS, facets, strict=True)},
        )
        return replace(result, expansions=expansions)

    def _lexicon(self, cur: psycopg.Cursor[Any], parsed: Any) -> Lexicon | None:
        """The statistics a plan needs; None when the index holds no unit."""
        s = self.schema
        cur.execute(
            f"SELECT version, units, body_length, meta_length, ident_length, long_units, "
            "heading_length "
            f"FROM {s}.stat"
        )
        stat = cur.fetchone()
        if stat is None or stat[0] != LAYOUT_VERSION:
            raise IndexUnavailable("the search index has no statistics of this layout")
        units = int(stat[1])
        if not units:
            return None
        cur.execute(
            f"SELECT lexeme, df FROM {s}.term WHERE lexeme = ANY(%s)", (sorted(wanted(parsed)),)
        )
        frequency = dict(cur.fetchall())

        def starting(prefix: str, limit: int) -> dict[str, int]:
            cur.execute(
                f"SELECT lexeme, df FROM {s}.term WHERE lexeme >= %s AND lexeme < %s "
                "ORDER BY lexeme LIMIT %s",
                (prefix, prefix + "\U0010ffff", limit),
            )
            return dict(cur.fetchall())

        average = {
            "body": stat[2] / units,
            "meta": stat[3] / units,
            "ident": stat[4] / units,
            "heading": stat[6] / units,
            "number": 1.0,
        }
        self._local.long_units = int(stat[5])
        return Lexicon(frequency, units, average, starting)

    def _long_holding(
        self, cur: psycopg.Cursor[Any], plan: Plan, request: SearchRequest
    ) -> list[list[int]]:
        """Per sequence of the plan, the units whose positions are not exact (see _rows) in
        which it holds, checked in Python."""
        sequences = [item.sequence for item in plan.items if item.sequence is not None]
        sequences += list(plan.excluded_sequences)
        holding: list[list[int]] = [[] for _ in sequences]
        if not sequences or not getattr(self._local, "long_units", 0):
            return holding
        st = Statement("")
        where = " AND ".join(filters(request, st))
        cur.execute(
            "SELECT u.seq, body, title, supplier, dossier_reference FROM (SELECT seq, supplier, "
            f"dossier_reference FROM {self.schema}.unit WHERE NOT exact AND {where}) u "
            f"JOIN {self.schema}.unit_text t ON t.seq = u.seq",
            st.params,
        )
        for seq, body, *meta in cur:
            meta = meta_text(
                SimpleNamespace(title=meta[0], supplier=meta[1], dossier_reference=meta[2])
            )
            idents = set(identifiers(f"{body}\n{meta}"))
            texts = {"body": (body, True), "meta": (meta, False)}
            for j, sequence in enumerate(sequences):
                joined = (sequence.joined,) if sequence.joined else None
                searched = [texts[field] for field in sequence.fields]
                if (
                    not idents.isdisjoint(sequence.idents)
                    or any(in_sequence(text, detect, sequence.words) for text, detect in searched)
                    or (joined and any(in_sequence(t, d, joined) for t, d in searched))
                ):
                    holding[j].append(seq)
        return holding

    def _hits(
        self,
        cur: psycopg.Cursor[Any],
        seqs: list[int],
        scores: list[float],
        terms: frozenset[str],
        request: SearchRequest,
    ) -> list[Hit]:
        """Hit objects for the page's units, with snippets when asked for."""
        if not seqs:
            return []
        cur.execute(
            f"SELECT {_HIT_COLUMNS} FROM {self.schema}.unit u "
            f"JOIN {self.schema}.unit_text t ON t.seq = u.seq WHERE u.seq = ANY(%s)",
            (seqs,),
        )
        names = [column.strip().removeprefix("u.") for column in _HIT_COLUMNS.split(",")]
        units = {row[0]: SimpleNamespace(**dict(zip(names, row, strict=True))) for row in cur}
        hits = []
        for seq, score in zip(seqs, scores, strict=True):
            unit = units[seq]
            unit.text = unit.body[unit.text_start :]
            text = snippet(unit.body, terms) if request.snippets else ""
            hits.append(hit_for(unit, score, text, request.mode == "clauses"))
        return hits

    def version_summary(self) -> dict[int, VersionEntry]:
        """Per indexed version: its document, its number of units and their current flags."""
        with self._reading() as cur:
            cur.execute(
                f"SELECT version_id, min(document_id), count(*), bool_or(is_current), "
                f"bool_and(is_current) FROM {self.schema}.unit GROUP BY version_id"
            )
            return {
                version: VersionEntry(document, count, frozenset({some, every}))
                for version, document, count, some, every in cur.fetchall()
            }

    def document_count(self) -> int:
        """Number of distinct documents with at least one unit."""
        with self._reading() as cur:
            cur.execute(f"SELECT count(DISTINCT document_id) FROM {self.schema}.unit")
            return int(cur.fetchone()[0])  # type: ignore[index]

    def unit_count(self) -> int:
        """Number of units."""
        with self._reading() as cur:
            cur.execute(f"SELECT count(*) FROM {self.schema}.unit")
            return int(cur.fetchone()[0])  # type: ignore[index]

    def size_bytes(self) -> int:
        """Bytes the index takes in the database (tables, indexes and TOAST)."""
        with self._reading() as cur:
            cur.execute(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind = 'r'",
                (self.schema,),
            )
            return int(cur.fetchone()[0] or 0)  # type: ignore[index]

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()


class _Documents:
    """Counts the documents of a stream of units (grouped by document) for `progress`."""

    def __init__(self, progress: Callable[[int], None] | None) -> None:
        self.progress, self.seen, self.last = progress, 0, None

    def count(self, units: Iterable[Unit]) -> Iterator[Unit]:
        for unit in units:
            if unit.document_id != self.last:
                if self.progress is not None and self.seen:
                    self.progress(self.seen)
                self.last = unit.document_id
                self.seen += 1
            yield unit

    def done(self) -> None:
        if self.progress is not None:
            self.progress(self.seen)


def _copy_units(
    cur: psycopg.Cursor[Any],
    prefix: str,
    first: int,
    units: Iterable[Unit],
    frequencies: Counter[str],
    stats: list[int],
    processes: int = 1,
    suffix: str = "",
) -> None:
    """COPY units into the tables `{prefix}unit{suffix}` and `{prefix}unit_text{suffix}`,
    numbered from `first`, adding their lexemes to `frequencies` and their count, field lengths
    and inexact count to `stats` (analysed in `processes` processes)."""
    seq = first
    batch: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []

    def write() -> None:
        with cur.copy(f"COPY {prefix}unit{suffix} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for number, (row, _) in enumerate(batch, seq):
                copy.write_row((number, *row))
        columns = ", ".join(TEXT_COLUMNS)
        with cur.copy(f"COPY {prefix}unit_text{suffix} ({columns}) FROM STDIN") as copy:
            for number, (_, text) in enumerate(batch, seq):
                copy.write_row((number, *text))

    for row, text, names, lengths in rows(units, processes):
        batch.append((row, text))
        frequencies.update(names)
        stats[0] += 1
        stats[1] += lengths[0]
        stats[2] += lengths[1]
        stats[3] += lengths[2]
        stats[4] += not row[EXACT]
        stats[5] += lengths[3]
        if len(batch) == COPY_BATCH:
            write()
            seq += len(batch)
            batch.clear()
    if batch:
        write()


def _ordered(name: str, values: list[list[str]] | None) -> list[tuple[str, int]]:
    """Facet counts as the other backends order them: years newest first, the others by
    count, then alphabetically."""
    counts = [(value, int(count)) for value, count in values or []]
    if name == "year":
        return sorted(counts, reverse=True)
    return sorted(counts, key=lambda item: (-item[1], item[0]))

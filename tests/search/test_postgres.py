"""What only the PostgreSQL backend does: term frequencies from ts_rank, its tables going
missing, writers waiting for each other, and a rebuild seen from another process's backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from search.postgres import PostgresBackend
from search.postgres._sql import ZETA2
from search.postgres.backend import libpq_url
from search.types import IndexBusy, IndexUnavailable
from tests.conftest import PG_URL, need
from tests.search.postgres import drop_schema, schema_for
from tests.search.test_index import documents, search, unit


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[PostgresBackend]:
    need(bool(PG_URL), "DOSSIER_TEST_DATABASE_URL is not set (PostgreSQL backend)")
    created = PostgresBackend(PG_URL, schema=schema_for(tmp_path), lock_timeout=0.5)
    created.create()
    yield created
    created.close()
    drop_schema(PG_URL, created.schema)


def _connect() -> psycopg.Connection:
    return psycopg.connect(libpq_url(PG_URL), autocommit=True)


def test_term_frequencies_are_recovered_from_ts_rank(backend: PostgresBackend) -> None:
    # The scoring SQL inverts ts_rank of a one-term query (see search.postgres._sql).
    with _connect() as conn:
        for tf in (*range(1, 40), 100, 255, 256):
            vector = " ".join(f"bx:{p}" for p in range(1, tf + 1))
            found = conn.execute(
                f"SELECT round(1.0 / ((1.0 - ts_rank('{{1,1,1,1}}', %s::tsvector, "
                f"$$'bx'$$::tsquery, 0)::float8) * {ZETA2}) - 0.5)",
                (vector,),
            ).fetchone()
            assert found is not None and found[0] == tf


def test_missing_tables_are_unavailable_and_a_rebuild_brings_them_back(
    backend: PostgresBackend,
) -> None:
    backend.replace_document(1, [unit(1, 0, "clause")])
    backend.check()
    with _connect() as conn:
        conn.execute(f"DROP TABLE {backend.schema}.unit")
    assert not backend.exists()
    with pytest.raises(IndexUnavailable):
        backend.check()
    with pytest.raises(IndexUnavailable):
        search(backend, "clause")
    backend.rebuild(unit(n, 0, "clause") for n in (1, 2))
    backend.check()
    assert backend.exists() and search(backend, "clause").total == 2


def test_an_index_of_another_layout_is_not_there(backend: PostgresBackend) -> None:
    with _connect() as conn:
        conn.execute(f"UPDATE {backend.schema}.stat SET version = version + 1")
    assert not backend.exists()
    with pytest.raises(IndexUnavailable):
        backend.check()


def test_a_writer_waits_for_another_then_gives_up(backend: PostgresBackend) -> None:
    with _connect() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (backend._lock_key(),))
        with pytest.raises(IndexBusy):
            backend.replace_document(1, [unit(1, 0, "waiting")])
    backend.replace_document(1, [unit(1, 0, "after the other writer")])
    assert documents(search(backend, "writer")) == [1]


def test_a_rebuild_is_seen_at_once_by_another_backend(backend: PostgresBackend) -> None:
    reader = PostgresBackend(PG_URL, schema=backend.schema)
    backend.replace_document(1, [unit(1, 0, "original wording")])
    assert search(reader, "original").total == 1
    backend.rebuild(unit(n, 0, "rebuilt wording") for n in (1, 2, 3))
    assert (search(reader, "original").total, search(reader, "rebuilt").total) == (0, 3)
    reader.close()


def test_document_frequencies_follow_writes(backend: PostgresBackend) -> None:
    backend.apply([(n, [unit(n, 0, "alpha beta"), unit(n, 1, "alpha")]) for n in (1, 2)])
    backend.replace_document(1, [unit(1, 0, "gamma")])
    backend.delete_document(2)
    with _connect() as conn:
        rows = conn.execute(
            f"SELECT lexeme, df FROM {backend.schema}.term WHERE lexeme LIKE 'b%' ORDER BY 1"
        ).fetchall()
        stat = conn.execute(f"SELECT units FROM {backend.schema}.stat").fetchone()
    assert rows == [("bgamma", 1)]
    assert stat == (1,)

"""The tests' own clean-up: emptying the PostgreSQL tables before a test survives being picked as
a deadlock's victim (CI failed once on it: another connection still writing when the next test
began)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from dossier.models import Base
from tests.conftest import PG_URL, _truncate_all, need


@pytest.fixture
def url(postgres_schema: str) -> str:
    return postgres_schema


def test_truncate_tries_again_when_it_loses_a_deadlock(url: str) -> None:
    need(bool(PG_URL), "DOSSIER_TEST_DATABASE_URL is not set")
    tables = [t.name for t in Base.metadata.sorted_tables]
    first, last = tables[0], tables[-1]  # the TRUNCATE locks them in this order
    engine = sa.create_engine(url)
    holding, done = threading.Event(), threading.Event()
    outcome: list[object] = []

    def other_writer() -> None:
        try:
            with engine.begin() as conn:
                # This side waits long before looking for a deadlock, so the TRUNCATE (1 s, the
                # server default) finds it first and is the one rolled back.
                conn.exec_driver_sql("SET LOCAL deadlock_timeout = '20s'")
                conn.exec_driver_sql(f'LOCK TABLE "{last}" IN ROW EXCLUSIVE MODE')
                holding.set()
                # Wait until the TRUNCATE holds the first table, then ask for it.
                while not _truncate_waits(engine):
                    threading.Event().wait(0.05)
                conn.exec_driver_sql(f'LOCK TABLE "{first}" IN ROW EXCLUSIVE MODE')
            outcome.append("committed")
        except Exception as exc:  # reported through `outcome`
            outcome.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=other_writer)
    thread.start()
    try:
        assert holding.wait(30)
        with pytest.warns(UserWarning, match="lost a lock conflict"):
            _truncate_all(url)
        assert done.wait(30)
    finally:
        thread.join(30)
        engine.dispose()
    assert outcome == ["committed"]


def _truncate_waits(engine: sa.Engine) -> bool:
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE 'TRUNCATE%'"
    )
    with engine.connect() as conn:
        return bool(conn.scalar(query))

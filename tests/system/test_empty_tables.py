"""The tests' own clean-up: emptying the PostgreSQL tables before a test survives being picked as
a deadlock's victim (CI failed once on it: another connection still writing when the next test
began), and leaves no row and no advanced sequence behind."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from dossier.models import Base
from tests.conftest import deletion_order, empty_tables


@pytest.fixture
def url(postgres_schema: str) -> str:
    return postgres_schema


def test_emptying_tries_again_when_it_loses_a_deadlock(url: str) -> None:
    tables = deletion_order()
    first, last = tables[0], tables[-1]
    engine = sa.create_engine(url)
    holding = threading.Event()
    outcome: list[object] = []

    def other_writer() -> None:
        # SHARE mode conflicts with the ROW EXCLUSIVE lock each DELETE takes: the emptying waits
        # for `last` while holding `first`, which this side then asks for.
        try:
            with engine.begin() as conn:
                # This side waits long before looking for a deadlock, so the emptying (1 s, the
                # server default) finds it first and is the one rolled back.
                conn.exec_driver_sql("SET LOCAL deadlock_timeout = '20s'")
                conn.exec_driver_sql(f'LOCK TABLE "{last}" IN SHARE MODE')
                holding.set()
                while not _emptying_waits(engine):
                    threading.Event().wait(0.05)
                conn.exec_driver_sql(f'LOCK TABLE "{first}" IN SHARE MODE')
            outcome.append("committed")
        except Exception as exc:  # reported through `outcome`
            outcome.append(exc)

    thread = threading.Thread(target=other_writer)
    thread.start()
    try:
        assert holding.wait(30)
        with pytest.warns(UserWarning, match="lost a lock conflict"):
            empty_tables(url)
    finally:
        thread.join(30)
        engine.dispose()
    assert outcome == ["committed"]


def test_emptying_leaves_no_row_and_restarts_the_ids(url: str) -> None:
    tables = Base.metadata.tables
    users, dossiers, members = tables["user"], tables["dossier"], tables["membership"]
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:  # rows that refer to each other
            for n in range(3):
                conn.execute(users.insert().values(email=f"{n}@x.org", name="A", password_hash="x"))
            conn.execute(dossiers.insert().values(reference="2025-001", title="T"))
            conn.execute(members.insert().values(dossier_id=1, user_id=3, role="reader"))
        empty_tables(url)
        with engine.begin() as conn:
            counts = {
                name: conn.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar_one()
                for name in deletion_order()
            }
            user_id = conn.execute(
                users.insert().values(email="b@x.org", name="B", password_hash="x")
            ).inserted_primary_key[0]
        empty_tables(url)
    finally:
        engine.dispose()
    assert {name: n for name, n in counts.items() if n} == {}
    assert user_id == 1


def _emptying_waits(engine: sa.Engine) -> bool:
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE 'DELETE%'"
    )
    with engine.connect() as conn:
        return bool(conn.scalar(query))

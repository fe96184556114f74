"""Helpers for tests of the PostgreSQL search backend: a schema per test, dropped after it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg

from search.postgres.backend import libpq_url


def schema_for(path: Path) -> str:
    """A schema name of its own for a backend made under a test's folder."""
    return "t_" + hashlib.sha1(str(path).encode()).hexdigest()[:20]


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

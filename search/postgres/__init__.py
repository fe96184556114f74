"""The PostgreSQL full-text backend (`PostgresBackend`); its other modules are private."""

from search.postgres.backend import PostgresBackend

__all__ = ["PostgresBackend"]

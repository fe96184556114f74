"""The tables of one PostgreSQL index, in a schema of its own, and their (re)creation.

``unit`` holds one row per unit (see _rows) with what a search reads of every candidate,
``unit_text`` its title, heading and text, which a search reads for its page only (kept apart,
the candidates' rows are a third narrower: at 10,000 documents 990 instead of 1,530 MB to read
from, and the slow searches up to a fifth faster), ``term`` the document frequency of every
lexeme (BM25's idf and wildcard expansion), ``stat`` one row: the layout version, the unit count
and the total field lengths (BM25's average lengths), and how many units are not ``exact``.
A rebuild fills ``*_new`` tables and renames them into place in one transaction.
"""

from __future__ import annotations

import re
import uuid

__all__ = ["LAYOUT_VERSION", "create_tables", "drop_tables", "index_tables", "valid_schema"]

# Bump when the rows or the analysis change: an index of another version is unavailable and
# rebuilt. 1: the first layout (analysis as the embedded index's schema 4). 2: the heading field
# (lexemes ``h``, heading_length; search.planning.HEADING). 3: texts in ``unit_text``. 4: a
# separable verb's participle gets its lemma's stem (as the embedded index's schema 8). 5: English
# words Snowball joins with another meaning stem apart (schema 9). 6: ``definition`` (schema 10).
# 7: Dutch words apart too (schema 11).
LAYOUT_VERSION = 7
TABLES = ("unit", "unit_text", "term", "stat")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,50}$")


def valid_schema(name: str) -> str:
    """A schema name that is safe to put into SQL text (lower-case letters, digits, _)."""
    if not _NAME.match(name):
        raise ValueError(f"invalid search schema name {name!r}")
    return name


def create_tables(schema: str, suffix: str = "") -> list[str]:
    """Statements that create empty tables (named with `suffix`) in the schema."""
    return [
        f"CREATE SCHEMA IF NOT EXISTS {schema}",
        f"""CREATE TABLE {schema}.unit{suffix} (
            seq bigint NOT NULL,  -- in the order of writing (the writer holds the lock)
            unit_id text NOT NULL,
            document_id integer NOT NULL,
            version_id integer NOT NULL,
            version_number integer NOT NULL,
            is_current boolean NOT NULL,
            is_clause boolean NOT NULL,
            definition boolean NOT NULL,  -- Unit.definition
            dossier_id integer NOT NULL,
            dossier_reference text NOT NULL,
            supplier text NOT NULL,
            dossier_status text NOT NULL,
            kind text NOT NULL,
            document_date date,
            clause_number text NOT NULL,
            page integer,
            position integer NOT NULL,
            text_start integer NOT NULL,
            -- Field lengths as BM25 sees them (_rows.scored_length); `lengths`: exact ones.
            body_length integer NOT NULL,
            meta_length integer NOT NULL,
            ident_length integer NOT NULL,
            heading_length integer NOT NULL,
            lengths integer[] NOT NULL,
            clause_types text[] NOT NULL,  -- search.clause_types, strongest first
            exact boolean NOT NULL,
            terms tsvector NOT NULL
        ) WITH (toast_tuple_target = 8160)""",
        # Most units then stay inline and uncompressed: a search reads each candidate's
        # tsvector once per term, and detoasting it each time cost four times the search.
        f"ALTER TABLE {schema}.unit{suffix} ALTER COLUMN terms SET STORAGE MAIN",
        f"""CREATE TABLE {schema}.unit_text{suffix} (
            seq bigint NOT NULL,
            document_id integer NOT NULL,
            title text NOT NULL,
            heading text NOT NULL,
            body text NOT NULL
        )""",
        f'CREATE TABLE {schema}.term{suffix} (lexeme text COLLATE "C" NOT NULL, df int NOT NULL)',
        f"""CREATE TABLE {schema}.stat{suffix} (
            version integer NOT NULL,
            units bigint NOT NULL,
            body_length bigint NOT NULL,
            meta_length bigint NOT NULL,
            ident_length bigint NOT NULL,
            long_units bigint NOT NULL,
            heading_length bigint NOT NULL
        )""",
    ]


def index_tables(schema: str, suffix: str = "") -> list[str]:
    """Statements that index the tables (after a bulk load: faster than indexing as it goes)."""
    token = uuid.uuid4().hex[:12]
    return [
        f"CREATE INDEX unit_terms_{token} ON {schema}.unit{suffix} USING gin (terms)",
        f"CREATE UNIQUE INDEX unit_seq_{token} ON {schema}.unit{suffix} (seq)",
        f"CREATE INDEX unit_document_{token} ON {schema}.unit{suffix} (document_id)",
        f"CREATE INDEX unit_dossier_{token} ON {schema}.unit{suffix} (dossier_id)",
        f"CREATE UNIQUE INDEX unit_text_seq_{token} ON {schema}.unit_text{suffix} (seq)",
        f"CREATE INDEX unit_text_document_{token} ON {schema}.unit_text{suffix} (document_id)",
        f"CREATE UNIQUE INDEX term_lexeme_{token} ON {schema}.term{suffix} (lexeme)",
        f"ANALYZE {schema}.unit{suffix}",
        f"ANALYZE {schema}.unit_text{suffix}",
        f"ANALYZE {schema}.term{suffix}",
    ]


def drop_tables(schema: str, suffix: str = "") -> list[str]:
    return [f"DROP TABLE IF EXISTS {schema}.{table}{suffix}" for table in TABLES]


def rename_tables(schema: str, suffix: str) -> list[str]:
    return [f"ALTER TABLE {schema}.{table}{suffix} RENAME TO {table}" for table in TABLES]

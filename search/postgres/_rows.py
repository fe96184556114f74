"""A unit as a table row: its fields, and one tsvector of every term the shared analysis gives.

The tsvector holds the terms of four fields, each lexeme prefixed with its field's letter
(``b`` body, ``m`` meta, ``i`` identifier, ``n`` clause number), so one GIN index serves every
field and a phrase (``<->``) never crosses fields, and the unit's dossier (``d``, see
`dossier_lexeme`). Terms are those of `search.analysis` (stems
in the unit's language, Dutch lemmas and compound parts, at the word's position), exactly what
the embedded index holds, so both backends match the same units. PostgreSQL keeps positions up
to 16,383 and 256 per lexeme: a unit past either limit is marked not ``exact`` and its phrases
are checked in Python (`in_sequence`); its term frequencies are capped at 256 (BM25 is flat
there).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from whoosh.util.numeric import byte_to_length, length_to_byte

from search.analysis import (
    fold,
    identifiers,
    language,
    occurrences,
    prepare,
    terms,
    word_list,
)
from search.matching import body_text
from search.types import Unit

__all__ = [
    "COLUMNS",
    "PREFIX",
    "Row",
    "TEXT_COLUMNS",
    "dossier_lexeme",
    "in_sequence",
    "lexeme",
    "meta_text",
    "rows",
    "unit_row",
]

PREFIX = {"body": "b", "meta": "m", "heading": "h", "ident": "i", "number": "n"}
MAX_POSITION = 16383
MAX_POSITIONS = 256
BATCH = 256  # units per task of a parallel rebuild

# Columns written for every unit, in COPY order (`seq` is given by the writer).
COLUMNS = (
    "seq",
    "unit_id",
    "document_id",
    "version_id",
    "version_number",
    "is_current",
    "is_clause",
    "definition",
    "dossier_id",
    "dossier_reference",
    "supplier",
    "dossier_status",
    "kind",
    "document_date",
    "clause_number",
    "page",
    "position",
    "text_start",
    "body_length",
    "meta_length",
    "ident_length",
    "heading_length",
    "lengths",
    "clause_types",
    "exact",
    "terms",
)
# The unit's texts, kept apart (see _tables): a search reads them for its page only.
TEXT_COLUMNS = ("seq", "document_id", "title", "heading", "body")


def lexeme(field: str, term: str) -> str:
    """The lexeme of a term in one field."""
    return PREFIX[field] + term


def dossier_lexeme(dossier_id: int) -> str:
    """The lexeme every unit of a dossier holds (no position): with the dossiers a reader may
    see in the GIN query, PostgreSQL reads the postings of the query's words only where they
    meet those dossiers' (GIN's fast scan skips the rest), as the embedded index reads only the
    permitted dossiers' blocks. Not a term of any field, not counted in `term`."""
    return f"d{dossier_id}"


def meta_text(unit: Any) -> str:
    """Title, supplier and dossier reference: the metadata a query word may also match."""
    return " \n".join(filter(None, (unit.title, unit.supplier, unit.dossier_reference)))


def scored_length(length: int) -> int:
    """A field length as BM25 sees it: Whoosh keeps lengths in one byte (exact up to a few
    dozen, then in steps of about 7 %), and scoring with the same lengths keeps both backends'
    rankings alike. Average lengths use the exact totals, as Whoosh does."""
    return byte_to_length(length_to_byte(length))


# A unit's row (COLUMNS order without `seq`), its text row (TEXT_COLUMNS order without `seq`),
# its distinct lexemes and its exact field lengths.
Row = tuple[tuple[Any, ...], tuple[Any, ...], set[str], tuple[int, int, int, int]]


def unit_row(unit: Unit) -> Row:
    """The row of a unit and of its texts (COLUMNS and TEXT_COLUMNS order, both without `seq`),
    its distinct lexemes (for document frequencies) and its exact field lengths (body, meta,
    identifiers, heading: for the average lengths)."""
    body = body_text(unit)
    meta = meta_text(unit)
    found: dict[str, list[int]] = {}
    lengths = []
    for field, text, detect in (("body", body, True), ("meta", meta, False)):
        occurring = occurrences(text, detect)
        lengths.append(sum(len(places) for places in occurring.values()))
        for term, places in occurring.items():
            found[lexeme(field, term)] = places
    heading = occurrences(unit.heading, False)
    heading_length = sum(len(places) for places in heading.values())
    for term, places in heading.items():
        found[lexeme("heading", term)] = places
    idents = identifiers(f"{body}\n{meta}")
    for place, ident in enumerate(idents):
        found.setdefault(lexeme("ident", ident), []).append(place)
    number = clause_number_term(unit.clause_number)
    if number:
        found[lexeme("number", number)] = [0]
    vector, exact = _tsvector(found)
    vector += f" {dossier_lexeme(unit.dossier_id)}"
    row = (
        unit.unit_id,
        unit.document_id,
        unit.version_id,
        unit.version_number,
        unit.is_current,
        unit.is_clause,
        unit.definition,
        unit.dossier_id,
        unit.dossier_reference,
        unit.supplier,
        unit.dossier_status,
        unit.kind,
        unit.document_date,
        unit.clause_number,
        unit.page,
        unit.position,
        len(body) - len(unit.text),
        scored_length(lengths[0]),
        scored_length(lengths[1]),
        scored_length(len(idents)),
        scored_length(heading_length),
        [lengths[0], lengths[1], len(idents), heading_length],
        list(unit.clause_types),
        exact,
        vector,
    )
    text = (unit.document_id, unit.title, unit.heading, body)
    return row, text, set(found), (lengths[0], lengths[1], len(idents), heading_length)


def clause_number_term(number: str) -> str:
    """A clause number as the embedded index keeps it: folded, without a trailing dot."""
    return fold(number.strip().rstrip(".")) if number else ""


def _tsvector(found: dict[str, list[int]]) -> tuple[str, bool]:
    """The tsvector's text form (1-based positions) and whether every position fits."""
    exact = True
    parts = []
    for name, places in found.items():
        if len(places) > MAX_POSITIONS or places[-1] >= MAX_POSITION:
            exact = False
            places = [p for p in places[:MAX_POSITIONS] if p < MAX_POSITION] or [MAX_POSITION - 1]
        if "'" in name or "\\" in name:
            name = name.replace("\\", "\\\\").replace("'", "''")
        parts.append(f"'{name}':{','.join([str(p + 1) for p in places])}")
    return " ".join(parts), exact


def rows(units: Iterable[Unit], processes: int = 1) -> Iterator[Row]:
    """`unit_row` of every unit, in order; with `processes` > 1 in that many forked
    processes (the units are read here, in this thread, and handed out in batches)."""
    if processes <= 1:
        yield from map(unit_row, units)
        return
    prepare()  # load the Dutch dictionary once, before the fork
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        pending: deque[Any] = deque()
        batch: list[Unit] = []
        for unit in units:
            batch.append(unit)
            if len(batch) == BATCH:
                pending.append(pool.apply_async(_batch_rows, (batch,)))
                batch = []
                while len(pending) > 2 * processes:
                    yield from pending.popleft().get()
        if batch:
            pending.append(pool.apply_async(_batch_rows, (batch,)))
        while pending:
            yield from pending.popleft().get()


def _batch_rows(batch: list[Unit]) -> list[Row]:
    return [unit_row(unit) for unit in batch]


def in_sequence(text: str, detect: bool, words: Iterable[tuple[str, ...]]) -> bool:
    """Whether query words (each as its stems) follow each other somewhere in a text, with
    the terms the index holds at each position: the phrase check of units that are not exact."""
    folded = word_list(text)
    lang = language(folded) if detect else None
    held = [frozenset(terms(word, lang)) for word in folded]
    wanted = [frozenset(found) for found in words]
    size = len(wanted)
    return any(
        all(not wanted[i].isdisjoint(held[start + i]) for i in range(size))
        for start in range(len(held) - size + 1)
    )

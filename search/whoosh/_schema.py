"""The Whoosh schema of a unit and the conversion of units to and from index documents.

Searchable text lives in five fields: ``body`` (heading and text; stems with positions),
``meta`` (document title, supplier and dossier reference, so "acme termination" finds the
termination clauses of Acme's contracts), ``heading`` (the heading again, without positions:
the user's words score again there, see search.planning.HEADING), ``ident`` (identifiers kept
whole) and ``number`` (the unit's own clause number, so a search for "12.3" puts clause 12.3
above clauses that mention it). Everything a
filter, facet or grouping reads per match is a column; everything a hit shows is one stored
tuple. Nothing about permissions is stored.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from whoosh import columns
from whoosh.fields import COLUMN, ID, STORED, TEXT, Schema

from search.analysis import IdentTokenizer, WordTokenizer, fold
from search.types import Unit
from search.whoosh._format import PackedPositions
from search.whoosh._tables import FLAG_CLAUSE, FLAG_CURRENT, FLAG_DEFINITION

__all__ = [
    "SCHEMA_VERSION",
    "StoredUnit",
    "clause_number_term",
    "make_schema",
    "stored_unit",
    "to_document",
]

# Field order of the stored tuple; bump SCHEMA_VERSION when it or the analysis changes, so an old
# index is reported unavailable and rebuilt. v4: Dutch lemmas and compound parts (search.dutch).
# v5: clause types (stored, and the c_types column). v6: Dutch adjectives keep -lijk, -baar and
# -ig, no word stems to a function word, fewer false compound parts. v7: the heading field.
# v8: a separable verb's participle gets its lemma's stem (opgezegd ~ opzeggen). v9: English
# words Snowball joins with another meaning stem apart (competent, compete). v10: the flag of a
# unit among the definitions (Unit.definition). v11: Dutch words apart too (late, laten).
SCHEMA_VERSION = 11
_STORED = (
    "unit_id",
    "document_id",
    "version_id",
    "version_number",
    "dossier_id",
    "dossier_reference",
    "title",
    "kind",
    "supplier",
    "date",
    "clause_number",
    "heading",
    "page",
    "text_start",
    "clause_types",
)


def make_schema() -> Schema:
    """A fresh schema object (Whoosh pickles it into the index's table of contents)."""
    body = TEXT(analyzer=WordTokenizer(detect=True), phrase=True, stored=True)
    body.format = PackedPositions()
    meta = TEXT(analyzer=WordTokenizer(), phrase=True)
    meta.format = PackedPositions()
    return Schema(
        body=body,
        meta=meta,
        # The unit's heading again (it is in body too), without positions: planning.HEADING.
        heading=TEXT(analyzer=WordTokenizer(), phrase=False),
        ident=TEXT(analyzer=IdentTokenizer(), phrase=False),
        number=ID(),
        document=ID(),
        info=STORED(),
        c_document=COLUMN(columns.NumericColumn("i")),
        c_dossier=COLUMN(columns.NumericColumn("i")),
        c_version=COLUMN(columns.NumericColumn("i")),
        c_date=COLUMN(columns.NumericColumn("i")),
        c_flags=COLUMN(columns.NumericColumn("B")),
        c_kind=COLUMN(columns.RefBytesColumn()),
        c_status=COLUMN(columns.RefBytesColumn()),
        c_supplier=COLUMN(columns.RefBytesColumn()),
        c_reference=COLUMN(columns.RefBytesColumn()),
        # A unit's clause types as one value ("liability insurance"): the distinct sets are
        # few, so filters and facets work on their codes (see _tables.SegmentTable.type_codes).
        c_types=COLUMN(columns.RefBytesColumn()),
    )


def body_text(unit: Unit) -> tuple[str, int]:
    """The indexed body (heading unless the text starts with it, then text) and the text offset."""
    heading = unit.heading.strip()
    if not heading or unit.text.lstrip().startswith(heading):
        return unit.text, 0
    return f"{heading}\n{unit.text}", len(heading) + 1


def clause_number_term(number: str) -> str:
    """The term of a clause number in the ``number`` field: folded, without a trailing dot."""
    return fold(number.strip().rstrip(".")) if number else ""


def to_document(unit: Unit) -> dict[str, Any]:
    """The Whoosh fields of one unit."""
    body, text_start = body_text(unit)
    meta = " \n".join(filter(None, (unit.title, unit.supplier, unit.dossier_reference)))
    ordinal = unit.document_date.toordinal() if unit.document_date else 0
    flags = (
        (FLAG_CURRENT if unit.is_current else 0)
        | (FLAG_CLAUSE if unit.is_clause else 0)
        | (FLAG_DEFINITION if unit.definition else 0)
    )
    values = {
        **unit.__dict__,
        "date": ordinal,
        "text_start": text_start,
        "clause_types": tuple(unit.clause_types),
    }
    number = {"number": clause_number_term(unit.clause_number)} if unit.clause_number else {}
    return {
        **number,
        "body": body,
        "meta": meta,
        "heading": unit.heading,
        "ident": f"{body}\n{meta}",
        "document": str(unit.document_id),
        "info": tuple(values[name] for name in _STORED),
        "c_document": unit.document_id,
        "c_dossier": unit.dossier_id,
        "c_version": unit.version_id,
        "c_date": ordinal,
        "c_flags": flags,
        "c_kind": unit.kind.encode("utf-8"),
        "c_status": unit.dossier_status.encode("utf-8"),
        "c_supplier": unit.supplier.encode("utf-8"),
        "c_reference": unit.dossier_reference.encode("utf-8"),
        "c_types": " ".join(unit.clause_types).encode("utf-8"),
    }


class StoredUnit:
    """The stored values of one unit, as read back for a hit."""

    __slots__ = (*_STORED, "body")

    def __init__(self, info: tuple[Any, ...], body: str) -> None:
        for name, value in zip(_STORED, info, strict=True):
            setattr(self, name, value)
        self.body = body

    @property
    def document_date(self) -> date | None:
        return date.fromordinal(self.date) if self.date else None

    @property
    def text(self) -> str:
        return self.body[self.text_start :]


def stored_unit(fields: dict[str, Any]) -> StoredUnit:
    """Decode Whoosh's stored fields of a unit."""
    return StoredUnit(tuple(fields["info"]), fields.get("body", ""))

"""Search on behalf of a user: the permission sets come from the database at query time.

The index holds no permissions (rule 2 and R5): for every query we pass the dossiers the user
may see and the documents inside them the user may not read, and the index applies both to
hits, totals, facets and snippets alike. When the index is missing or damaged, search falls
back to a slower database search over the same permitted documents while it is rebuilt: the
scanning backend of `search.scan` over the units (built as indexing builds them) of the
documents this module selects with SQL. That backend applies the permission sets and filters
again and matches every unit as the index would, so the fallback differs from the index only
in having no ranking and in being cut off (FALLBACK_LIMIT matching units).
"""

from __future__ import annotations

import enum
import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale

from dossier import access, indexing
from dossier.extensions import db
from dossier.models import (
    REFERENCE_RE,
    Clause,
    Confidentiality,
    Document,
    DocumentKind,
    DocumentVersion,
    Dossier,
    DossierStatus,
    Party,
    User,
)
from ingest.clauses import context_headings
from search.clause_types import type_names
from search.query import parse_query, validate_query
from search.scan import ScanBackend
from search.types import Expansion, Hit, IndexUnavailable, SearchRequest, SearchResult, Unit

# The fallback counts at most this many matching units, from at most this many documents.
FALLBACK_LIMIT = 200
FALLBACK_DOCUMENTS = 200
FALLBACK_BATCH = 20  # documents loaded at once


@dataclass(frozen=True)
class Outcome:
    result: SearchResult
    degraded: bool = False  # the index was unavailable: database fallback, not ranked
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    withheld: frozenset[int] = frozenset()  # confidential documents whose text is not shown


def permission_sets(user: User) -> tuple[frozenset[int], frozenset[int]]:
    """The dossiers `user` may see, and the documents inside them `user` may not read."""
    allowed = frozenset(db.session.scalars(access.visible_dossier_ids(user)))
    if user.is_auditor or not allowed:
        return allowed, frozenset()
    readable = access.visible_documents(user).with_only_columns(Document.id)
    denied = db.session.scalars(
        sa.select(Document.id).where(
            Document.dossier_id.in_(allowed), Document.id.not_in(readable.scalar_subquery())
        )
    )
    return allowed, frozenset(denied)


def search(user: User, text: str, *, other_than: int | None = None, **options: Any) -> Outcome:
    """Run a permission-filtered search; raises search.query.QueryRefused for bad queries.

    `other_than`: leave that dossier out (comparing a clause with those of other dossiers).
    """
    validate_query(text, browse=bool(options.get("clause_types")))
    allowed, denied = permission_sets(user)
    if other_than is not None:
        allowed = allowed - {other_than}
    options.setdefault("time_limit", current_app.config["SEARCH_TIME_LIMIT"])
    request = SearchRequest(text=text, allowed_dossiers=allowed, denied_documents=denied, **options)
    try:
        result = indexing.search_index().search(request)
    except IndexUnavailable:
        # Embedded, this process rebuilds the index; otherwise a worker's next drain does (and
        # with indexing off, as in the tests, nothing may run behind the caller's back).
        if current_app.config["INDEXING"] == "thread":
            indexing.kick(current_app._get_current_object())
        fallback = FALLBACK.search(request)
        shown, withheld = _withhold_confidential_text(fallback)
        return Outcome(shown, degraded=True, facets=fallback.facets, withheld=withheld)
    shown, withheld = _withhold_confidential_text(result)
    return Outcome(shown, facets=result.facets, withheld=withheld)


def is_expensive(text: str) -> bool:
    """Whether a query expands wildcards (rate-limited per user); raises QueryRefused."""
    return parse_query(text).expensive


def expansion_label(expansion: Expansion) -> str:
    """A thesaurus concept's name in the active language ("Aansprakelijkheid" / "Liability")."""
    english = getattr(get_locale(), "language", "") == "en"
    return expansion.label_en if english else expansion.label_nl


def expansion_as_dict(expansion: Expansion) -> dict[str, Any]:
    """A concept the search expanded, for `dossier search --json`."""
    return {
        "concept": expansion.concept,
        "label": {"nl": expansion.label_nl, "en": expansion.label_en},
        "matched": list(expansion.matched),
        "also_searched": list(expansion.terms),
    }


def _withhold_confidential_text(result: SearchResult) -> tuple[SearchResult, frozenset[int]]:
    """The result without the text of confidential documents, and those documents' ids.

    Showing their text is a read, and reads of confidential documents are audited one by one
    when a document is opened; a result list shows where they match (title, clause number,
    page), and opening one shows the text and records the read.
    """
    found = {hit.document_id for hit in result.hits}
    withheld = frozenset(
        db.session.scalars(
            sa.select(Document.id).where(
                Document.id.in_(found), Document.confidentiality == Confidentiality.CONFIDENTIAL
            )
        )
        if found
        else ()
    )
    if not withheld:
        return result, withheld
    hits = [
        replace(hit, heading="", snippet="", text="", clause_types=())
        if hit.document_id in withheld
        else hit
        for hit in result.hits
    ]
    return replace(result, hits=hits), withheld


def hit_as_dict(hit: Hit, clause: bool, withheld: bool = False) -> dict[str, Any]:
    """A hit for `dossier search --json`: ids, where it is, and the text of a clause hit
    (`text_withheld`: a confidential document, whose text shows only when it is opened)."""
    return {
        "document_id": hit.document_id,
        "dossier": hit.dossier_reference,
        "title": hit.title,
        "version": hit.version_number,
        "clause_number": hit.clause_number if clause else None,
        "heading": hit.heading if clause else None,
        "text": hit.text if clause else None,
        "page": hit.page,
        "clause_types": list(hit.clause_types) if clause else None,
        "score": round(hit.score, 4),
        "snippet": plain_snippet(hit.snippet),
        "text_withheld": withheld,
    }


def plain_snippet(snippet: str) -> str:
    """A highlighted HTML snippet as plain text, for terminals and JSON."""
    return html.unescape(re.sub(r"</?mark>", "", snippet))


@dataclass(frozen=True)
class ClauseSource:
    """A clause that a reader compares with the clauses of the same types elsewhere."""

    unit_id: str
    document_id: int
    version_number: int
    dossier_id: int
    dossier_reference: str
    title: str
    number: str
    heading: str
    types: tuple[str, ...]


UNIT_ID_RE = re.compile(r"^(\d{1,18}):(\d{1,9})$")


def clause_source(user: User, unit_id: str) -> ClauseSource | None:
    """The clause of a unit id ("version:position") when `user` may read its document; None
    when it is missing, withdrawn or not readable (the same answer for each)."""
    found = UNIT_ID_RE.match(unit_id)
    if found is None:
        return None
    row = db.session.execute(
        sa.select(Clause, DocumentVersion.number, Document)
        .join(DocumentVersion, Clause.version_id == DocumentVersion.id)
        .join(Document, DocumentVersion.document_id == Document.id)
        .where(Clause.version_id == int(found[1]), Clause.position == int(found[2]))
    ).one_or_none()
    if row is None or not access.can_view_document(user, row.Document):
        return None
    clause, document = row.Clause, row.Document
    headings = {c.position: h for c, h in _headed(clause.version.clauses)}
    return ClauseSource(
        unit_id=unit_id,
        document_id=document.id,
        version_number=row.number,
        dossier_id=document.dossier_id,
        dossier_reference=document.dossier.reference,
        title=document.title,
        number=clause.number,
        heading=headings.get(clause.position, clause.heading),
        types=clause.types,
    )


def _headed(clauses: Sequence[Clause]) -> Iterator[tuple[Clause, str]]:
    """Each clause with the heading search shows for it (its article's, for a sub-clause)."""
    return zip(clauses, context_headings(clauses), strict=True)


def clause_type_choices() -> list[tuple[str, str]]:
    """Every clause type as (id, name in the active language), by name."""
    language = getattr(get_locale(), "language", "nl")
    return sorted(((t.id, t.label(language)) for t in type_names()), key=lambda c: c[1].lower())


def dossier_id_for(user: User, reference: str) -> int | None:
    """The id of a dossier the user may see, for "search within this dossier"."""
    if not REFERENCE_RE.match(reference):
        return None  # malformed (a NUL, say): no dossier has it, and PostgreSQL refuses NUL
    dossier = db.session.scalar(sa.select(Dossier).where(Dossier.reference == reference))
    if dossier is None or not access.can_view_dossier(user, dossier):
        return None
    return dossier.id


def _permitted_units(request: SearchRequest, hints: Sequence[str], every: bool) -> Iterator[Unit]:
    """The database fallback's source (search.scan): the index units, built as indexing
    builds them, of the permitted documents that hold every hint word (with `every`; else any
    of them) somewhere, and of those the units that hold them so (matching analyses every unit
    it gets, which costs time)."""
    candidates = list(db.session.scalars(_candidate_documents(request, hints, every)))
    for start in range(0, len(candidates), FALLBACK_BATCH):
        # A few queries per batch load what units_for reads; it finds the documents in the
        # session for as long as `loaded` holds them (the session only refers to them weakly).
        loaded = db.session.scalars(
            sa.select(Document)
            .where(Document.id.in_(candidates[start : start + FALLBACK_BATCH]))
            .order_by(Document.id)
            .options(
                sa.orm.joinedload(Document.dossier),
                sa.orm.selectinload(Document.versions).selectinload(DocumentVersion.clauses),
            )
        ).unique()
        for document in loaded.all():
            yield from (u for u in indexing.units_for(document.id) or [] if _holds(u, hints, every))


def _holds(unit: Unit, hints: Sequence[str], every: bool) -> bool:
    """Whether a unit's searched text and metadata hold every hint (or, without `every`, any
    hint; no hints: nothing to narrow by)."""
    fields = (unit.heading, unit.text, unit.clause_number, unit.title, unit.supplier)
    searched = " ".join((*fields, unit.dossier_reference)).lower()
    held = (hint in searched for hint in hints)
    return all(held) if every or not hints else any(held)


def _candidate_documents(request: SearchRequest, hints: Sequence[str], every: bool) -> sa.Select:
    """Ids of the permitted documents (filtered as the request asks) that contain each hint
    (without `every`: any hint), lower-case, in a searched version's clauses or file name, or
    in their metadata."""
    query = (
        sa.select(Document.id)
        .join(Dossier, Document.dossier_id == Dossier.id)
        .outerjoin(Party, Dossier.supplier_id == Party.id)
        .where(
            Document.dossier_id.in_(request.allowed_dossiers),
            Document.id.not_in(request.denied_documents),
            Document.withdrawn_at.is_(None),
        )
    )
    if request.dossier_id is not None:
        query = query.where(Document.dossier_id == request.dossier_id)
    for column, chosen, kind in (
        (Document.kind, request.kinds, DocumentKind),
        (Dossier.status, request.statuses, DossierStatus),
    ):
        if chosen:
            query = query.where(column.in_(_members(kind, chosen)))
    if request.suppliers:
        query = query.where(Party.name.in_(request.suppliers))
    if request.clause_types:
        query = query.where(_typed_clause(request))
    holding = [sa.or_(*_meta_holding(hint), _version_holding(hint, request)) for hint in hints]
    if holding:
        query = query.where(sa.and_(*holding) if every else sa.or_(*holding))
    return query.order_by(Document.id).limit(FALLBACK_DOCUMENTS)


def _typed_clause(request: SearchRequest) -> sa.Exists:
    """Condition: a searched version of the document has a clause of a chosen type."""
    padded = sa.literal(" ").concat(Clause.clause_types).concat(" ")
    query = (
        sa.select(Clause.id)
        .join(DocumentVersion, Clause.version_id == DocumentVersion.id)
        .where(
            DocumentVersion.document_id == Document.id,
            sa.or_(*(padded.contains(f" {t} ", autoescape=True) for t in request.clause_types)),
        )
    )
    if not request.include_old_versions:
        query = query.where(DocumentVersion.number == Document.current_version_number)
    return query.exists()


def _members(kind: type[enum.Enum], values: frozenset[str]) -> list[enum.Enum]:
    """The members of an enum among some values (an unknown value matches nothing)."""
    return [kind(value) for value in values if value in kind._value2member_map_]


def _meta_holding(hint: str) -> list[sa.ColumnElement[bool]]:
    """Conditions: a document's title, correspondent, dossier reference or supplier holds it."""
    columns = (Document.title, Document.correspondent, Dossier.reference, Party.name)
    return [sa.func.lower(column).contains(hint, autoescape=True) for column in columns]


def _version_holding(hint: str, request: SearchRequest) -> sa.Exists:
    """Condition: a searched version of the document holds the hint in a clause (text,
    heading, number) or in its file name."""
    query = (
        sa.select(DocumentVersion.id)
        .outerjoin(Clause, Clause.version_id == DocumentVersion.id)
        .where(
            DocumentVersion.document_id == Document.id,
            sa.or_(
                *(
                    sa.func.lower(column).contains(hint, autoescape=True)
                    for column in (
                        Clause.text,
                        Clause.heading,
                        Clause.number,
                        DocumentVersion.original_filename,
                    )
                )
            ),
        )
    )
    if not request.include_old_versions:
        query = query.where(DocumentVersion.number == Document.current_version_number)
    return query.exists()


# The backend of the database fallback: what search answers while the index is unavailable.
FALLBACK = ScanBackend(_permitted_units, limit=FALLBACK_LIMIT)
